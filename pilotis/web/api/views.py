"""The API's addresses (blueprint ``pilotis_api``, under ``/api/v1``) and their wiring.

Every view asks the one access decision (:mod:`pilotis.core.access`) for the caller of the
bearer token (:func:`pilotis.web.api.auth.caller`) and reads through
:meth:`pilotis.core.scope.Scope.for_principal` (row rules, territory restriction), like the pages.
"""

from __future__ import annotations

from typing import Any

import flask
from werkzeug.exceptions import HTTPException

from pilotis.core.access import RowsDenied, can_view, can_view_indicator, can_view_widget
from pilotis.core.evaluator import Evaluator
from pilotis.core.freshness import observing
from pilotis.core.registry import Dashboard
from pilotis.core.schema import WidgetBase
from pilotis.core.sources import SourceError
from pilotis.core.widgets import WIDGET_TYPES
from pilotis.ui.portal import Portal, render_key
from pilotis.web.api import auth, datasets, docs_page, errors, indicators, openapi, output, params
from pilotis.web.api.errors import NOT_FOUND, ApiError

bp = flask.Blueprint("pilotis_api", __name__, url_prefix="/api/v1")
bp.before_request(auth.authenticate)


def _portal() -> Portal:
    portal: Portal = flask.current_app.extensions["pilotis"]
    return portal


@bp.errorhandler(Exception)
def _error(error: Exception) -> flask.Response:
    if isinstance(error, RowsDenied):
        return errors.response(ApiError("hors_perimetre"))
    if isinstance(error, SourceError):
        return errors.response(ApiError("source_indisponible"))
    return errors.from_exception(error)


# --------------------------------------------------------------------------- description


@bp.get("/openapi.json")
def openapi_document() -> flask.Response:
    """The OpenAPI 3.1 document of this API (public: it names no dataset)."""
    answer = flask.jsonify(openapi.document())
    answer.headers["Cache-Control"] = "public, max-age=3600"
    return answer


@bp.get("/docs")
def documentation() -> flask.Response:
    """The documentation page, drawn on the server from the OpenAPI document (no script)."""
    return flask.Response(docs_page.render(openapi.document()), mimetype="text/html")


# --------------------------------------------------------------------------- datasets


@bp.get("/datasets")
def list_datasets() -> flask.Response:
    """The datasets the caller may query."""
    portal, principal = _portal(), auth.caller()
    registry = portal.registry
    found = [datasets.describe(d, registry.datasets[d].config) for d in datasets.visible(portal, principal)]
    return output.json_body({"datasets": found})


@bp.get("/datasets/<dataset_id>")
def get_dataset(dataset_id: str) -> flask.Response:
    """One dataset's description (404 when missing or forbidden)."""
    portal = _portal()
    config = datasets.checked(portal, auth.caller(), dataset_id)
    return output.json_body(datasets.describe(dataset_id, config))


@bp.get("/datasets/<dataset_id>/query")
def query_dataset(dataset_id: str) -> flask.Response:
    """An aggregate of the dataset: measures, groups, filters, period, territory, one page."""
    portal, principal = _portal(), auth.caller()
    config = datasets.checked(portal, principal, dataset_id)
    fmt = params.output_format()
    frame, meta = datasets.run_query(portal, principal, dataset_id, config)
    if fmt == "csv":
        return output.csv_body(frame, dataset_id)
    body = {"dataset": dataset_id, **meta, "stale": output.stale(frame), "columns": output.columns(frame)}
    body["secret"] = output.secret(frame)
    body["rows"] = output.rows(frame)
    return output.json_body(body)


# --------------------------------------------------------------------------- dashboards and widgets


def _widgets(portal: Portal, dashboard: Dashboard) -> list[WidgetBase]:
    principal = auth.caller()
    return [w for w in dashboard.widgets if can_view_widget(principal, portal.registry, dashboard, w.id)]


@bp.get("/dashboards")
def list_dashboards() -> flask.Response:
    """The dashboards the caller may open, with the widgets they may see."""
    portal, principal = _portal(), auth.caller()
    found = [
        {
            "id": dashboard.id,
            "title": dashboard.spec.title,
            "description": dashboard.spec.description,
            "url": dashboard.spec.url,
            "widgets": [
                {"id": w.id, "type": w.type, "title": w.title, "dataset": getattr(w, "dataset", None)}
                for w in _widgets(portal, dashboard)
            ],
        }
        for dashboard in portal.registry.ordered()
        if can_view(principal, dashboard.spec)
    ]
    return output.json_body({"dashboards": found})


