"""What a report on a widget carries: the page, the filters and the values the sender saw.

The values are computed as the page computes them — ``WidgetType.data(widget, ctx)`` with ``ctx``
from :meth:`Portal.render_context` (the territory clamped to the sender's restriction, their row
rules in every query), after :func:`pilotis.core.access.can_view_widget` — so a report never
carries a figure its sender could not see. The filters are read from the address exactly as an
export reads them (:func:`pilotis.core.exports.read_request`): a value the page could not have
sent is a 400 naming the parameter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import flask

from pilotis.core.access import Principal, RowsDenied, can_view, can_view_widget
from pilotis.core.exports import BadExportRequest, about, exportable, table
from pilotis.core.formatting import format_number
from pilotis.core.registry import Dashboard
from pilotis.core.schema import WidgetBase
from pilotis.core.sources import SourceError
from pilotis.core.widget_referent import Answerer, answerer, candidate_roles
from pilotis.core.widgets import WIDGET_TYPES
from pilotis.ui.portal import Portal
from pilotis.web.enforce import audit
from pilotis.web.exports import widget_request
from pilotis.web.referent_state import departed_accounts

MAX_ROWS = 20
"""Rows of the widget's data attached to a report (the first ones; the count says the rest)."""


class NotFound(Exception):
    """No such dashboard or widget, or one the sender may not see (404: naming nothing)."""


class BadFilter(Exception):
    """A filter value the page could not have sent (400, French message naming the parameter)."""


@dataclass(frozen=True)
class WidgetView:
    """A widget as its sender saw it, and who answers for it."""

    dashboard: Dashboard
    widget: WidgetBase
    params: dict[str, str]
    """The filters of the address (``territoire``, ``annee``, the widget's own controls)."""
    filters: list[tuple[str, str]]
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    total: int = 0
    answerer: Answerer = field(default_factory=lambda: Answerer("admin"))

    @property
    def title(self) -> str:
        """« Observatoire du RSA — Foyers allocataires »."""
        return f"{self.dashboard.spec.title} — {self.widget.title or self.widget.description or self.widget.id}"

    @property
    def page(self) -> str:
        """The page's address with the filters chosen."""
        query = urlencode(sorted(self.params.items()))
        return self.dashboard.spec.url + (f"?{query}" if query else "")

    def filters_text(self) -> str:
        """« Territoire : Laval ; Période : 2019 »."""
        return " ; ".join(f"{label} : {value}" for label, value in self.filters) or "—"

    def shown_text(self) -> str:
        """The values as a text table (one line per row, cells separated by « | »)."""
        if not self.headers:
            return ""
        lines = [" | ".join(self.headers), *(" | ".join(row) for row in self.rows)]
        if self.total > len(self.rows):
            lines.append(f"… {self.total - len(self.rows)} ligne(s) de plus ({self.total} en tout)")
        return "\n".join(lines)


def _cell(value: Any, lang: str) -> str:
    """A value as the sender reads it (French numbers, ISO dates)."""
    if value is None or (isinstance(value, float) and value != value):  # NaN
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return format_number(value, 0 if float(value).is_integer() else 2, lang)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    return str(value)


def widget_view(portal: Portal, principal: Principal, args: Any, lang: str) -> WidgetView:
    """The widget named by ``tableau`` and ``widget`` in ``args`` with its filters and values for
    ``principal``; :class:`NotFound` (audited when refused) or :class:`BadFilter`."""
    registry = portal.registry
    dashboard = registry.dashboards.get(str(args.get("tableau", ""))[:64])
    widget_id = str(args.get("widget", ""))[:64]
    widget = next((w for w in dashboard.widgets if w.id == widget_id), None) if dashboard else None
    if dashboard is None or widget is None:
        raise NotFound
    if not can_view_widget(principal, registry, dashboard, widget.id):
        reason = "widget" if can_view(principal, dashboard.spec) else "tableau de bord"
        audit("access_denied", principal, f"signalement {dashboard.id}/{widget.id}", f"{reason} non autorisé")
        raise NotFound
    kind = WIDGET_TYPES[widget.type]
    try:
        request = widget_request(
            portal, dashboard, widget, {k: v for k, v in args.items() if k != "variante"}, "csv", lang
        )
    except BadExportRequest as bad:
        raise BadFilter(bad.message) from None
    params = {k: v for k, v in (("territoire", request.territory), ("annee", request.period)) if v}
    params.update(request.controls)
    ctx = portal.render_context(
        dashboard, request.territory, request.period, lang, principal=principal, controls=dict(request.controls)
    )
    header = about(registry, dashboard, widget, ctx, dt.datetime.now(dt.UTC), lang)
    filters = [header[1], header[2], *sorted(request.controls.items())]
    departed = departed_accounts(portal)
    who = answerer(registry.referents, departed, candidate_roles(registry, dashboard, widget))
    view = WidgetView(dashboard, widget, params, filters, answerer=who)
    if not exportable(widget):
        return view
    try:
        frame = kind.data(widget, ctx)
    except (RowsDenied, SourceError):  # the page shows no values either
        return view
    content = table(frame, header)
    rows = [[_cell(v, lang) for v in record] for record in content.frame.head(MAX_ROWS).itertuples(index=False)]
    return WidgetView(dashboard, widget, params, filters, list(content.headers), rows, len(frame), who)


def current_args() -> Any:
    """The query string (GET) or the form's hidden fields (POST)."""
    return flask.request.values
