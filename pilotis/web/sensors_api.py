"""``POST /capteurs/<source>/releves``: sensors post their readings here (no session, no CSRF).

The caller is a device, a gateway or a LoRaWAN network server, never a browser: it proves itself
with an upload token of the source (``Authorization: Bearer pcs_…``), which is worth nothing
anywhere else (it reads no page, no callback, no export: those only know sessions and display
links). So the route is exempt from CSRF (no cookie authenticates it), and a session cookie sent
along is neither read nor set (``/capteurs/`` is cookieless like ``/api/``).

Order of the checks, cheapest first: unknown source (404), rate limit per source and client
address (429, before the token so that guessing tokens is throttled too), a token of the right
shape (401), then every reading checked alone (:mod:`pilotis.core.sensor_formats`), then the token
in the database together with the insert (:func:`pilotis.accounts.sensor_store.store`: one
statement on PostgreSQL) — a refused token gets 401 and nothing about its readings. The good
readings are stored, duplicates skipped, and the answer lists the refused ones: HTTP 400 when
there is one, naming the device and the field, the rest of the batch being kept. Every other
answer (unreadable JSON, oversized batch, ignored event) is given only to a valid token too.

When readings were stored, the alert rules reading that source are evaluated at once, in the
background (:mod:`pilotis.accounts.alert_trigger`): the answer does not wait for them.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import deque
from typing import Any

import flask
import orjson

from pilotis.accounts import sensor_store
from pilotis.accounts.alert_notify import AlertOptions
from pilotis.accounts.alert_trigger import IngestTrigger
from pilotis.accounts.db import Database, get_db, utcnow
from pilotis.core.sensor_formats import check, detect, items_of
from pilotis.core.sensor_simulation import Model, quarter, steps
from pilotis.core.sensors import SensorSourceSpec
from pilotis.ui.portal import Portal
from pilotis.web.api.auth import ApiSessionInterface

log = logging.getLogger(__name__)
bp = flask.Blueprint("pilotis_sensors", __name__, url_prefix="/capteurs")
DEVICE_IDS = "pilotis_sensor_devices"
LIMITER = "pilotis_sensor_limiter"
TRIGGER = "pilotis_alert_trigger"


class RateLimiter:
    """Sliding one-minute window of requests per key, in this worker's memory.

    Each gunicorn worker counts for itself: with ``w`` workers a client may reach ``w`` times
    the limit at worst — the limit protects the database from a runaway device, it is not a
    quota. Kept on the app (``server.extensions``), never in a module global.
    """

    def __init__(self, window: float = 60.0) -> None:
        self.window = window
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: tuple[str, str], limit: int, now: float | None = None) -> float:
        """0 when allowed (and counted), else the seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= limit:
                return hits[0] + self.window - now
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle clients (addresses are not unbounded)
                for other in [k for k, v in self._hits.items() if not v]:
                    del self._hits[other]
            return 0.0


def _answer(status: int, **body: Any) -> flask.Response:
    return flask.Response(orjson.dumps(body), status, {"Cache-Control": "no-store"}, mimetype="application/json")


def _unauthorized() -> flask.Response:
    response = _answer(401, erreur="jeton", message="jeton d'envoi absent, invalide ou révoqué")
    response.headers["WWW-Authenticate"] = 'Bearer realm="capteurs"'
    return response


def _lang() -> str:
    best = flask.request.accept_languages.best_match(["fr", "en"])
    return best or "fr"


def _body() -> Any:
    """The decoded JSON body; None when it is not JSON (content type or syntax), as
    ``request.get_json(silent=True)`` — decoded by orjson, several times faster on a batch."""
    if not flask.request.is_json:
        return None
    try:
        return orjson.loads(flask.request.get_data(cache=False))
    except orjson.JSONDecodeError:
        return None


def _bearer() -> str | None:
    header = flask.request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


