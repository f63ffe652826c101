"""Benchmark of sensor ingestion (``POST /capteurs/<source>/releves``) and of the two hot reads.

For each database (a SQLite file; PostgreSQL at 127.0.0.1:5432 when it answers, in a schema of
its own dropped afterwards), the app runs under gunicorn (2 workers, as in production) with an
extra empty endpoint behind the same hooks (``bench/ingest_wsgi.py``):

1. **single reading** — wrk (1 thread, 8 connections) posts one reading per request, each with
   its own timestamp (every one is stored), against the empty endpoint posted the same body:
   the ratio is the share of the empty endpoint's requests/s that ingestion keeps
   (target ≥ 50 %). Two turns of 4 s of each, alternated (empty, single, empty, single): on a
   shared machine whose load changes within seconds, one 8 s measure of each in a row gave
   ratios from 19 % to 54 % for the same code;
2. **batches of 1,000** — 4 client threads post 1,000-reading batches (all new): readings
   stored per second (target ≥ 20,000/s on PostgreSQL);
3. **reads at a large table** — ``--rows`` readings (1 M by default: 10 M takes minutes to
   generate on 2 cores, ``--rows 10000000`` does it) spread over the 32 devices of
   `config/sensors/crues-mayenne.yaml`, then the two questions dashboards and alerts ask, as
   the ``capteurs`` source asks them (``SensorReadings.run``, no cache): « last value of every
   sensor » (``view: latest``) and « one sensor, last 24 h » (``view: raw, window: 24h``),
   median of 20 runs — against the same questions on a table of 10,000 readings: a ratio near 1
   means the cost does not grow with the table (the primary key ``(device_id, ts)`` is used).

Usage: ``python bench/bench_ingest.py [--rows N] [--quick]`` (about 1.5 min on 2 cores).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, fmt, free_port, load_average, md_table, stop_process_group  # noqa: E402

sys.path.insert(0, str(ROOT))

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SOURCE = "crues-mayenne"
DEVICE = "mayenne-laval"
ROUNDS = 2
"""Turns of the empty endpoint and of the single-reading webhook, alternated."""
WRK_SCRIPT = """
counter = 0
request = function()
  counter = counter + 1
  local ts = os.date("!%%Y-%%m-%%dT%%H:%%M:%%SZ", %d - counter)
  local body = '{"device":"%s","ts":"' .. ts .. '","value":1.5}'
  return wrk.format("POST", "%s", {["Content-Type"]="application/json", ["Authorization"]="Bearer %s"}, body)
end
"""


@contextlib.contextmanager
def pg_url() -> Iterator[str | None]:
    """A URL on a fresh schema of the local PostgreSQL, or None when it does not answer."""
    try:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        admin = create_engine(PG_BASE, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        schema = f"pilotis_bench_ingest_{secrets.token_hex(4)}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception:  # noqa: BLE001 - no server: the PostgreSQL rows are skipped
        yield None
        return
    try:
        yield make_url(PG_BASE).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@contextlib.contextmanager
def server(instance: Path, url: str) -> Iterator[str]:
    """gunicorn (2 workers) serving bench/ingest_wsgi.py on a free loopback port."""
    port = free_port()
    config = instance / "config"  # the shipped configuration, the rate limit lifted (wrk sends thousands/min)
    shutil.copytree(ROOT / "config", config)
    sensors = config / "sensors" / f"{SOURCE}.yaml"
    sensors.write_text(re.sub(r"(?m)^rate_limit: \d+", "rate_limit: 1000000", sensors.read_text("utf-8")), "utf-8")
    env = dict(os.environ, PILOTIS_INSTANCE_DIR=str(instance), PILOTIS_DATABASE_URL=url, PILOTIS_MODE="demo")
    env["PILOTIS_CONFIG_DIR"] = str(config)
    env["PYTHONPATH"] = f"{ROOT}:{ROOT / 'bench'}"
    log = open(instance / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    command = [
        str(Path(sys.executable).parent / "gunicorn"), "ingest_wsgi:server", "-b", f"127.0.0.1:{port}", "-w", "2",
        "--no-control-socket", "--pid", str(instance / "gunicorn.pid"), "--log-level", "warning",
    ]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/login", timeout=2).read()  # noqa: S310 - loopback
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((instance / "gunicorn.log").read_text(errors="replace")[-2000:]) from None
                time.sleep(0.3)
        yield base
    finally:
        stop_process_group(proc)
        log.close()


def wrk(url: str, script: str, seconds: int) -> float:
    """Requests per second of ``wrk -t1 -c8`` running ``script``; non-2xx answers are an error."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            ["wrk", "-t1", "-c8", f"-d{seconds}s", "-s", handle.name, url],
            capture_output=True, text=True, timeout=seconds + 30, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(handle.name)
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk: answers other than 2xx\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def batches(base: str, token: str, count: int, size: int = 1000, threads: int = 4) -> float:
    """Readings stored per second, ``count`` batches of ``size`` new readings over ``threads`` clients."""
    start = dt.datetime(2020, 1, 1)
    devices = [f"pluvio-{n}" for n in ("53007001", "53018002", "53048001", "53077001")]
    bodies = []
    for b in range(count):
        readings = [
            {
                "device": devices[b % 4],
                "ts": (start + dt.timedelta(seconds=b * size + i)).isoformat() + "Z",
                "value": 1.0,
            }
            for i in range(size)
        ]
        bodies.append(json.dumps({"readings": readings}).encode())
    stored = [0] * threads
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def client(k: int) -> None:
        for body in bodies[k::threads]:
            request = urllib.request.Request(f"{base}/capteurs/{SOURCE}/releves", data=body, headers=headers)
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
                stored[k] += json.loads(response.read())["acceptes"]

    began = time.perf_counter()
    workers = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    assert sum(stored) == count * size, f"{sum(stored)} stored of {count * size}"
    return sum(stored) / elapsed


