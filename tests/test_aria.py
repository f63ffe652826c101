"""The ``aria-*`` and ``data-*`` attributes the engine's pages carry reach the browser.

Dash renders them from wildcard keywords that its typed signatures cannot name; the pages pass
them through ``pilotis.ui.components.aria`` / ``data_attributes``. These tests read the layout as
Dash sends it (the JSON of the component tree), so a helper that dropped or renamed an attribute
would fail here, not silently in a screen reader.
"""

from __future__ import annotations

import json
from typing import Any

import plotly.utils
import pytest
from dash import html

from pilotis.core.access import Principal
from pilotis.core.widgets import WIDGET_TYPES, RenderContext
from pilotis.ui import pages
from pilotis.ui.components import aria, data_attributes, notice, scroll_region
from pilotis.ui.portal import Portal
from tests.helpers import expand_static


def _sent(component: Any) -> list[dict[str, Any]]:
    """Every component's props of the tree, as the JSON Dash sends to dash-renderer."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "props" in node and "type" in node:
                found.append({"type": node["type"], **node["props"]})
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(expand_static(json.loads(json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder))))
    return found


def test_the_helpers_name_the_attributes_as_html_does() -> None:
    assert aria(label="Filtres", hidden="true") == {"aria-label": "Filtres", "aria-hidden": "true"}
    assert data_attributes(dashboard="rsa", page_size="10") == {"data-dashboard": "rsa", "data-page-size": "10"}


def test_shared_components_carry_their_aria_attributes() -> None:
    region = _sent(scroll_region("tableau", "Données du graphique"))
    assert region[0]["aria-label"] == "Données du graphique"
    assert region[0]["role"] == "region"
    icons = [p for p in _sent(notice("Aucune donnée")) if p["type"] == "I"]
    assert icons and all(p["aria-hidden"] == "true" for p in icons)


def test_a_dashboard_page_names_its_regions_and_hides_its_icons(portal: Portal) -> None:
    dashboard = portal.registry.dashboards["rsa"]
    admin = Principal("admin", "dgs", frozenset({"admin"}))
    sent = _sent(pages.dashboard_page(portal, dashboard, "fr", principal=admin))
    assert "Filtres" in {p.get("aria-label") for p in sent}
    # Each widget's region is named by its own heading (which carries the heading's lang too).
    headings = {p["id"]: p["children"] for p in sent if p["type"] == "H2" and "id" in p}
    named = {headings.get(p.get("aria-labelledby")) for p in sent if p["type"] == "Section"}
    assert {w.title for w in dashboard.widgets if w.title and w.type != "section"} <= named
    icons = [p for p in sent if p["type"] == "I"]
    assert icons and all(p.get("aria-hidden") == "true" for p in icons)
    present = next(p for p in sent if p["type"] == "A" and p.get("href") == "/seance/d/rsa")
    assert present["data-dashboard"] == "rsa"


def test_the_shell_names_its_navigation(portal: Portal) -> None:
    sent = _sent(pages.shell(portal, portal.registry.ordered(), "fr"))
    navs = {p.get("aria-label") for p in sent if p["type"] == "Nav"}
    assert "Navigation principale" in navs


def test_a_static_widget_is_drawn_with_a_real_context(portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    """``render(widget, ctx)`` always gets a :class:`RenderContext`: a static widget (drawn once with
    the page, no callback) gets the page's language, not ``None``."""
    seen: list[RenderContext] = []

    class Probe(WIDGET_TYPES["markdown"]):  # type: ignore[misc, valid-type]
        @classmethod
        def render(cls, widget: Any, ctx: RenderContext) -> Any:
            seen.append(ctx)
            return html.P(f"langue {ctx.lang}")

    monkeypatch.setitem(WIDGET_TYPES, "markdown", Probe)
    dashboard = portal.registry.dashboards["rsa"]
    markdown = next(w for w in dashboard.widgets if w.type == "markdown")
    sent = _sent(pages.widget_card(portal, dashboard, markdown, "en"))
    assert any(p["type"] == "P" and p.get("children") == "langue en" for p in sent)
    assert isinstance(seen[0], RenderContext) and seen[0].dashboard is dashboard
