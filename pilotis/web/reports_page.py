"""Commission reports and dashboard PDFs, for the signed-in user.

- ``/rapports``: the reports the user may see (:func:`pilotis.core.access.can_view_report`);
- ``/rapports/<id>``: a form (territory, year) whose « Générer le PDF » opens
- ``/rapports/<id>.pdf?territoire=…&periode=…``: the PDF computed with the user's rights and row
  scope (:mod:`pilotis.core.report_content`, :mod:`pilotis.core.report_pdf`);
- ``/exports/<dashboard>.pdf?territoire=…&annee=…``: every widget of a dashboard as filtered on
  the page (a dashboard is a report with one section per widget the user may see); a widget's own
  controls are ``<widget>-<name>`` parameters (``comparer-t1=epci:200083392``).

Answers as the widget exports (:mod:`pilotis.web.exports`): anonymous → login page; unknown or
not allowed → 404 (never 403: the address does not tell whether it exists), the refusal audited;
a parameter the page could not have sent → 400 naming it; else 200 ``application/pdf``,
``Cache-Control: no-store``, audited (``report``: user, report, territory, year, size).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import flask
from werkzeug.wrappers import Response as WerkzeugResponse

from pilotis.core.access import (
    Principal,
    can_view,
    can_view_report,
    can_view_widget,
    territory_allowed,
    territory_scope,
)
from pilotis.core.exports import MAX_CONTROL_LENGTH, BadExportRequest
from pilotis.core.i18n import t
from pilotis.core.report_config import ReportSpec
from pilotis.core.report_content import Filters, compute, dashboard_report, read_filters, report_years
from pilotis.core.report_pdf import render_pdf
from pilotis.core.territory import Territory
from pilotis.core.widgets import WIDGET_TYPES
from pilotis.ui.portal import Portal
from pilotis.web.auth_pages import page_context
from pilotis.web.context import current_lang
from pilotis.web.enforce import audit, current_principal, login_url
from pilotis.web.responses import error_page

bp = flask.Blueprint("pilotis_reports", __name__, template_folder="templates")
PATH = "/rapports"


def _portal() -> Portal:
    portal: Portal = flask.current_app.extensions["pilotis"]
    return portal


def _signed_in() -> Principal | WerkzeugResponse:
    principal = current_principal()
    if principal is None:
        return flask.redirect(login_url(flask.request.full_path.rstrip("?")), code=302)
    return principal


def _pdf_response(pdf: bytes, name: str) -> flask.Response:
    response = flask.Response(pdf, content_type="application/pdf")
    response.headers["Content-Disposition"] = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
    response.headers["Cache-Control"] = "no-store"  # computed with one user's rights: never kept for another
    return response


def _file_name(ident: str, filters: Filters) -> str:
    parts = [ident, filters.territory.value.replace(":", "-")] + ([str(filters.year)] if filters.year else [])
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in "-".join(parts)) + ".pdf"


def territory_choices(portal: Portal, principal: Principal | None) -> list[tuple[str, str]]:
    """``(value, label)`` of the territories the user may choose (inside their restriction)."""
    index = portal.territories
    scope = territory_scope(principal, index)
    dep = portal.registry.portal.collectivite.code_departement
    found = [(Territory("departement", dep), t("reports_all_territory"))]
    found += [(Territory("epci", code), name) for code, name in index.epcis.items()]
    found += [(Territory("commune", code), name) for code, name in sorted(index.communes.items(), key=lambda kv: kv[1])]
    return [(place.value, label) for place, label in found if territory_allowed(scope, place, index)]


def generate(
    portal: Portal,
    spec: ReportSpec,
    principal: Principal | None,
    filters: Filters,
    lang: str,
    controls: dict[str, dict[str, str]] | None = None,
) -> bytes:
    """The PDF of ``spec`` for ``principal`` (who may see it: checked by the caller)."""
    registry = portal.registry
    content = compute(spec, registry, portal.data, portal.territories, principal, filters, lang=lang, controls=controls)
    return render_pdf(content, portal.settings.root / "assets", lang)


@bp.route(PATH, methods=["GET"])
def reports_list() -> Any:
    """The reports the user may generate."""
    principal = _signed_in()
    if not isinstance(principal, Principal):
        return principal
    portal = _portal()
    found = [r for r in portal.registry.reports.values() if can_view_report(principal, r, portal.registry)]
    return flask.render_template("pilotis/reports.html", reports=found, **page_context())


@bp.route(f"{PATH}/<name>", methods=["GET"])
def report(name: str) -> Any:
    """The form of a report (``<id>``) or its PDF (``<id>.pdf``)."""
    principal = _signed_in()
    if not isinstance(principal, Principal):
        return principal
    portal = _portal()
    ident, _, ext = name.partition(".")
    spec = portal.registry.reports.get(ident)
    if spec is None or ext not in ("", "pdf"):
        flask.abort(404)
    if not can_view_report(principal, spec, portal.registry):
        audit("access_denied", principal, f"rapport {ident}", "rapport non autorisé")
        flask.abort(404)
    lang = current_lang(portal.settings.lang)
    if ext == "":
        years = report_years(spec, portal.registry, portal.data)
        return flask.render_template(
            "pilotis/report_form.html",
            report=spec,
            territories=territory_choices(portal, principal),
            default_territory=spec.filters.territory,
            years=years,
            **page_context(),
        )
    args = flask.request.args
    try:
        filters = read_filters(
            spec, portal.registry, portal.data, portal.territories, args.get("territoire"), args.get("periode")
        )
    except BadExportRequest as bad:
        return error_page(portal, 400, t("reports_bad_request", lang), bad.message)
    pdf = generate(portal, spec, principal, filters, lang)
    audit(
        "report",
        principal,
        f"rapport {ident}",
        f"territoire {filters.territory.value}, année {filters.year or 'la plus récente'}, {len(pdf) // 1024} ko",
    )
    return _pdf_response(pdf, _file_name(ident, filters))


exports_bp = flask.Blueprint("pilotis_dashboard_pdf", __name__, url_prefix="/exports")


@exports_bp.route("/<filename>", methods=["GET"])
def dashboard_pdf(filename: str) -> WerkzeugResponse:
    """``/exports/<dashboard>.pdf``: the dashboard as filtered (``territoire``, ``annee``)."""
    principal = _signed_in()
    if not isinstance(principal, Principal):
        return principal
    portal = _portal()
    ident, _, ext = filename.rpartition(".")
    dashboard = portal.registry.dashboards.get(ident)
    if dashboard is None or ext != "pdf":
        flask.abort(404)
    if not can_view(principal, dashboard.spec):
        audit("access_denied", principal, f"export {ident}.pdf", "tableau de bord non autorisé")
        flask.abort(404)
    lang = current_lang(portal.settings.lang)
    full = dashboard_report(dashboard)
    visible = [
        s for s in full.sections if s.widget is None or can_view_widget(principal, portal.registry, dashboard, s.widget)
    ]
    spec = full.model_copy(update={"sections": visible or full.sections[:0]})
    args = flask.request.args
    year = args.get("annee") or None
    try:
        filters = read_filters(
            spec,
            portal.registry,
            portal.data,
            portal.territories,
            args.get("territoire") or None,
            "latest" if year in (None, "all") else year,  # « toute la période »: the latest year
        )
    except BadExportRequest as bad:
        message = bad.message.replace("« periode »", "« annee »").replace("“periode”", "“annee”")
        return error_page(portal, 400, t("reports_bad_request", lang), message)
    controls: dict[str, dict[str, str]] = {}
    for widget in dashboard.widgets:
        for name, _ in WIDGET_TYPES[widget.type].inputs(widget) if widget.type in WIDGET_TYPES else ():
            value = args.get(f"{widget.id}-{name}")
            if value is not None and len(value) > MAX_CONTROL_LENGTH:
                return error_page(portal, 400, t("reports_bad_request", lang), t("export_bad_control", lang, name=name))
            if value:
                controls.setdefault(widget.id, {})[name] = value
    started = dt.datetime.now(dt.UTC)
    pdf = generate(portal, spec, principal, filters, lang, controls)
    audit(
        "export",
        principal,
        f"export {ident}.pdf",
        f"format pdf, territoire {filters.territory.value}, année {filters.year or 'la plus récente'}, "
        f"{len(pdf) // 1024} ko, {(dt.datetime.now(dt.UTC) - started).total_seconds():.1f} s",
    )
    return _pdf_response(pdf, _file_name(ident, filters))
