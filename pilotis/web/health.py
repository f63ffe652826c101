"""``/healthz`` (the process answers) and ``/readyz`` (it can serve: database, cache, sources),
for the load balancer and the supervision.

- ``/healthz``: 200 ``{"status": "ok"}`` without touching the database, the cache or a source: a
  liveness probe must not restart a healthy process because PostgreSQL is down.
- ``/readyz``: 200 when the application database and the cache backend answer, else 503 (nginx or
  the orchestrator stops sending visitors to this instance). Each source's last known state
  (``ok``, ``failing``, ``unknown``) is listed but does not make the instance unready: a failing
  source is just as failing on every instance, and the portal keeps serving its last good data —
  taking every instance out would turn one source's outage into the whole portal's.

Neither says anything secret: no URL, no path, no error message (they go to the logs), only the
names of the checks and the dataset ids of the configuration. No sign-in needed (probes have no
session), and no cookie is read.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import flask
from sqlalchemy import text

from pilotis.accounts.db import get_db
from pilotis.ui.portal import Portal

bp = flask.Blueprint("pilotis_health", __name__)
log = logging.getLogger(__name__)


def _answer(payload: dict[str, Any], status: int) -> flask.Response:
    response = flask.jsonify(payload)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/healthz", methods=["GET", "HEAD"])
def healthz() -> flask.Response:
    """The process is alive (no database, no cache, no source)."""
    return _answer({"status": "ok"}, 200)


def _database() -> str:
    try:
        get_db().read(text("SELECT 1"))
        return "ok"
    except Exception:  # noqa: BLE001 - any failure means « not ready »; the detail goes to the log only
        log.exception("readyz : base de données injoignable")
        return "error"


def _cache(portal: Portal) -> str:
    cache = portal.data.cache
    token = secrets.token_hex(8)
    try:
        # Per instance probe, holds a random token only (nothing about a user or the data).
        cache.set("health:ready", token, 30)
        found, value = cache.get("health:ready")
    except Exception:  # noqa: BLE001 - see _database
        log.exception("readyz : cache injoignable")
        return "error"
    if found and value == token:
        return "ok"
    log.error("readyz : le cache ne rend pas ce qui vient d'y être écrit")
    return "error"


def sources(portal: Portal) -> dict[str, str]:
    """Each dataset's last known state: ``ok``, ``failing`` or ``unknown`` (never asked yet)."""
    states = {}
    for dataset in sorted(portal.registry.datasets):
        status = portal.data.last_status(dataset)
        states[dataset] = "failing" if status.failing else ("ok" if status.last_success else "unknown")
    return states


@bp.route("/readyz", methods=["GET", "HEAD"])
def readyz() -> flask.Response:
    """200 when the database and the cache answer (503 otherwise), with each source's state."""
    portal: Portal = flask.current_app.extensions["pilotis"]
    checks = {"database": _database(), "cache": _cache(portal)}
    ready = all(value == "ok" for value in checks.values())
    payload = {"status": "ready" if ready else "unavailable", "checks": checks, "sources": sources(portal)}
    return _answer(payload, 200 if ready else 503)