@bp.route("/<source>/releves", methods=["POST"])
def post_readings(source: str) -> flask.Response:
    """Store the readings of a request (see the module docstring for the answers)."""
    portal: Portal = flask.current_app.extensions["pilotis"]
    spec = portal.registry.sensors.get(source)
    if spec is None:
        return _answer(404, erreur="source_inconnue", message=f"source de capteurs « {source} » inconnue")
    limiter: RateLimiter = flask.current_app.extensions[LIMITER]
    wait = limiter.allow((source, flask.request.remote_addr or ""), spec.rate_limit)
    if wait > 0:
        response = _answer(429, erreur="trop_de_requetes", message="trop de requêtes : réessayez dans une minute")
        response.headers["Retry-After"] = str(max(1, int(wait + 0.999)))
        return response
    token = _bearer()
    if not token or not token.startswith(sensor_store.TOKEN_PREFIX):
        return _unauthorized()
    db = get_db()
    body = _body()
    if body is None:
        if sensor_store.store(db, source, token, []) is None:
            return _unauthorized()
        return _answer(400, erreur="json", message="corps illisible : JSON attendu (Content-Type: application/json)")
    kind = detect(body, flask.request.args.get("event"))
    if kind == "chirpstack" and flask.request.args.get("event", "up") != "up":
        if sensor_store.store(db, source, token, []) is None:
            return _unauthorized()
        return _answer(200, format=kind, acceptes=0, doublons=0, refuses=[], ignore="événement autre que `up`")
    items = items_of(body, kind)
    if len(items) > spec.max_batch:
        if sensor_store.store(db, source, token, []) is None:
            return _unauthorized()
        return _answer(413, erreur="lot", message=f"lot trop grand : {spec.max_batch} relevés au plus par requête")
    accepted, refused = check(items, source, spec, utcnow())
    ids: dict[str, int] = flask.current_app.extensions[DEVICE_IDS].get(source, {})
    rows = sensor_store.as_rows(ids, ((r.device.code, r.ts, r.value) for r in accepted))
    stored = sensor_store.store(db, source, token, rows)  # the token is checked here
    if stored is None:
        return _unauthorized()  # nothing stored, nothing said about the readings
    if stored:  # the alert rules reading this source, in the background (not before the newest reading)
        flask.current_app.extensions[TRIGGER].kick(source, max(reading.ts for reading in accepted))
    if refused:
        log.info("capteurs %s : %d relevé(s) refusé(s) sur %d", source, len(refused), len(items))
        lang = _lang()
        answers = [refusal.as_json(lang) for refusal in refused]
        return _answer(400, format=kind, acceptes=stored, doublons=len(rows) - stored, refuses=answers)
    return _answer(200, format=kind, acceptes=stored, doublons=len(rows) - stored, refuses=[])


def seed_demo(db: Database, source: str, spec: SensorSourceSpec, ids: dict[str, int]) -> int:
    """Demo mode: 48 h of simulated readings for a `simulated: true` source that has none yet.

    So that the « Surveillance des crues » dashboard is not empty on a fresh demo; live readings
    come from ``python -m pilotis sensors simulate`` (over HTTP, like devices). Call it under
    :meth:`Database.startup_lock` (as :func:`install` does): of several workers starting together,
    the first writes the rows and the others find them there, instead of each writing them again.
    Returns how many rows were written (0: nothing to do).
    """
    if not spec.simulated or sensor_store.has_readings(db, ids.values()):
        return 0
    now = quarter(utcnow())
    model = Model(spec, now - dt.timedelta(hours=18), 60.0, 53)
    rows = [
        (ids[device.code], moment, model.value(device, moment))
        for moment in steps(now - dt.timedelta(hours=48), now)
        for device in spec.devices
    ]
    log.warning("mode démonstration : 48 h de relevés simulés écrits pour la source de capteurs %s", source)
    return sensor_store.insert(db, rows)


def install(server: flask.Flask, portal: Portal) -> None:
    """Devices copied to the database, the rate limiter, the alert trigger, the route exempt from
    CSRF and without session cookie (neither read nor set); in demo mode, simulated readings for
    an empty simulated source (:func:`seed_demo`).

    Call after :func:`pilotis.web.auth.install_auth` (the database and CSRF exist then) and
    :func:`pilotis.web.api.install` (its session interface leaves machine addresses cookieless).
    """
    db = get_db(server)
    ids = sensor_store.sync_devices(db, portal.registry.sensors)
    by_source = {source: sensor_store.device_codes(ids, source) for source in portal.registry.sensors}
    server.extensions[DEVICE_IDS] = by_source
    if portal.settings.mode == "demo":
        with db.startup_lock():  # once per installation, not once per worker (see seed_demo)
            for source, spec in portal.registry.sensors.items():
                seed_demo(db, source, spec, by_source[source])
    server.extensions[LIMITER] = RateLimiter()
    server.extensions[TRIGGER] = IngestTrigger(
        db,
        portal.registry,
        lambda: portal.territories,
        lambda: AlertOptions.from_env(portal.settings.secret_key),
    )
    server.extensions["csrf"].exempt(bp)
    if isinstance(server.session_interface, ApiSessionInterface):  # see pilotis.web.api.install
        server.session_interface.without_cookie(f"{bp.url_prefix}/")
    server.register_blueprint(bp)
