"""Sensor readings in the application database: devices, inserts, hourly rollup, purge, tokens.

Plain functions on a :class:`~pilotis.accounts.db.Database`, so that the web view, the command
line and the worker (``rollup`` and ``purge`` are meant to run every few minutes) share them.

Inserts skip duplicates in the database itself (``ON CONFLICT DO NOTHING`` on the primary key
``(device_id, ts)``), so a device or a network server that sends a reading twice, or two workers
receiving the same retry, never store it twice. PostgreSQL receives a batch as one JSON
parameter: one statement and one round trip for 1,000 readings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence

import orjson
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from pilotis.accounts.db import Database, utcnow
from pilotis.accounts.models import SensorDevice, SensorToken
from pilotis.core.sensors import SensorSourceSpec

TOKEN_PREFIX = "pcs_"
"""Upload tokens start with this (« Pilotis capteurs »): easy to spot in a leaked log."""
ROLLUP_WINDOW = dt.timedelta(hours=48)
"""Default rollup window: readings arriving later than this need ``rollup(since=…)``."""
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
"""How SQLAlchemy stores a DateTime in SQLite (always with microseconds): raw inserts write the same."""


def sync_devices(db: Database, sensors: Mapping[str, SensorSourceSpec]) -> dict[tuple[str, str], int]:
    """Copy the devices of `config/sensors/` into ``sensor_devices``; their ids by (source, code).

    Idempotent (several workers starting together: the unique index keeps one row, a loser of
    the race reads the winner's); a device removed from the YAML keeps its row and its readings.
    """
    for attempt in (1, 2):
        try:
            with db.session() as session:
                rows = {(d.source, d.code): d for d in session.scalars(select(SensorDevice))}
                for source_id, spec in sensors.items():
                    for device in spec.devices:
                        row = rows.get((source_id, device.code))
                        if row is None:
                            row = SensorDevice(source=source_id, code=device.code)
                            session.add(row)
                        row.label, row.commune, row.quantity, row.unit = (
                            device.label,
                            device.commune,
                            device.quantity,
                            device.unit,
                        )
                        row.lat, row.lon, row.interval_s = device.lat, device.lon, device.interval
            break
        except IntegrityError:  # a concurrent start inserted the same device: read it again
            if attempt == 2:
                raise
    with db.session() as session:
        return {(d.source, d.code): d.id for d in session.scalars(select(SensorDevice))}


def insert(db: Database, rows: Sequence[tuple[int, dt.datetime, float]]) -> int:
    """Store readings ``(device_id, ts naive UTC, value)``; how many were new (duplicates skipped)."""
    if not rows:
        return 0
    stored = _pg_store(db, rows, None) if db.dialect == "postgresql" else _sqlite_store(db, rows, None)
    assert stored is not None
    return stored


def store(db: Database, source: str, token: str | None, rows: Sequence[tuple[int, dt.datetime, float]]) -> int | None:
    """Store readings if ``token`` is a live upload token of ``source``: how many were new, or None
    (token refused, nothing stored).

    The token is looked up at every request, in the same statement (PostgreSQL) or transaction
    (SQLite) as the insert: a revoked token is refused from the next request on, and costs no
    round trip of its own — no in-process cache of verified tokens is needed (nor would one save
    anything). Both paths use the driver's connection directly: SQLAlchemy's statement machinery
    cost more than the statement itself for a single-reading webhook (``bench/bench_ingest.py``).
    """
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    check = (source, token_hash(token))
    return _pg_store(db, rows, check) if db.dialect == "postgresql" else _sqlite_store(db, rows, check)


_SQLITE_TOKEN = "SELECT 1 FROM sensor_tokens WHERE token_hash = ? AND source = ? AND revoked_at IS NULL"
_SQLITE_INSERT = "INSERT OR IGNORE INTO sensor_readings (device_id, ts, value) VALUES (?, ?, ?)"


def _sqlite_store(
    db: Database, rows: Sequence[tuple[int, dt.datetime, float]], token: tuple[str, str] | None
) -> int | None:
    """SQLite: the token read, then the readings written, in one transaction of the raw driver."""
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        if token and cursor.execute(_SQLITE_TOKEN, (token[1], token[0])).fetchone() is None:
            return None
        if not rows:
            return 0
        cursor.executemany(_SQLITE_INSERT, [(d, t.strftime(SQLITE_TIME), v) for d, t, v in rows])
        stored = max(cursor.rowcount, 0)
        connection.commit()
        return stored
    finally:
        connection.close()  # back to the pool (rolled back there if not committed)


_PG_STORE = """
WITH fast AS (SELECT set_config('synchronous_commit', 'off', true) AS v),
ok AS ({check}),
ins AS (
  INSERT INTO sensor_readings (device_id, ts, value)
  SELECT (r->>0)::integer, (r->>1)::timestamp, (r->>2)::double precision
  FROM json_array_elements(%(rows)s::json) AS r
  WHERE EXISTS (SELECT 1 FROM ok)
  ON CONFLICT DO NOTHING RETURNING 1
)
SELECT (SELECT count(*) FROM ok), (SELECT count(*) FROM ins), (SELECT count(*) FROM fast)
"""
"""One statement: the token (when asked), the readings, and ``synchronous_commit`` off for this
transaction only — a reading acknowledged then lost in a server crash (the last ~0.6 s of commits,
never a corruption) is acceptable; waiting for the disk at every webhook is not.

The readings travel as **one JSON parameter** (``[[device_id, "ts", value], …]``, written by
orjson in C): three PostgreSQL arrays were dumped element by element in Python by the driver and
parsed more slowly by the server — for 1,000 readings 6.7 ms of client CPU and 31 ms in all
against 0.4 ms and 11 ms (measured side by side on the same server)."""
_PG_TOKEN = "SELECT 1 FROM sensor_tokens WHERE token_hash = %(h)s AND source = %(s)s AND revoked_at IS NULL"
_PG_STATEMENTS = {True: _PG_STORE.format(check=_PG_TOKEN), False: _PG_STORE.format(check="SELECT 1")}


def _pg_store(
    db: Database, rows: Sequence[tuple[int, dt.datetime, float]], token: tuple[str, str] | None
) -> int | None:
    """PostgreSQL: one statement in autocommit on the pool without ping (one round trip; psycopg
    prepares it server-side after its fifth use on a connection)."""
    params = {"rows": orjson.dumps(rows).decode(), "s": token[0] if token else "", "h": token[1] if token else ""}
    statement = _PG_STATEMENTS[token is not None]
    pool = db.engine_without_ping()
    for attempt in (1, 2):  # no ping at checkout: one retry on a cut connection (the insert is idempotent)
        connection = pool.raw_connection()
        try:
            allowed, stored, _ = connection.driver_connection.execute(statement, params).fetchone()  # type: ignore[union-attr]
            return int(stored) if allowed else None
        except pool.dialect.loaded_dbapi.OperationalError:  # psycopg's, without importing it for SQLite
            connection.invalidate()  # a dead connection leaves the pool
            if attempt == 2:
                raise
        finally:
            connection.close()
    raise AssertionError("unreachable")  # pragma: no cover


def has_readings(db: Database, device_ids: Iterable[int]) -> bool:
    """Whether any of these devices has a reading (one index probe per device at most)."""
    ids = list(device_ids)
    if not ids:
        return False
    rows = db.read(
        text("SELECT 1 FROM sensor_readings WHERE device_id IN (" + ", ".join(str(int(i)) for i in ids) + ") LIMIT 1")
    )
    return bool(rows)


def _hour_expr(dialect: str) -> str:
    return "date_trunc('hour', ts)" if dialect == "postgresql" else "strftime('%Y-%m-%d %H:00:00.000000', ts)"


def _time_param(db: Database, moment: dt.datetime) -> object:
    return moment if db.dialect == "postgresql" else moment.strftime(SQLITE_TIME)


def rollup(db: Database, since: dt.datetime | None = None, until: dt.datetime | None = None) -> int:
    """(Re)compute the hourly aggregates of the hours in ``[since, until)``; rows written.

    Default: the last 48 hours, so late readings are folded in when the worker next runs;
    whole hours only (``since`` is floored to the hour). Idempotent: an hour computed again
    replaces its row. The range is read through the primary key, device by device.
    """
    until = until or utcnow()
    since = (since or until - ROLLUP_WINDOW).replace(minute=0, second=0, microsecond=0)
    hour = _hour_expr(db.dialect)
    sql = (
        "INSERT INTO sensor_hourly (device_id, hour, n, total, vmin, vmax) "
        f"SELECT device_id, {hour} AS h, count(*), sum(value), min(value), max(value) "
        "FROM sensor_readings WHERE device_id IN (SELECT id FROM sensor_devices) "
        "AND ts >= :since AND ts < :until GROUP BY device_id, h "
        "ON CONFLICT (device_id, hour) DO UPDATE SET n = excluded.n, total = excluded.total, "
        "vmin = excluded.vmin, vmax = excluded.vmax"
    )
    with db.engine.begin() as connection:
        result = connection.execute(text(sql), {"since": _time_param(db, since), "until": _time_param(db, until)})
        return max(result.rowcount, 0)


def purge(db: Database, sensors: Mapping[str, SensorSourceSpec], now: dt.datetime | None = None) -> int:
    """Delete the raw readings older than each source's ``raw_days`` (hourly aggregates stay).

    The aggregates of those hours are computed first, so a purge never loses an hour that the
    rollup has not seen yet.
    """
    now = now or utcnow()
    removed = 0
    for source_id, spec in sensors.items():
        cutoff = now - dt.timedelta(days=spec.raw_days)
        rollup(db, since=cutoff - ROLLUP_WINDOW, until=cutoff)
        with db.engine.begin() as connection:
            result = connection.execute(
                text(
                    "DELETE FROM sensor_readings WHERE device_id IN "
                    "(SELECT id FROM sensor_devices WHERE source = :source) AND ts < :cutoff"
                ),
                {"source": source_id, "cutoff": _time_param(db, cutoff)},
            )
            removed += max(result.rowcount, 0)
    return removed


# --------------------------------------------------------------------------- upload tokens


def token_hash(token: str) -> str:
    """SHA-256 of a token (tokens are 256 random bits: a fast hash is enough, no salt needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(db: Database, source: str, label: str = "", by: str | None = None) -> tuple[int, str]:
    """A new upload token of ``source``: its id and its value (shown once, stored hashed)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.session() as session:
        row = SensorToken(source=source, token_hash=token_hash(token), label=label, created_by=by)
        session.add(row)
        session.flush()
        return row.id, token


def revoke_token(db: Database, token_id: int) -> bool:
    """Revoke a token by id (refused from the next request on); False when unknown or already revoked."""
    with db.session() as session:
        result = session.execute(
            update(SensorToken)
            .where(SensorToken.id == token_id, SensorToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def list_tokens(db: Database, source: str | None = None) -> list[SensorToken]:
    """Tokens (never their value), newest first."""
    query = select(SensorToken).order_by(SensorToken.id.desc())
    if source:
        query = query.where(SensorToken.source == source)
    with db.session() as session:
        return list(session.scalars(query))


def token_allows(db: Database, source: str, token: str | None) -> bool:
    """True when ``token`` is a live upload token of ``source`` (the lookup :func:`store` makes)."""
    return store(db, source, token, []) is not None


def device_codes(ids: Mapping[tuple[str, str], int], source: str) -> dict[str, int]:
    """The device ids of one source, by code."""
    return {code: device_id for (src, code), device_id in ids.items() if src == source}


def as_rows(
    ids: Mapping[str, int], readings: Iterable[tuple[str, dt.datetime, float]]
) -> list[tuple[int, dt.datetime, float]]:
    """``(code, ts, value)`` → ``(device_id, ts, value)`` (codes unknown here are skipped)."""
    return [(ids[code], ts, value) for code, ts, value in readings if code in ids]