@bp.get("/dashboards/<dashboard_id>/widgets/<widget_id>")
def widget_data(dashboard_id: str, widget_id: str) -> flask.Response:
    """What a widget shows for these filters (``WidgetType.data``), as the page computes it."""
    portal, principal = _portal(), auth.caller()
    dashboard = portal.registry.dashboards.get(dashboard_id)
    if dashboard is None or not can_view(principal, dashboard.spec):
        raise NOT_FOUND
    widget = next((w for w in _widgets(portal, dashboard) if w.id == widget_id), None)
    if widget is None:
        raise NOT_FOUND
    fmt = params.output_format()
    territory, year = params.territory(portal), params.year()
    ctx = portal.render_context(
        dashboard,
        territory.value if territory else None,
        str(year) if year is not None else None,
        principal=principal,
    )
    # The same shared rendered-widget cache as the page, under the page's key (render_key: the
    # widget's configuration, the filters as resolved for this caller, and every right that decides
    # what he sees — department, roles incl. statistical-secrecy exemptions, territory, grants)
    # prefixed by "api": a caller gets an answer computed for callers with exactly his rights.
    # The answer also names the territory and year asked, which the page's key leaves out for a
    # widget that reads neither (`territory: all`): they are added here.
    key = None if fmt == "csv" else render_key(dashboard, widget, ctx, principal)
    if key is not None:
        key = (key, ctx.territory.value, ctx.year)
        found, cached = portal.rendered.get(("api", key))
        if found:
            return output.json_body(cached)
    with observing() as seen:
        frame = WIDGET_TYPES[widget.type].data(widget, ctx)
    if fmt == "csv":
        return output.csv_body(frame, f"{dashboard_id}-{widget_id}")
    body: dict[str, Any] = {
        "dashboard": dashboard_id,
        "widget": widget_id,
        "type": widget.type,
        "territory": ctx.territory.value,
        "year": ctx.year,
        "exact": bool(frame.attrs.get("exact", True)),
        "stale": output.stale(frame),
        "columns": output.columns(frame),
        "secret": output.secret(frame),
        "rows": output.rows(frame),
    }
    return output.json_body(body if key is None else portal.rendered.put(("api", key), body, seen))


# --------------------------------------------------------------------------- indicators


@bp.get("/indicators")
def list_indicators() -> flask.Response:
    """The indicators the caller may see."""
    portal, principal = _portal(), auth.caller()
    registry = portal.registry
    found = [
        indicators.describe(i)
        for i in sorted(registry.indicators.values(), key=lambda i: i.id)
        if can_view_indicator(principal, registry, i.id)
    ]
    return output.json_body({"indicators": found})


@bp.get("/indicators/<indicator_id>")
def indicator_value(indicator_id: str) -> flask.Response:
    """The indicator's value and its comparisons for a territory and a year."""
    portal, principal = _portal(), auth.caller()
    indicator = portal.registry.indicators.get(indicator_id)
    if indicator is None or not can_view_indicator(principal, portal.registry, indicator_id):
        raise NOT_FOUND
    territory, year = params.territory(portal), params.year()
    scope = datasets.portal_scope(portal, principal, territory, year, all_years=False)
    result = Evaluator(scope, indicator).result(indicators.COMPARE, sparkline=indicators.SPARKLINE)
    return output.json_body(indicators.value_body(indicator, scope, result))


# --------------------------------------------------------------------------- wiring


def install(server: flask.Flask) -> None:
    """Register the API on ``server``: blueprint, cookie-less sessions, no CSRF (no cookie is
    read), JSON for unknown ``/api`` addresses and refused methods."""
    server.session_interface = auth.ApiSessionInterface()
    server.register_blueprint(bp)
    server.extensions["csrf"].exempt(bp)

    @server.route("/api", defaults={"rest": ""})
    @server.route("/api/<path:rest>")
    def api_unknown(rest: str) -> flask.Response:
        return errors.not_found()

    @server.errorhandler(405)
    def method_not_allowed(error: HTTPException) -> Any:
        if auth.is_api(flask.request.path):
            return errors.response(ApiError("methode_non_autorisee"))
        return error
