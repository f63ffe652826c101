"""The request id of every request, and one access line per request (WSGI middleware).

Outermost layer of the app (``app.py`` wraps ``server.wsgi_app`` last): every answer carries
``X-Request-ID`` — the one nginx sent (``proxy_set_header X-Request-ID $request_id``) when it is
well-formed, a new one otherwise — including the answers given before Flask (demo loopback guard,
413), and every log line written meanwhile carries it (:mod:`pilotis.core.logs`). The time the
request started is left in the WSGI environment for the metrics (:mod:`pilotis.web.metrics`).

The access line (logger ``pilotis.access``, INFO: written when logging is configured, e.g.
``PILOTIS_LOG_FORMAT=json``) gives method, path (without the query string: display-link tokens
travel there), status and duration — no client address, no user.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from pilotis.core.logs import REQUEST_ID, request_id_from

HEADER = "X-Request-ID"
ENVIRON_ID = "pilotis.request_id"
ENVIRON_START = "pilotis.request_start"
access_log = logging.getLogger("pilotis.access")


class RequestIdMiddleware:
    """WSGI middleware: request id in, request id out, one access line."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        started = time.perf_counter()
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        environ[ENVIRON_ID] = request_id
        environ[ENVIRON_START] = started
        status_seen: list[str] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status_seen.append(status)
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"] + [(HEADER, request_id)]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        token = REQUEST_ID.set(request_id)
        try:
            body = self.app(environ, start)
        finally:
            REQUEST_ID.reset(token)
        if access_log.isEnabledFor(logging.INFO):
            status = status_seen[-1].split(" ", 1)[0] if status_seen else "-"
            access_log.info(
                "%s %s %s",
                environ.get("REQUEST_METHOD", "-"),
                environ.get("PATH_INFO", "-"),
                status,
                extra={
                    "request_id": request_id,
                    "method": environ.get("REQUEST_METHOD", "-"),
                    "path": environ.get("PATH_INFO", "-"),
                    "status": int(status) if status.isdigit() else status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
        return body
