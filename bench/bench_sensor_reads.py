"""Benchmark of the two hot sensor reads at 10 M readings on PostgreSQL (issue 14's target: ≤ 50 ms
uncached), with baselines measured in the same run.

The questions are asked as dashboards and alerts ask them: through the ``capteurs`` source
(``SensorReadings.run``: SQL built by the engine, a pandas frame back), without the app's
cache — « last value of every sensor » (``view: latest``, 32 devices) and « one sensor, last
24 h » (``view: raw, window: 24h``, hourly averages of one device). For each table size (1 M then
10 M readings, every 15 minutes back from now over the 32 devices of
`config/sensors/crues-mayenne.yaml`):

- the first run on a new connection pool (what a worker pays after a start or a pool recycle),
  then the median and the worst of 20 runs;
- the baseline: ``SELECT 1`` through the same kind of pool (the round trip every query pays);
- PostgreSQL's own execution time (EXPLAIN ANALYZE) and the index scans it chose.

The rows are generated inside PostgreSQL (``generate_series``, primary key built afterwards) in a
schema of their own, dropped at the end. Usage: ``python bench/bench_sensor_reads.py [--sizes
1000000,10000000] [--runs 20]``; needs PostgreSQL at 127.0.0.1:5432 (``PILOTIS_TEST_PG``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import SOURCE, _queries, _source, in_database_ms, pg_url  # noqa: E402
from common import ROOT, fmt, load_average, md_table  # noqa: E402

sys.path.insert(0, str(ROOT))


def devices(url: str) -> None:
    """The schema and the 32 devices of the shipped sensor source."""
    from pilotis.accounts import sensor_store
    from pilotis.accounts.db import Database
    from pilotis.core.loader import load_registry
    from pilotis.core.settings import Settings
    from pilotis.plugins import register_builtins

    register_builtins()
    settings = Settings.from_env(instance_dir=Path(tempfile.mkdtemp(prefix="bench-sensor-reads-")))
    registry = load_registry(settings.root, settings.config_dir, settings.dashboards_dir, database_url=url)
    with Database(url) as db:
        db.upgrade()
        sensor_store.sync_devices(db, {SOURCE: registry.sensors[SOURCE]})


def fill(url: str, rows: int) -> float:
    """``rows`` readings (every 15 min back from now, over every device); seconds to generate.
    The primary key is dropped during the insert and built afterwards (as a bulk load would)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    began = time.perf_counter()
    with engine.connect() as connection:
        found = connection.execute(text("SELECT count(*) FROM sensor_devices WHERE source = :s"), {"s": SOURCE})
        count = int(found.scalar_one())
        connection.execute(text("TRUNCATE sensor_readings"))
        connection.execute(text("ALTER TABLE sensor_readings DROP CONSTRAINT pk_sensor_readings"))
        connection.execute(text("SET maintenance_work_mem = '256MB'"))
        connection.execute(
            text(
                "INSERT INTO sensor_readings (device_id, ts, value) SELECT d.id, "
                "date_trunc('minute', now() at time zone 'utc') - g * interval '15 minutes', random() * 5 "
                "FROM sensor_devices d CROSS JOIN generate_series(0, :n - 1) g WHERE d.source = :s"
            ),
            {"n": rows // count, "s": SOURCE},
        )
        connection.execute(
            text("ALTER TABLE sensor_readings ADD CONSTRAINT pk_sensor_readings PRIMARY KEY (device_id, ts)")
        )
        connection.execute(text("VACUUM ANALYZE sensor_readings"))
    engine.dispose()
    return time.perf_counter() - began


def select_one(url: str, runs: int) -> tuple[float, float]:
    """ms of ``SELECT 1``: first on a new pool, then the median of ``runs``."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, pool_pre_ping=True)
    times = []
    for _ in range(runs + 1):
        began = time.perf_counter()
        with engine.connect() as connection:
            connection.execute(text("SELECT 1")).scalar_one()
        times.append((time.perf_counter() - began) * 1000)
    engine.dispose()
    return times[0], statistics.median(times[1:])


def reads(url: str, runs: int) -> list[tuple[float, float, float]]:
    """Per question: (first run on a new pool, median, worst of ``runs``), in ms."""
    (_, _, last), (_, _, day) = _queries()
    found = []
    for view, window, query in (("latest", "0s", last), ("raw", "24h", day)):
        source = _source(url, view, window)
        began = time.perf_counter()
        frame = source.run(query)
        first = (time.perf_counter() - began) * 1000
        assert len(frame) == (32 if view == "latest" else len(frame)) and len(frame) >= 24, (view, len(frame))
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            source.run(query)
            times.append((time.perf_counter() - began) * 1000)
        source.engine.dispose()
        found.append((first, statistics.median(times), max(times)))
    return found


def measure(url: str, sizes: list[int], runs: int) -> list[list[str]]:
    from pilotis.accounts.db import Database

    devices(url)
    table: list[list[str]] = []
    for rows in sizes:
        seconds = fill(url, rows)
        one_first, one = select_one(url, runs)
        (l_first, l_med, l_max), (d_first, d_med, d_max) = reads(url, runs)
        with Database(url) as db:
            plans = in_database_ms(db)
        size = f"{rows / 1e6:g} M"
        table += [
            [size, "SELECT 1 (baseline)", fmt(one_first, 2), fmt(one, 2), "", ""],
            [size, "last value of every sensor", fmt(l_first, 2), fmt(l_med, 2), fmt(l_max, 2), f"× {l_med / one:.1f}"],
            [size, "one sensor, last 24 h", fmt(d_first, 2), fmt(d_med, 2), fmt(d_max, 2), f"× {d_med / one:.1f}"],
            [size, "inside PostgreSQL (latest / 24 h)", "", " / ".join(plans), "", ""],
            [size, "generating the table", f"{fmt(seconds, 1)} s", "", "", ""],
        ]
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000", help="table sizes, comma-separated")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    load_before = load_average()
    with pg_url() as url:
        if url is None:
            print("PostgreSQL does not answer at 127.0.0.1:5432: nothing measured", file=sys.stderr)
            return 1
        table = measure(url, sizes, args.runs)
    headers = ["Rows", "Measure (ms unless said)", "First, new pool", "Median", "Worst", "Median vs SELECT 1"]
    print(md_table(headers, table))
    print(f"\nLoad average: {load_before} before, {load_average()} after")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