def fill(db: Any, rows: int) -> float:
    """``rows`` readings over every device of the source, every 15 minutes back from now; seconds."""
    from sqlalchemy import text

    began = time.perf_counter()
    with db.engine.begin() as connection:
        devices = connection.execute(text("SELECT count(*) FROM sensor_devices WHERE source = :s"), {"s": SOURCE})
        per_device = rows // int(devices.scalar_one())
        connection.execute(text("DELETE FROM sensor_readings"))
        if db.dialect == "postgresql":
            connection.execute(
                text(
                    "INSERT INTO sensor_readings (device_id, ts, value) SELECT d.id, "
                    "date_trunc('minute', now() at time zone 'utc') - g * interval '15 minutes', random() * 5 "
                    "FROM sensor_devices d CROSS JOIN generate_series(0, :n - 1) g WHERE d.source = :s"
                ),
                {"n": per_device, "s": SOURCE},
            )
            connection.execute(text("ANALYZE sensor_readings"))
        else:
            connection.execute(
                text(
                    "WITH RECURSIVE g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n < :n - 1) "
                    "INSERT INTO sensor_readings (device_id, ts, value) SELECT d.id, "
                    "strftime('%Y-%m-%d %H:%M:00.000000', 'now', '-' || (g.n * 15) || ' minutes'), "
                    "abs(random() % 500) / 100.0 FROM sensor_devices d, g WHERE d.source = :s"
                ),
                {"n": per_device, "s": SOURCE},
            )
            connection.execute(text("ANALYZE"))
    return time.perf_counter() - began


def _queries() -> list[tuple[str, str, Any]]:
    from pilotis.core.measures import parse_measure
    from pilotis.core.query import Filter, Query

    last = Query("latest", (("v", parse_measure("max(valeur)")),), group_by=("capteur",))
    day = Query(
        "raw", (("v", parse_measure("avg(valeur)")),), group_by=("heure",), filters=(Filter("capteur", "=", DEVICE),)
    )
    return [("latest", "0s", last), ("raw", "24h", day)]


def _source(url: str, view: str, window: str) -> Any:
    from data_sources.sensors import SensorReadings
    from pilotis.core.sources import DuckRuntime

    config = SensorReadings.Config(type="capteurs", title="b", source=SOURCE, view=view, window=window)  # type: ignore[arg-type]
    made = SensorReadings(view, config, ROOT, DuckRuntime())
    made.app_database = url
    return made


def in_database_ms(db: Any) -> list[str]:
    """PostgreSQL's own execution time of both questions (EXPLAIN ANALYZE) and their index scans."""
    from sqlalchemy import text
    from sqlalchemy.dialects import postgresql

    from pilotis.core.query import build_select

    found = []
    for view, window, query in _queries():
        stmt = build_select(query, _source("", view, window).view("postgresql", dt.datetime.utcnow()), "postgresql")
        sql = str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
        with db.engine.connect() as connection:
            plan = [row[0] for row in connection.execute(text("EXPLAIN ANALYZE " + sql))]
        total = next(line for line in plan if line.startswith("Execution Time"))
        scans = sorted(
            {m.group(0) for line in plan if (m := re.search(r"Index (Only )?Scan( Backward)? using \w+", line))}
        )
        found.append(f"{total.split(': ')[1]} ({'; '.join(scans)})")
    return found


