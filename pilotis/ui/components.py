"""Small Dash building blocks shared by the engine's pages and by widget types (``layouts/``).

They live on the ``ui`` floor so that the engine (portal, notices, catalogue pages) can use them
without importing the ``layouts`` extension package, which sits above it.
"""

from __future__ import annotations

from typing import Any, Literal

from dash import html


def scroll_region(table: Any, label: str, *, labelledby: str | None = None) -> html.Div:
    """A wide table's box, scrolled sideways on small screens. It takes the focus so that the
    keyboard can scroll it too (axe ``scrollable-region-focusable``), and is named by ``label``
    (or by the element ``labelledby``, e.g. the table's caption, which may carry its own lang)."""
    name: dict[str, Any] = {"aria-labelledby": labelledby} if labelledby else {"aria-label": label}
    return html.Div(table, className="table-responsive", tabIndex="0", role="region", **name)


def notice(text: str, kind: Literal["info", "warning", "danger"] = "info") -> html.Div:
    """A short message inside a widget (never a traceback)."""
    icon = {"info": "bi-info-circle", "warning": "bi-exclamation-triangle", "danger": "bi-x-octagon"}[kind]
    return html.Div(
        [html.I(className=f"bi {icon} me-1", **{"aria-hidden": "true"}), text],
        className=f"pilotis-notice alert alert-{kind} py-1 px-2 mb-2 small",
        role="status",
    )
