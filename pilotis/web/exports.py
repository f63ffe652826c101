"""``/exports/<dashboard>/<widget>.<csv|xlsx>``: a widget's data as a file, for the signed-in user.

The same decision and the same figures as the page: :func:`pilotis.core.access.can_view_widget`
(the dashboard, and on a synthesis dashboard the indicators the widget shows), then
``WidgetType.data(widget, ctx)`` with ``ctx`` from :meth:`Portal.render_context` — the scope a
widget callback renders with (territory clamped to the user's restriction, their row rules in
every query). Answers:

- anonymous: 302 to the login page (then back here);
- a dashboard or widget that does not exist, has no data, or that the user may not see: 404 with
  the usual page (never 403: the address does not tell whether it exists); refusals are audited;
- a filter value the page could not have sent: 400 naming the parameter (French);
- rows that cannot be restricted to the user's territory: 403 (they see the dashboard already);
- more rows than ``PILOTIS_EXPORT_MAX_ROWS``: 422 with the count and the limit;
- else 200, the file streamed in chunks, ``Cache-Control: no-store``, audited (``export``: user,
  dashboard, widget, format, rows, filters).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from urllib.parse import quote

import flask
from werkzeug.wrappers import Response as WerkzeugResponse

from pilotis.core.access import RowsDenied, can_view, can_view_widget
from pilotis.core.export_formats import csv_chunks, xlsx_chunks
from pilotis.core.exports import (
    FORMATS,
    BadExportRequest,
    ExportRequest,
    about,
    exportable,
    file_name,
    read_request,
    table,
    widget_datasets,
)
from pilotis.core.i18n import t
from pilotis.core.registry import Dashboard
from pilotis.core.schema import WidgetBase
from pilotis.core.sources import SourceError
from pilotis.core.territory import Territory
from pilotis.core.widgets import WIDGET_TYPES
from pilotis.ui.portal import Portal
from pilotis.web.context import current_lang
from pilotis.web.enforce import audit, current_principal, login_url
from pilotis.web.responses import error_page

bp = flask.Blueprint("pilotis_exports", __name__, url_prefix="/exports")

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _portal() -> Portal:
    portal: Portal = flask.current_app.extensions["pilotis"]
    return portal


def widget_request(
    portal: Portal, dashboard: Dashboard, widget: WidgetBase, args: Mapping[str, str], fmt: str, lang: str
) -> ExportRequest:
    """The filters and controls of a widget's export (or anomaly report) read from the query
    string as the page writes them; :class:`BadExportRequest` names the parameter that is wrong."""
    return read_request(
        args,
        fmt,
        known_territory=lambda value: _known_territory(portal, value),
        years=_years(portal, dashboard),
        controls=[name for name, _ in WIDGET_TYPES[widget.type].inputs(widget)],
        lang=lang,
    )


def _years(portal: Portal, dashboard: Dashboard) -> list[int]:
    """The years the page's period filter offers (none without a period filter)."""
    spec = dashboard.spec.filters.period
    if spec is None:
        return []
    try:
        return portal.data.years(spec.dataset)
    except SourceError:  # the page then offers « toute la période » only
        return []


def _known_territory(portal: Portal, value: str) -> bool:
    """``value`` is written as the page writes it (``epci:200083392``) and names a known territory."""
    parsed = Territory.parse(value, portal.registry.portal.collectivite.code_departement)
    return parsed.value == value and portal.territories.is_known(parsed)


@bp.route("/<dashboard_id>/<filename>", methods=["GET"])
def export(dashboard_id: str, filename: str) -> WerkzeugResponse:
    """A widget's data as CSV or XLSX (see the module docstring for every answer)."""
    portal = _portal()
    principal = current_principal()
    if principal is None:
        return flask.redirect(login_url(flask.request.full_path.rstrip("?")), code=302)
    widget_id, _, fmt = filename.rpartition(".")
    dashboard = portal.registry.dashboards.get(dashboard_id)
    widget = next((w for w in dashboard.widgets if w.id == widget_id), None) if dashboard else None
    if dashboard is None or widget is None or fmt not in FORMATS or not exportable(widget):
        flask.abort(404)
    if not can_view_widget(principal, portal.registry, dashboard, widget.id):
        reason = "widget" if can_view(principal, dashboard.spec) else "tableau de bord"
        audit("access_denied", principal, f"export {dashboard.id}/{widget.id}", f"{reason} non autorisé")
        flask.abort(404)
    lang = current_lang(portal.settings.lang)
    kind = WIDGET_TYPES[widget.type]
    try:
        request = widget_request(portal, dashboard, widget, flask.request.args, fmt, lang)
    except BadExportRequest as bad:
        return error_page(portal, 400, t("export_bad_request", lang), bad.message)
    ctx = portal.render_context(
        dashboard, request.territory, request.period, lang, principal=principal, controls=dict(request.controls)
    )
    try:
        frame = kind.data(widget, ctx)
    except RowsDenied:
        return error_page(portal, 403, t("export_bad_request", lang), t("out_of_scope", lang))
    except SourceError:
        source = " / ".join(d.title for d in widget_datasets(portal.registry, widget).values()) or widget.id
        return error_page(portal, 503, t("export_bad_request", lang), t("export_source_failed", lang, source=source))
    limit = portal.settings.export_max_rows
    if len(frame) > limit:
        message = t("export_too_many_rows", lang, count=len(frame), limit=limit)
        return error_page(portal, 422, t("export_bad_request", lang), message)
    header = about(portal.registry, dashboard, widget, ctx, dt.datetime.now(dt.UTC), lang)
    content = table(frame, header, lang)
    name = file_name(dashboard, widget, request, fmt)
    variant = f" ({request.variant})" if fmt == "csv" else ""
    audit(
        "export",
        principal,
        f"export {dashboard.id}/{widget.id}",
        f"format {fmt}{variant}, {len(frame)} lignes, territoire {ctx.territory.value}, année {ctx.year or 'toutes'}",
    )
    if fmt == "csv":
        chunks = csv_chunks(content, request.variant)
    else:
        chunks = xlsx_chunks(content, t("export_data_sheet", lang), t("export_about_sheet", lang))
    response = flask.Response(chunks, content_type=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
    response.headers["Cache-Control"] = "no-store"  # what a user may see: never kept for another
    return response