def read_times(url: str, runs: int) -> tuple[float, float]:
    """Median ms of « last value of every sensor » and « one sensor, last 24 h »."""
    (_, _, last), (_, _, day) = _queries()
    latest, recent = _source(url, "latest", "0s"), _source(url, "raw", "24h")
    found = [len(latest.run(last)), len(recent.run(day))]
    assert found[0] == 32 and found[1] >= 24, found
    times: list[list[float]] = [[], []]
    for _ in range(runs):
        for k, (src, query) in enumerate(((latest, last), (recent, day))):
            began = time.perf_counter()
            src.run(query)
            times[k].append(time.perf_counter() - began)
    latest.engine.dispose()
    recent.engine.dispose()
    return tuple(sorted(t)[len(t) // 2] * 1000 for t in times)  # type: ignore[return-value]


def measure(kind: str, url: str, rows: int, quick: bool) -> list[list[str]]:
    from pilotis.accounts import sensor_store
    from pilotis.accounts.db import Database

    instance = Path(tempfile.mkdtemp(prefix=f"bench-ingest-{kind}-"))
    seconds = 2 if quick else 4  # per turn: ROUNDS turns of each
    try:
        with server(instance, url) as base:
            with Database(url) as db:
                token = sensor_store.create_token(db, SOURCE, "bench")[1]
            single_path = f"/capteurs/{SOURCE}/releves"
            stamp = int(time.time()) - 86_400 * 3
            rates: dict[str, list[float]] = {"/capteurs/_vide": [], single_path: []}
            for turn in range(ROUNDS):  # alternated, so that a change of the machine's load hits both
                for path, found in rates.items():  # each reading a new moment (earlier turns: earlier days)
                    found.append(wrk(base + path, WRK_SCRIPT % (stamp - turn * 86_400, DEVICE, path, token), seconds))
            empty, single = (sum(found) / ROUNDS for found in rates.values())
            per_second = batches(base, token, 24 if quick else 60)
        with Database(url) as db:
            small_fill = fill(db, 10_000)
            small = read_times(url, 20)
            big_fill = fill(db, rows)
            big = read_times(url, 20)
            plans = in_database_ms(db) if db.dialect == "postgresql" else []
    finally:
        shutil.rmtree(instance, ignore_errors=True)
    return [
        [kind, "empty endpoint (baseline)", f"{fmt(empty, 0)} req/s", "", ""],
        [kind, "single-reading webhook", f"{fmt(single, 0)} req/s", f"{single / empty:.0%} of empty", "≥ 50 %"],
        [kind, "batches of 1,000 readings", f"{fmt(per_second, 0)} readings/s", "", "≥ 20,000/s (PG)"],
        [
            kind,
            "last value of every sensor",
            f"{fmt(big[0], 2)} ms at {rows:,} rows",
            f"× {big[0] / small[0]:.2f} vs 10k rows",
            "≈ 1",
        ],
        [
            kind,
            "one sensor, last 24 h",
            f"{fmt(big[1], 2)} ms at {rows:,} rows",
            f"× {big[1] / small[1]:.2f} vs 10k rows",
            "≈ 1",
        ],
        *([[kind, "both, inside PostgreSQL (EXPLAIN ANALYZE)", " / ".join(plans), "", ""]] if plans else []),
        [kind, "generating the table", f"{fmt(big_fill, 1)} s ({fmt(small_fill, 2)} s for 10k)", "", ""],
    ]


def run(rows: int = 1_000_000, quick: bool = False) -> str:
    """Every measure, as a Markdown table."""
    table = measure("SQLite", f"sqlite:///{tempfile.mkdtemp(prefix='bench-ingest-db-')}/pilotis.db", rows, quick)
    with pg_url() as url:
        if url is not None:
            table += measure("PostgreSQL", url, rows, quick)
    return (
        md_table(["Database", "Measure", "Value", "Ratio", "Target"], table) + f"\n\nLoad average: {load_average()}\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="readings in the large table (1,000,000)")
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    args = parser.parse_args()
    print(run(args.rows, args.quick))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
