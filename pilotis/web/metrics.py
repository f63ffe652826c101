"""``/metrics`` (Prometheus text format) and the timing of every Dash callback.

Access: ``Authorization: Bearer <PILOTIS_METRICS_TOKEN>``; without a configured token the address
answers 404. Not « loopback only »: behind nginx on the same machine every request comes from
127.0.0.1 (the address is only rewritten by ProxyFix when PILOTIS_PROXIES is set, and a mistake
there would open the metrics to the Internet); a token holds whatever the proxy set-up. The
sample nginx configuration also refuses ``/metrics`` from outside (``deploy/nginx.conf``).

Callbacks are timed from the start of the request (:mod:`pilotis.web.request_id`) to the
response, labelled by dashboard and widget of the configuration — ids taken from the callback's
``output`` and kept only when the registry knows them (``_autre`` otherwise), so a client cannot
create label values. The work per request is a dictionary lookup and one histogram observation
(``bench/bench_metrics.py``).
"""

from __future__ import annotations

import hmac
import time

import flask
from dash import Dash
from werkzeug.exceptions import HTTPException

from pilotis.core import metrics
from pilotis.core.registry import Registry
from pilotis.web.request_id import ENVIRON_START

bp = flask.Blueprint("pilotis_metrics", __name__)
UPDATE = "_dash-update-component"


def authorised(header: str | None, token: str) -> bool:
    """The ``Authorization`` header carries the bearer ``token`` (constant-time comparison)."""
    if not token or not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer ") :].strip().encode(), token.encode())


@bp.route("/metrics", methods=["GET"])
def exposition() -> flask.Response:
    """The metrics of every process of this instance (multi-process under gunicorn)."""
    token = flask.current_app.extensions["pilotis"].settings.metrics_token
    if not token:
        flask.abort(404)
    if not authorised(flask.request.headers.get("Authorization"), token):
        response = flask.Response("jeton requis\n", status=401, content_type="text/plain; charset=utf-8")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body, content_type = metrics.exposition()
    response = flask.Response(body, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response


def callback_labels(registry: Registry, output: object) -> tuple[str, str]:
    """``(dashboard, widget)`` of a callback's ``output`` (``rsa--foyers.children``), known ids only."""
    if not isinstance(output, str):
        return metrics.OTHER, metrics.OTHER
    component = output.lstrip(".").split(".", 1)[0]
    dashboard = registry.owner_of(component)
    if dashboard is None:
        return metrics.OTHER, metrics.OTHER
    widget = component.partition("--")[2]
    known = any(w.id == widget for w in dashboard.widgets)
    return dashboard.id, widget if known else metrics.OTHER


def install(app: Dash, registry: Registry) -> None:
    """Time every callback of ``app`` (after_request: the response is computed by then)."""
    server = app.server
    endpoint = app.config.routes_pathname_prefix + UPDATE

    @server.after_request
    def time_callback(response: flask.Response) -> flask.Response:
        request = flask.request
        if request.endpoint != endpoint:
            return response
        started = request.environ.get(ENVIRON_START)
        if started is None:
            return response
        output = None
        if response.status_code != 413:  # a body refused for its size is never read
            try:
                body = request.get_json(silent=True)  # parsed already by the access check: cached
            except HTTPException:
                body = None
            output = body.get("output") if isinstance(body, dict) else None
        dashboard, widget = callback_labels(registry, output)
        status = f"{response.status_code // 100}xx"
        metrics.CALLBACK_SECONDS.labels(dashboard, widget, status).observe(time.perf_counter() - started)
        return response
