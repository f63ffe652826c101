"""Small Dash building blocks shared by the engine's pages and by widget types (``layouts/``).

They live on the ``ui`` floor so that the engine (portal, notices, catalogue pages) can use them
without importing the ``layouts`` extension package, which sits above it.
"""

from __future__ import annotations

from typing import Any, Literal

from dash import html


def aria(**attributes: str) -> dict[str, Any]:
    """``aria-*`` attributes for a Dash HTML component: ``html.I(className=…, **aria(hidden="true"))``.

    Dash renders any ``aria-*`` keyword, but its typed signatures cannot name them; a dict typed
    ``dict[str, Any]`` passes them through mypy without an ignore (a literal ``**{"aria-x": "…"}`` does
    not: mypy checks its ``str`` values against every declared keyword). Write the attribute's own
    name: ``aria(labelledby=…)`` -> ``aria-labelledby``.
    """
    return {f"aria-{name}": value for name, value in attributes.items()}


def data_attributes(**attributes: str) -> dict[str, Any]:
    """``data-*`` attributes for a Dash HTML component (``data_attributes(dashboard="rsa")``), typed as :func:`aria`."""
    return {f"data-{name.replace('_', '-')}": value for name, value in attributes.items()}


def scroll_region(table: Any, label: str, *, labelledby: str | None = None) -> html.Div:
    """A wide table's box, scrolled sideways on small screens. It takes the focus so that the
    keyboard can scroll it too (axe ``scrollable-region-focusable``), and is named by ``label``
    (or by the element ``labelledby``, e.g. the table's caption, which may carry its own lang)."""
    name = aria(labelledby=labelledby) if labelledby else aria(label=label)
    return html.Div(table, className="table-responsive", tabIndex="0", role="region", **name)


def notice(text: str, kind: Literal["info", "warning", "danger"] = "info") -> html.Div:
    """A short message inside a widget (never a traceback)."""
    icon = {"info": "bi-info-circle", "warning": "bi-exclamation-triangle", "danger": "bi-x-octagon"}[kind]
    return html.Div(
        [html.I(className=f"bi {icon} me-1", **aria(hidden="true")), text],
        className=f"pilotis-notice alert alert-{kind} py-1 px-2 mb-2 small",
        role="status",
    )


def graph_config(lang: str) -> dict[str, Any]:
    """dcc.Graph config: French locale, no plotly logo, no toolbar, no external links.

    No toolbar (``displayModeBar``): its zoom / pan / PNG buttons are mouse-only, unnamed for a
    screen reader and added 5 to 7 Tab stops per chart; the data are in « Voir les données ».
    """
    return {
        "locale": lang,
        "displaylogo": False,
        "displayModeBar": False,
        "responsive": True,
        # plotly.js 4 adds "Share chart..." (sendChartToCloud): it uploads the figure's data to
        # Plotly Cloud. Never on an internal portal of confidential data.
        "modeBarButtonsToRemove": ["lasso2d", "select2d", "sendDataToCloud", "sendChartToCloud", "editInChartStudio"],
        "showSendToCloud": False,
        # Geo plots load a base map (topojson) even when it is hidden; by default from a CDN,
        # which an air-gapped intranet cannot reach (the map then stays blank).
        "topojsonURL": "/assets/vendor/plotly-topojson/",
        "toImageButtonOptions": {"format": "png", "scale": 2},
    }
