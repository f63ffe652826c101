"""Pilotis: the app factory. ``python app.py`` runs the development server; gunicorn uses ``server``."""

from __future__ import annotations

import logging
import sys

import flask
from dash import Dash

from pilotis.core import logs
from pilotis.core.cache import make_cache
from pilotis.core.data import DataService
from pilotis.core.errors import ConfigError, StartupError
from pilotis.core.instance_secret import with_demo_key
from pilotis.core.loader import registry_for
from pilotis.core.routes import served_by_server
from pilotis.core.settings import Settings
from pilotis.plugins import register_builtins
from pilotis.ui.portal import Portal
from pilotis.web import (
    access_requests_page,
    anomaly_pages,
    csp,
    dcat_export,
    enforce,
    first_paint,
    metrics,
    referents_page,
    request_limits,
    search_page,
    sensors_api,
    sso_backchannel,
    static_cache,
)
from pilotis.web.admin import bp as admin_bp
from pilotis.web.admin_sources import bp as sources_bp
from pilotis.web.admin_tokens import bp as admin_tokens_bp
from pilotis.web.alerts import bp as alerts_bp
from pilotis.web.api import views as api
from pilotis.web.api_tokens_page import bp as tokens_bp
from pilotis.web.auth import bp as auth_bp
from pilotis.web.auth import install_auth
from pilotis.web.exports import bp as exports_bp
from pilotis.web.health import bp as health_bp
from pilotis.web.metrics import bp as metrics_bp
from pilotis.web.reports_page import bp as reports_bp
from pilotis.web.reports_page import exports_bp as dashboard_pdf_bp
from pilotis.web.request_id import RequestIdMiddleware
from pilotis.web.sso import bp as sso_bp
from pilotis.web.wiring import install, page_status


def create_app(settings: Settings | None = None) -> Dash:
    """Build the Flask server, the Dash app and the dashboard registry for ``settings``.

    Raises :class:`ConfigError` (with every problem of every file) when the YAML is invalid.
    """
    settings = with_demo_key(settings or Settings.from_env())  # demo mode: this installation's key
    logs.configure(settings.log_format, keep_text=True)  # json: one object per line, with the request id
    register_builtins()  # the shipped widget and source types (layouts/, data_sources/)
    registry = registry_for(settings)
    cache = make_cache(settings.cache_url, settings.cache_prefix)
    portal = Portal(settings=settings, registry=registry, data=DataService(registry.datasets, cache))
    server = flask.Flask(__name__)
    server.extensions["pilotis"] = portal
    app = Dash(
        __name__,
        server=server,  # type: ignore[arg-type]  # documented (a Flask instance), not in Dash's annotation
        title=registry.portal.title,
        assets_folder=str(settings.root / "assets"),
        assets_ignore=first_paint.PLOTLY_IGNORED,  # plotly.js: loaded when a chart comes into view
        suppress_callback_exceptions=True,
        serve_locally=True,
        compress=True,
        update_title=None,  # type: ignore[arg-type]  # documented (no « Updating… » title), not annotated
    )
    static_cache.install(server, settings.root / "assets")  # after Dash's compression hook: runs before it
    # Dynamic answers (callbacks, pages): gzip at level 1 from one TCP packet up. Level 6 (the
    # default) took 2.7 ms for the RSA map's 33 kB of JSON for 15 % less than level 1 (0.4 ms),
    # on every filter change; below ~1.4 kB compressing saves no round trip. Static files are
    # compressed once, at the best level, by static_cache.
    server.config.update(COMPRESS_LEVEL=1, COMPRESS_MIN_SIZE=1400)
    enforce.install(app, portal)  # before any other hook: every Dash endpoint asks access.can_view
    install_auth(server, portal)  # database, sessions, CSRF
    # Every blueprint, here and only here (their addresses are in pilotis/core/routes.py).
    server.register_blueprint(auth_bp)  # /login, /logout
    server.register_blueprint(sso_bp)  # /sso/<provider>: OpenID Connect sign-in
    sso_backchannel.install(server)  # /sso/backchannel-logout: the provider ends sessions (no CSRF)
    server.register_blueprint(admin_bp)  # /admin/audit
    server.register_blueprint(sources_bp)  # /admin/sources: état des sources, manual refresh
    server.register_blueprint(exports_bp)  # /exports/<dashboard>/<widget>.<csv|xlsx>: widget data as files
    server.register_blueprint(reports_bp)  # /rapports, /rapports/<id>, /rapports/<id>.pdf: commission reports
    server.register_blueprint(dashboard_pdf_bp)  # /exports/<dashboard>.pdf: a dashboard as filtered, in PDF
    server.register_blueprint(admin_tokens_bp)  # /admin/jetons: every API token, service accounts
    server.register_blueprint(tokens_bp)  # /compte/jetons: personal API tokens
    server.register_blueprint(access_requests_page.bp)  # /compte/acces: access requests and decisions
    api.install(server)  # /api/v1: bearer tokens only, no session cookie
    sensors_api.install(server, portal)  # /capteurs/<source>/releves: readings in (token, no CSRF)
    server.register_blueprint(referents_page.bp)  # /referents: the referents directory
    server.register_blueprint(search_page.bp)  # /recherche: the header's search results
    server.register_blueprint(dcat_export.bp)  # /donnees.ttl: publishable datasets in DCAT-AP
    referents_page.install(server, portal)  # who holds each referent role now (history), vacancies
    server.register_blueprint(health_bp)  # /healthz, /readyz (supervision, no sign-in)
    server.register_blueprint(metrics_bp)  # /metrics (bearer token)
    metrics.install(app, registry)  # callback latency by dashboard and widget
    server.register_blueprint(alerts_bp)  # /alertes: current alerts, history, acknowledgement, silences
    server.register_blueprint(anomaly_pages.bp)  # /signalements: « Signaler une anomalie », inbox, follow-up

    @server.before_request
    def unknown_pages() -> flask.Response | None:
        path = flask.request.path
        if path == "/" or served_by_server(path):  # answered by Flask itself, not a Dash page
            return None
        if page_status(portal, path) == 404:
            flask.abort(404)
        return None

    install(app, portal)
    request_limits.install(app, settings)  # body limit (413), unknown Dash bundles (404)
    csp.install(app)  # Content-Security-Policy: Dash's inline scripts by hash, nothing external
    server.wsgi_app = RequestIdMiddleware(server.wsgi_app)  # type: ignore[method-assign]  # outermost: every answer
    return app


def _server() -> flask.Flask:
    try:
        return create_app().server
    except (ConfigError, StartupError) as exc:
        print(exc.report(), file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    current = Settings.from_env()
    try:
        application = create_app(current)
    except (ConfigError, StartupError) as error:
        print(error.report(), file=sys.stderr)
        raise SystemExit(1) from None
    watched = [str(p) for p in (current.config_dir.rglob("*.yaml"))] + [
        str(p) for p in current.dashboards_dir.glob("*.yaml")
    ]
    application.run(
        host=current.host, port=current.port, debug=current.debug, extra_files=watched if current.debug else None
    )


def __getattr__(name: str) -> flask.Flask:
    """``app:server`` for gunicorn, built on first access (importing this module stays cheap)."""
    if name == "server":
        value = _server()
        globals()["server"] = value
        return value
    raise AttributeError(name)
