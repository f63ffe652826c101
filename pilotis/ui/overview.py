"""Synthesis dashboards (``overview: true``, the president's « Pilotage »): the page grid.

The load-time rules (which indicators each widget shows, which thematic dashboards show each
indicator) are in :mod:`pilotis.core.usage`. At render time, :func:`widget_cards` lays out the
widgets a user may see — a widget whose indicator comes from a dashboard they may not open is
not in the page at all (and its callback answers 403, see ``pilotis.web.enforce``) — and drops
the section headings left empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
from dash import html

from pilotis.core.access import Principal, can_view
from pilotis.core.i18n import t
from pilotis.core.usage import visible_widgets
from pilotis.ui.components import aria

if TYPE_CHECKING:
    from pilotis.core.registry import Dashboard
    from pilotis.ui.portal import Portal


def widget_cards(portal: Portal, dashboard: Dashboard, lang: str, principal: Principal | None, card: Any) -> list[Any]:
    """The grid of a dashboard page for ``principal`` (``card`` draws one widget)."""
    cards = []
    for widget in visible_widgets(principal, portal.registry, dashboard):
        if widget.type == "section":
            cards.append(section(portal, widget, lang, principal))
        else:
            cards.append(card(portal, dashboard, widget, lang))
    return cards


def section(portal: Portal, widget: Any, lang: str, principal: Principal | None) -> dbc.Col:
    """A theme heading of a synthesis dashboard, with a link to its thematic dashboard."""
    children: list[Any] = [html.H2(widget.title, className="h5 mb-0")]
    target = portal.registry.dashboards.get(widget.dashboard) if widget.dashboard else None
    if target is not None and can_view(principal, target.spec):
        children.append(
            html.A(
                [
                    t("open_dashboard", lang, title=target.spec.title),
                    html.I(className="bi bi-arrow-right ms-1", **aria(hidden="true")),
                ],
                href=target.spec.url,
                className="pilotis-drill small",
            )
        )
    body: list[Any] = [html.Div(children, className="d-flex flex-wrap align-items-baseline gap-3")]
    if widget.description:
        body.append(html.P(widget.description, className="small text-muted mb-0"))
    return dbc.Col(html.Div(body, className="pilotis-section"), xs=12, className="mb-2 mt-2")
