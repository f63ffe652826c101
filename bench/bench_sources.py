"""Benchmark of big sources: a 10M-row minute-level sensor Parquet file and a 1M-row accounting file.

In one run, against plain-Dash baselines measured in the same run:

* **in-process** (one fresh child process per approach, so that peak memory is its own):
  cold / cached / uncached filtered KPI (one sensor and one day; one commune and one month),
  full group-bys (accounting commune × month, sensors commune × day) and the communes dropdown
  options (from the small lookup table, vs a DISTINCT over the facts). Pilotis = ``load_registry``
  on a temporary configuration + ``DataService.query`` with the app's cache backend; baselines =
  (a) ``pd.read_parquet`` of the whole file per request, (b) the file held in a global DataFrame.
* **HTTP**: ``gunicorn app:server -w 2`` on the temporary configuration (a KPI widget on the
  sensors), signed in as the demo admin; a cached widget callback posted by 16 concurrent clients
  (``wrk``) for ~10 s; requests/s, p50, p95, and the peak RSS of each worker. Baseline: a plain
  Dash app under the same gunicorn holding the sensor file in a global DataFrame.
* **PostgreSQL** (127.0.0.1:5432 ``test``, only when it answers): the 1M accounting rows in a
  dedicated schema, the same KPI and group-by through a ``type: sql`` dataset, without and with
  a composite index ``(code_insee, date)``, then with a pre-aggregated commune × month table.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    REFERENCE_DATASETS_YAML,
    ROOT,
    current_rss_mb,
    fmt,
    free_port,
    load_average,
    md_table,
    median_ms,
    p95_ms,
    peak_rss_mb,
    ratio,
    reset_peak_rss,
    stop_process_group,
)

DATA_DIR = ROOT / "bench" / "data"
SENSORS = DATA_DIR / "sensors.parquet"
COMPTA = DATA_DIR / "compta.parquet"
FORMAT = "1"
"""Version of the generated files (stamped in the Parquet metadata; bump to regenerate)."""
N_SENSORS = 40
SENSOR_ROWS = 10_000_000
COMPTA_ROWS = 1_000_000
ROW_GROUP = 1_000_000
START = dt.datetime(2024, 1, 1)
CHAPITRES = ("011", "012", "013", "014", "16", "20", "204", "21", "23", "65", "66", "67")
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "pilotis_bench"

TARGETS_MS = {"cached": 5.0, "kpi": 60.0, "groupby": 300.0, "dropdown": 20.0}
TARGET_RSS_MB = 300.0
TARGET_RPS = 300.0


# --------------------------------------------------------------------------- data
def communes() -> list[dict[str, str]]:
    """Rows of ``data/communes.csv``, most populated first."""
    with open(ROOT / "data" / "communes.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows.sort(key=lambda row: (-int(row["population"]), row["code_insee"]))
    return rows


def sensor_sites() -> list[tuple[str, str, str]]:
    """(capteur, code_insee, epci_siren) of the 40 sensors: every 6th commune by population."""
    rows = communes()
    step = max(1, len(rows) // N_SENSORS)
    return [(f"C{i + 1:03d}", rows[i * step]["code_insee"], rows[i * step]["epci_siren"]) for i in range(N_SENSORS)]


def file_format(path: Path) -> str | None:
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, ValueError):
        return None
    value = meta.get(b"pilotis_bench_format")
    return value.decode() if value else None


def generate() -> None:
    """Write ``sensors.parquet`` and ``compta.parquet`` (deterministic, chunked) when missing/stale."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    meta = {b"pilotis_bench_format": FORMAT.encode()}
    if file_format(SENSORS) != FORMAT:
        print(f"generating {SENSORS} (10 M rows)…", file=sys.stderr, flush=True)
        sites = sensor_sites()
        ids = np.array([s[0] for s in sites], dtype=object)
        insee = np.array([s[1] for s in sites], dtype=object)
        epci = np.array([s[2] for s in sites], dtype=object)
        phase = np.arange(N_SENSORS) * 0.37
        schema = pa.schema(
            [
                ("capteur", pa.string()),
                ("code_insee", pa.string()),
                ("epci_siren", pa.string()),
                ("horodatage", pa.timestamp("us")),
                ("date", pa.date32()),
                ("niveau", pa.float64()),
            ],
            metadata=meta,
        )
        minutes_per_chunk = ROW_GROUP // N_SENSORS
        start_us = (
            int(START.timestamp() * 1e6)
            if START.tzinfo
            else int((START - dt.datetime(1970, 1, 1)).total_seconds() * 1e6)
        )
        tmp = SENSORS.with_suffix(".tmp")
        with pq.ParquetWriter(tmp, schema) as writer:
            for chunk in range(SENSOR_ROWS // ROW_GROUP):
                rng = np.random.default_rng(1000 + chunk)
                minute = np.arange(chunk * minutes_per_chunk, (chunk + 1) * minutes_per_chunk, dtype=np.int64)
                m = np.repeat(minute, N_SENSORS)
                s = np.tile(np.arange(N_SENSORS), len(minute))
                ts = start_us + m * 60_000_000
                days = (ts // 86_400_000_000).astype(np.int32)
                niveau = 2.0 + np.sin(2 * np.pi * m / 1440 + phase[s]) + 0.1 * rng.standard_normal(len(m))
                table = pa.table(
                    {
                        "capteur": pa.array(ids[s], pa.string()),
                        "code_insee": pa.array(insee[s], pa.string()),
                        "epci_siren": pa.array(epci[s], pa.string()),
                        "horodatage": pa.array(ts, pa.timestamp("us")),
                        "date": pa.array(days, pa.date32()),
                        "niveau": pa.array(np.round(niveau, 3), pa.float64()),
                    },
                    schema=schema,
                )
                writer.write_table(table, row_group_size=ROW_GROUP)
        tmp.replace(SENSORS)
    if file_format(COMPTA) != FORMAT:
        print(f"generating {COMPTA} (1 M rows)…", file=sys.stderr, flush=True)
        rows = communes()
        rng = np.random.default_rng(42)
        pop = np.array([int(r["population"]) for r in rows], dtype=float)
        weights = pop**0.8 / (pop**0.8).sum()
        commune = rng.choice(len(rows), COMPTA_ROWS, p=weights)
        month = np.sort(rng.integers(0, 120, COMPTA_ROWS))
        chapitre = rng.integers(0, len(CHAPITRES), COMPTA_ROWS)
        montant = np.round(rng.gamma(2.0, 800.0, COMPTA_ROWS), 2)
        first = np.array([(dt.date(2015 + k // 12, k % 12 + 1, 1) - dt.date(1970, 1, 1)).days for k in range(120)])
        insee = np.array([r["code_insee"] for r in rows], dtype=object)
        epci = np.array([r["epci_siren"] for r in rows], dtype=object)
        table = pa.table(
            {
                "code_insee": pa.array(insee[commune], pa.string()),
                "epci_siren": pa.array(epci[commune], pa.string()),
                "date": pa.array(first[month].astype(np.int32), pa.date32()),
                "chapitre": pa.array(np.array(CHAPITRES, dtype=object)[chapitre], pa.string()),
                "montant": pa.array(montant, pa.float64()),
            }
        ).replace_schema_metadata(meta)
        tmp = COMPTA.with_suffix(".tmp")
        pq.write_table(table, tmp, row_group_size=100_000)
        tmp.replace(COMPTA)


# --------------------------------------------------------------------------- requests
def kpi_sensor_plan(n: int) -> list[tuple[str, dt.date]]:
    """``n`` distinct (sensor, day) pairs spread over the sensors and the 173 days."""
    sites = sensor_sites()
    return [(sites[(7 * i) % N_SENSORS][0], START.date() + dt.timedelta(days=(11 * i) % 170)) for i in range(n)]


def kpi_compta_plan(n: int) -> list[tuple[str, dt.date]]:
    """``n`` distinct (commune, month) pairs, communes of all sizes."""
    rows = communes()
    return [
        (rows[(37 * i) % len(rows)]["code_insee"], dt.date(2015 + (i * 5 % 120) // 12, (i * 5 % 120) % 12 + 1, 1))
        for i in range(n)
    ]


def _round(value: Any) -> float | None:
    import math

    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), 6)


class Timings:
    def __init__(self) -> None:
        self.wall: list[float] = []

    def __call__(self, func: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        value = func()
        self.wall.append(time.perf_counter() - start)
        return value


# --------------------------------------------------------------------------- configuration
DATASETS_YAML = (
    REFERENCE_DATASETS_YAML
    + """\
sensors:
  type: parquet
  path: %(sensors)s
  title: Capteurs (banc d'essai, 10 millions de lignes)
  simulated: true
  territory: {commune: code_insee, epci: epci_siren}
  period: {column: date, grain: day}
compta:
  type: parquet
  path: %(compta)s
  title: Comptabilité (banc d'essai, 1 million de lignes)
  simulated: true
  territory: {commune: code_insee, epci: epci_siren}
  period: {column: date, grain: month}
"""
)

PG_DATASET_YAML = """\
compta_pg:
  type: sql
  url: %s
  table: %s.compta
  title: Comptabilité (PostgreSQL)
  simulated: true
  territory: {commune: code_insee, epci: epci_siren}
  period: {column: date, grain: month}
compta_pg_agg:
  type: sql
  url: %s
  table: %s.compta_mois
  title: Comptabilité pré-agrégée commune × mois (PostgreSQL)
  simulated: true
  territory: {commune: code_insee, epci: epci_siren}
  period: {column: date, grain: month}
"""

DASHBOARD_YAML = """\
id: capteurs
title: Capteurs
filters:
  territory: {}
  period: {dataset: sensors}
widgets:
  - id: niveau
    type: kpi
    title: Niveau moyen
    dataset: sensors
    measure: avg(niveau)
    decimals: 2
"""


def write_config(tmp: Path, with_pg: bool = False) -> tuple[Path, Path]:
    config, dashboards = tmp / "config", tmp / "dashboards"
    (config / "datasets").mkdir(parents=True, exist_ok=True)
    dashboards.mkdir(exist_ok=True)
    shutil.copy(ROOT / "config" / "portal.yaml", config / "portal.yaml")
    text = DATASETS_YAML % {"sensors": json.dumps(str(SENSORS)), "compta": json.dumps(str(COMPTA))}
    if with_pg:
        text += PG_DATASET_YAML % (PG_URL, PG_SCHEMA, PG_URL, PG_SCHEMA)
    (config / "datasets" / "bench.yaml").write_text(text, encoding="utf-8")
    (dashboards / "capteurs.yaml").write_text(DASHBOARD_YAML, encoding="utf-8")
    return config, dashboards


# --------------------------------------------------------------------------- children
def _plain_dash_imports() -> None:
    import dash  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401


def child_pilotis(n: int, reps: int, with_pg: bool) -> dict[str, Any]:
    """Pilotis in-process: registry + DataService with the app's cache backend."""
    _plain_dash_imports()
    from bench_kpi import _app_cache

    from pilotis.core.cache import TTLCache
    from pilotis.core.data import DataService
    from pilotis.core.loader import load_registry
    from pilotis.core.measures import parse_measure
    from pilotis.core.query import PERIOD, Filter, Query
    from pilotis.plugins import register_builtins

    register_builtins()  # the shipped widget and source types, as app.py does
    out: dict[str, Any] = {"rss_imports": current_rss_mb()}
    avg, mx, total, count = (parse_measure(m) for m in ("avg(niveau)", "max(niveau)", "sum(montant)", "count(*)"))

    def q_sensor(capteur: str, day: dt.date, dataset: str = "sensors") -> Query:
        return Query(
            dataset=dataset,
            measures=(("moyenne", avg), ("maxi", mx)),
            filters=(Filter("capteur", "=", capteur), Filter("date", "=", day)),
        )

    def q_compta(code: str, month: dt.date, dataset: str = "compta") -> Query:
        return Query(
            dataset=dataset,
            measures=(("total", total),),
            filters=(Filter("code_insee", "=", code), Filter("date", "=", month)),
        )

    def q_group(dataset: str, measure: Any, grain: str) -> Query:
        return Query(
            dataset=dataset,
            measures=(("valeur", measure),),
            group_by=("code_insee", PERIOD),
            period_column="date",
            period_grain=grain,
            native_grain=grain,
        )

    q_dropdown = Query(
        dataset="communes",
        measures=(("population", parse_measure("sum(population)")),),
        group_by=("code_insee", "nom"),
        order_by=(("nom", False),),
    )
    q_distinct = Query(dataset="sensors", measures=(("n", count),), group_by=("code_insee",))

    with tempfile.TemporaryDirectory(prefix="pilotis-bench-") as tmp:
        config, dashboards = write_config(Path(tmp), with_pg)
        instance = Path(tmp, "instance")
        reset_peak_rss()
        start = time.perf_counter()
        registry = load_registry(ROOT, config, dashboards, instance_dir=instance)
        out["load_s"] = time.perf_counter() - start
        out["rss_loaded"] = current_rss_mb()
        out["peak_load"] = peak_rss_mb()
        cache, out["cache"] = _app_cache(instance)
        data = DataService(registry.datasets, cache)

        def frame_kpi(frame: Any) -> list[float | None]:
            return [_round(frame.iloc[0][c]) for c in frame.columns]

        reset_peak_rss()
        t = Timings()
        sensors_plan, compta_plan = kpi_sensor_plan(n + 1), kpi_compta_plan(n + 1)
        out["cold_sensor"] = frame_kpi(t(lambda: data.query(q_sensor(*sensors_plan[0]))))
        out["t_cold_sensor"] = t.wall
        t = Timings()
        out["cold_compta"] = frame_kpi(t(lambda: data.query(q_compta(*compta_plan[0]))))
        out["t_cold_compta"] = t.wall

        hits = cache.hits
        t = Timings()
        out["kpi_sensor"] = [frame_kpi(t(lambda p=p: data.query(q_sensor(*p)))) for p in sensors_plan[1:]]
        out["t_kpi_sensor"] = t.wall
        t = Timings()
        out["kpi_compta"] = [frame_kpi(t(lambda p=p: data.query(q_compta(*p)))) for p in compta_plan[1:]]
        out["t_kpi_compta"] = t.wall
        assert cache.hits == hits, "an 'uncached' KPI request hit the cache"

        t = Timings()
        for p in sensors_plan[1:]:
            t(lambda p=p: data.query(q_sensor(*p)))
        assert cache.hits - hits >= n
        out["t_cached"] = t.wall
        shared = getattr(cache, "back", None)  # the file cache behind the worker's in-memory front
        if shared is not None:
            other_worker = DataService(registry.datasets, shared)
            hits = shared.hits
            t = Timings()
            for p in sensors_plan[1:]:
                t(lambda p=p: other_worker.query(q_sensor(*p)))
            assert shared.hits - hits >= n
            out["t_cached_shared"] = t.wall
        memory = DataService(registry.datasets, TTLCache())
        memory.query(q_sensor(*sensors_plan[1]))
        t = Timings()
        for _ in range(n):
            t(lambda: memory.query(q_sensor(*sensors_plan[1])))
        out["t_cached_memory"] = t.wall

        def uncached(key: str, query: Query, runs: int, service: Any = data) -> Any:
            t, frame = Timings(), None
            for _ in range(runs):
                service.cache.clear()
                frame = t(lambda: service.query(query))
            out[f"t_{key}"] = t.wall
            return frame

        out["peak_kpi"] = peak_rss_mb()
        reset_peak_rss()
        g = uncached("group_compta", q_group("compta", total, "month"), reps)
        out["group_compta"] = [len(g), _round(g["valeur"].sum())]
        out["peak_group_compta"] = peak_rss_mb()
        reset_peak_rss()
        g = uncached("group_sensor", q_group("sensors", avg, "day"), reps)
        out["group_sensor"] = [len(g), _round(g["valeur"].mean())]
        out["peak_group_sensor"] = peak_rss_mb()
        reset_peak_rss()
        d = uncached("dropdown", q_dropdown, n)
        out["dropdown"] = sorted(str(c) for c in d["code_insee"])
        d = uncached("distinct", q_distinct, reps)
        out["distinct"] = sorted(str(c) for c in d["code_insee"])
        out["peak_distinct"] = peak_rss_mb()

        # the peak of a worker serving the file sources (KPIs, group-bys, DISTINCT), each window
        # started after the previous one (Linux VmHWM reset), not counting the one-off load
        out["peak_rss"] = max(out[k] for k in ("peak_kpi", "peak_group_compta", "peak_group_sensor", "peak_distinct"))
        if with_pg:
            reset_peak_rss()
            out.update(_pg_measures(registry, data, q_compta, q_group, total, compta_plan, n, reps, uncached))
            out["peak_pg"] = peak_rss_mb()
    return out


def child_pandas(mode: str, n: int, reps: int) -> dict[str, Any]:
    """Baselines: (a) ``read`` the whole file per request, (b) ``global`` DataFrames."""
    _plain_dash_imports()
    import pandas as pd

    out: dict[str, Any] = {"rss_imports": current_rss_mb()}
    frames: dict[str, Any] = {}

    def load(path: Path) -> Any:
        if mode == "read":
            return pd.read_parquet(path)
        if path not in frames:
            frames[path] = pd.read_parquet(path)
        return frames[path]

    if mode == "global":
        start = time.perf_counter()
        load(SENSORS)
        load(COMPTA)
        out["load_s"] = time.perf_counter() - start
        out["rss_loaded"] = current_rss_mb()

    def kpi_sensor(capteur: str, day: dt.date) -> list[float | None]:
        df = load(SENSORS)
        rows = df[df["capteur"] == capteur]
        rows = rows[rows["date"] == day]
        return [_round(rows["niveau"].mean()), _round(rows["niveau"].max())]

    def kpi_compta(code: str, month: dt.date) -> list[float | None]:
        df = load(COMPTA)
        rows = df[df["code_insee"] == code]
        rows = rows[rows["date"] == month]
        return [_round(rows["montant"].sum()) if len(rows) else None]

    sensors_plan, compta_plan = kpi_sensor_plan(n + 1), kpi_compta_plan(n + 1)
    t = Timings()
    out["cold_sensor"] = t(lambda: kpi_sensor(*sensors_plan[0]))
    out["t_cold_sensor"] = t.wall
    t = Timings()
    out["cold_compta"] = t(lambda: kpi_compta(*compta_plan[0]))
    out["t_cold_compta"] = t.wall
    t = Timings()
    out["kpi_sensor"] = [t(lambda p=p: kpi_sensor(*p)) for p in sensors_plan[1:]]
    out["t_kpi_sensor"] = t.wall
    t = Timings()
    out["kpi_compta"] = [t(lambda p=p: kpi_compta(*p)) for p in compta_plan[1:]]
    out["t_kpi_compta"] = t.wall

    def group(path: Path, column: str, how: str) -> Any:
        df = load(path)
        return df.groupby(["code_insee", "date"])[column].agg(how)

    t = Timings()
    for _ in range(reps):
        g = t(lambda: group(COMPTA, "montant", "sum"))
    out["t_group_compta"] = t.wall
    out["group_compta"] = [len(g), _round(g.sum())]
    t = Timings()
    for _ in range(reps):
        g = t(lambda: group(SENSORS, "niveau", "mean"))
    out["t_group_sensor"] = t.wall
    out["group_sensor"] = [len(g), _round(g.mean())]
    t = Timings()
    for _ in range(max(reps, n if mode == "global" else reps)):
        d = t(lambda: sorted(load(SENSORS)["code_insee"].unique()))
    out["t_distinct"] = t.wall
    out["distinct"] = [str(c) for c in d]
    out["peak_rss"] = peak_rss_mb()
    return out


def _spawn(args: list[str], timeout: float) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        subprocess.run(
            [sys.executable, __file__, "--child-output", result.name, *args], check=True, cwd=ROOT, timeout=timeout
        )
        return json.loads(Path(result.name).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- PostgreSQL
def pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - no server: the section is skipped
        return False


def pg_load() -> float:
    """Copy the accounting rows into ``pilotis_bench.compta`` (no index); seconds taken."""
    import psycopg
    import pyarrow.parquet as pq

    start = time.perf_counter()
    table = pq.read_table(COMPTA)
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as con:
        con.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
        con.execute(f"CREATE SCHEMA {PG_SCHEMA}")
        con.execute(
            f"CREATE TABLE {PG_SCHEMA}.compta (code_insee text, epci_siren text, date date, chapitre text, "
            "montant double precision)"
        )
        cols = [table.column(c).to_pylist() for c in table.column_names]
        with con.cursor() as cur, cur.copy(f"COPY {PG_SCHEMA}.compta FROM STDIN") as copy:
            for row in zip(*cols, strict=True):
                copy.write_row(row)
        con.execute(
            f"CREATE TABLE {PG_SCHEMA}.compta_mois AS SELECT code_insee, epci_siren, date, chapitre, "
            f"sum(montant) AS montant FROM {PG_SCHEMA}.compta GROUP BY 1, 2, 3, 4"
        )
        con.execute(f"ANALYZE {PG_SCHEMA}.compta")
        con.execute(f"ANALYZE {PG_SCHEMA}.compta_mois")
    return time.perf_counter() - start


def pg_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as con:
        con.execute(statement)


def _pg_measures(registry, data, q_compta, q_group, total, plan, n, reps, uncached) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The accounting KPI and group-by through ``type: sql`` datasets, without / with index."""
    out: dict[str, Any] = {}

    def kpis(key: str, dataset: str) -> None:
        t = Timings()
        out[key] = [_round(t(lambda p=p: data.query(q_compta(*p, dataset=dataset))).iloc[0]["total"]) for p in plan[1:]]
        out[f"t_{key}"] = t.wall
        data.cache.clear()

    data.query(q_compta(*plan[0], dataset="compta_pg"))  # connection pool warm
    data.cache.clear()
    kpis("pg_kpi_noindex", "compta_pg")
    g = uncached("pg_group_noindex", q_group("compta_pg", total, "month"), reps)
    out["pg_group"] = [len(g), _round(g["valeur"].sum())]
    pg_sql(f"CREATE INDEX compta_insee_date ON {PG_SCHEMA}.compta (code_insee, date)")
    pg_sql(f"CREATE INDEX compta_mois_insee_date ON {PG_SCHEMA}.compta_mois (code_insee, date)")
    pg_sql(f"ANALYZE {PG_SCHEMA}.compta")
    kpis("pg_kpi_index", "compta_pg")
    uncached("pg_group_index", q_group("compta_pg", total, "month"), reps)
    kpis("pg_kpi_agg", "compta_pg_agg")
    g = uncached("pg_group_agg", q_group("compta_pg_agg", total, "month"), reps)
    out["pg_group_agg"] = [len(g), _round(g["valeur"].sum())]
    return out


# --------------------------------------------------------------------------- HTTP
BASELINE_APP = '''\
"""Plain Dash baseline: the sensor file in a global DataFrame, one KPI callback."""
import datetime as dt
import os

import pandas as pd
from dash import Dash, Input, Output, dcc, html

FRAME = pd.read_parquet(os.environ["BENCH_SENSORS"])
app = Dash(__name__)
server = app.server
app.layout = html.Div([dcc.Input(id="commune", value="53130"), dcc.Input(id="year", value="2024"),
                       html.P(id="kpi")])


@app.callback(Output("kpi", "children"), Input("commune", "value"), Input("year", "value"))
def kpi(commune, year):
    rows = FRAME[FRAME["code_insee"] == commune]
    y = int(year)
    rows = rows[(rows["date"] >= dt.date(y, 1, 1)) & (rows["date"] < dt.date(y + 1, 1, 1))]
    return f"{rows['niveau'].mean():.2f}"
'''

WRK_LUA = """\
wrk.method = "POST"
wrk.body = %s
wrk.headers["Content-Type"] = "application/json"
%s
done = function(summary, latency, requests)
  io.write(string.format("BENCH %%d %%d %%f %%f %%f %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def _children(pid: int) -> list[int]:
    kids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                kids.append(int(proc.name))
    return kids


def _mem(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmHWM", 0.0), fields.get("VmRSS", 0.0)


class Gunicorn:
    """``gunicorn <app> -w 2`` on a free loopback port, in its own process group, always stopped."""

    def __init__(self, app: str, cwd: Path, env: dict[str, str], workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"gunicorn-{self.port}.log"
        self._log = open(self.log, "wb")  # noqa: SIM115
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            app,
            "-b",
            f"127.0.0.1:{self.port}",
            "-w",
            "2",
            "--no-control-socket",
            "--pid",
            str(workdir / f"gunicorn-{self.port}.pid"),
            "--timeout",
            "120",
            "--graceful-timeout",
            "5",
        ]
        self.proc = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait(self, session: Any, path: str = "/", timeout: float = 120) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text(errors='replace')[-3000:]}")
            try:
                if session.get(self.url + path, timeout=30).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer:\n{self.log.read_text(errors='replace')[-3000:]}")

    def workers(self) -> list[int]:
        return _children(self.proc.pid)

    def stop(self) -> None:
        try:
            stop_process_group(self.proc, 10)
        finally:
            self._log.close()


def wrk(url: str, body: dict[str, Any], headers: dict[str, str], seconds: int, workdir: Path) -> dict[str, float]:
    """16 connections for ``seconds`` s: requests/s, p50/p95 (ms), errors (socket + non-2xx/3xx)."""
    lua = workdir / "post.lua"
    header_lines = "\n".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())
    lua.write_text(WRK_LUA % (json.dumps(json.dumps(body)), header_lines), encoding="utf-8")
    result = subprocess.run(
        ["wrk", "-t", "2", "-c", "16", "-d", f"{seconds}s", "--timeout", "10s", "-s", str(lua), url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    )
    match = re.search(r"BENCH (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", result.stdout)
    if not match:
        raise RuntimeError(f"wrk output not understood:\n{result.stdout}\n{result.stderr}")
    n, duration_us, p50, p95, p99, errors = match.groups()
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    return {
        "requests": int(n),
        "rps": int(n) / (int(duration_us) / 1e6),
        "p50": float(p50) / 1000,
        "p95": float(p95) / 1000,
        "p99": float(p99) / 1000,
        "errors": int(errors) + (int(non2xx.group(1)) if non2xx else 0),
    }


def run_http(seconds: int) -> dict[str, Any]:
    import requests

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_startup import CSRF_COOKIE, CSRF_HEADER, login

    out: dict[str, Any] = {}
    code = sensor_sites()[0][1]
    with tempfile.TemporaryDirectory(prefix="pilotis-bench-http-") as tmp:
        tmp_path = Path(tmp)
        config, dashboards = write_config(tmp_path)
        instance = tmp_path / "instance"
        instance.mkdir()
        env = dict(
            os.environ,
            PILOTIS_INSTANCE_DIR=str(instance),
            PILOTIS_CONFIG_DIR=str(config),
            PILOTIS_DASHBOARDS_DIR=str(dashboards),
        )
        env.pop("PILOTIS_DEBUG", None)
        server = Gunicorn("app:server", ROOT, env, tmp_path)
        try:
            session = requests.Session()
            start = time.perf_counter()
            server.wait(session, "/login")
            out["start_s"] = time.perf_counter() - start
            out["rss_idle"] = {pid: _mem(pid) for pid in server.workers()}
            login(session, server.url)
            prefix = "capteurs"
            body = {
                "output": f"{prefix}--niveau.children",
                "outputs": {"id": f"{prefix}--niveau", "property": "children"},
                "inputs": [
                    {"id": f"{prefix}--territory", "property": "value", "value": f"commune:{code}"},
                    {"id": f"{prefix}--period", "property": "value", "value": "2024"},
                ],
                "changedPropIds": [f"{prefix}--territory.value"],
                "state": [],
            }
            headers = {CSRF_HEADER: session.cookies.get(CSRF_COOKIE) or ""}
            t = Timings()
            for _ in range(2):  # the first answer goes through DuckDB, then the shared cache
                response = t(lambda: session.post(server.url + "/_dash-update-component", json=body, headers=headers))
                if response.status_code != 200:
                    raise RuntimeError(f"widget callback: HTTP {response.status_code}: {response.text[:500]}")
            out["first_s"], out["second_s"] = t.wall
            out["answer"] = response.text[:200]
            cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
            out["pilotis"] = wrk(
                server.url + "/_dash-update-component", body, {**headers, "Cookie": cookie}, seconds, tmp_path
            )
            out["rss"] = {pid: _mem(pid) for pid in server.workers()}
        finally:
            server.stop()

        app_dir = tmp_path / "baseline"
        app_dir.mkdir()
        (app_dir / "baseline_app.py").write_text(BASELINE_APP, encoding="utf-8")
        server = Gunicorn("baseline_app:server", app_dir, dict(os.environ, BENCH_SENSORS=str(SENSORS)), tmp_path)
        try:
            session = requests.Session()
            start = time.perf_counter()
            server.wait(session, "/")
            out["base_start_s"] = time.perf_counter() - start
            body = {
                "output": "kpi.children",
                "outputs": {"id": "kpi", "property": "children"},
                "inputs": [
                    {"id": "commune", "property": "value", "value": code},
                    {"id": "year", "property": "value", "value": "2024"},
                ],
                "changedPropIds": ["commune.value"],
                "state": [],
            }
            response = session.post(server.url + "/_dash-update-component", json=body)
            if response.status_code != 200:
                raise RuntimeError(f"baseline callback: HTTP {response.status_code}")
            out["base_answer"] = response.text[:200]
            out["baseline"] = wrk(server.url + "/_dash-update-component", body, {}, seconds, tmp_path)
            out["base_rss"] = {pid: _mem(pid) for pid in server.workers()}
        finally:
            server.stop()
    return out


# --------------------------------------------------------------------------- report
def run(quick: bool = False, http_seconds: int | None = None, skip_pg: bool = False) -> str:
    generate()
    load_before = load_average()
    n, reps = (20, 5) if quick else (40, 10)
    with_pg = not skip_pg and pg_available()
    pg_load_s = pg_load() if with_pg else None
    try:
        pilotis = _spawn(["--child", "pilotis", "-n", str(n), "--reps", str(reps)] + (["--pg"] if with_pg else []), 600)
    finally:
        if with_pg:
            pg_sql(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
    frame = _spawn(["--child", "global", "-n", str(n), "--reps", str(reps)], 600)
    read = _spawn(["--child", "read", "-n", "2", "--reps", "2"], 600)
    http = run_http(http_seconds or (5 if quick else 10))
    load_after = load_average()

    # Same answers (6 decimals) before any figure.
    for name, other in (("(a)", read), ("(b)", frame)):
        for key in ("cold_sensor", "cold_compta"):
            assert pilotis[key] == other[key], f"{name} {key}: {pilotis[key]} != {other[key]}"
        for key in ("kpi_sensor", "kpi_compta"):
            for i, answer in enumerate(other[key]):
                assert answer == pilotis[key][i], f"{name} {key} #{i}: {answer} != {pilotis[key][i]}"
        for key in ("group_compta", "group_sensor"):
            assert other[key][0] == pilotis[key][0], f"{name} {key}: group counts differ"
            assert abs(other[key][1] - pilotis[key][1]) <= 1e-6 * abs(other[key][1]) + 1e-6, f"{name} {key}"
    assert pilotis["distinct"] == frame["distinct"], "DISTINCT communes differ"
    assert set(pilotis["distinct"]) <= set(pilotis["dropdown"]) and len(pilotis["dropdown"]) == len(communes())
    if with_pg:
        assert pilotis["pg_kpi_noindex"] == [a[0] for a in pilotis["kpi_compta"]] or all(
            abs((a or 0) - (b[0] or 0)) < 1e-4
            for a, b in zip(pilotis["pg_kpi_noindex"], pilotis["kpi_compta"], strict=True)
        ), "PostgreSQL KPI answers differ"
        assert pilotis["pg_group"][0] == pilotis["group_compta"][0] == pilotis["pg_group_agg"][0]

    def cell(result: dict[str, Any], key: str) -> list[str]:
        values = result.get(f"t_{key}")
        if not values:
            return ["—", "—", "—"]
        return [str(len(values)), fmt(median_ms(values), 2), fmt(p95_ms(values), 2) if len(values) > 1 else "—"]

    def vs(base: dict[str, Any], key: str, mine: float) -> str:
        values = base.get(f"t_{key}")
        return ratio(median_ms(values) / mine) if values else "—"

    rows = []
    spec = [
        ("KPI sensors, cold (1st query of the process)", "cold_sensor", "cold_sensor", None),
        ("KPI accounting, cold", "cold_compta", "cold_compta", None),
        ("**KPI sensors uncached** (1 sensor, 1 day, avg+max; 10 M rows)", "kpi_sensor", "kpi_sensor", "kpi"),
        ("KPI accounting uncached (1 commune, 1 month, sum; 1 M rows)", "kpi_compta", "kpi_compta", None),
        ("**KPI sensors cached** (app's cache: the worker's memory front)", "cached", "kpi_sensor", "cached"),
        ("KPI sensors cached by another worker (file cache read + decode)", "cached_shared", "kpi_sensor", "cached"),
        ("KPI sensors cached, plain in-process `TTLCache`", "cached_memory", "kpi_sensor", None),
        ("**Group-by accounting commune × month** (28 800 groups)", "group_compta", "group_compta", "groupby"),
        ("Group-by sensors commune × day (10 M rows)", "group_sensor", "group_sensor", None),
        (
            "**Communes dropdown**, lookup table (Pilotis) vs DISTINCT on facts (baselines)",
            "dropdown",
            "distinct",
            "dropdown",
        ),
        ("Communes as DISTINCT over the 10 M sensor rows (Pilotis, for reference)", "distinct", "distinct", None),
    ]
    checks = []
    for label, key, base_key, target in spec:
        if not pilotis.get(f"t_{key}"):
            continue  # e.g. no shared cache behind the app's cache (memory://)
        med = median_ms(pilotis[f"t_{key}"])
        rows.append(
            [label, *cell(pilotis, key), vs(read, base_key, med), vs(frame, base_key, med)]
            + [fmt(median_ms(frame[f"t_{base_key}"]), 2) if frame.get(f"t_{base_key}") else "—"]
        )
        if target:
            checks.append(
                (
                    f"{label.split('**')[1] if '**' in label else label}: p50 ≤ {TARGETS_MS[target]:.0f} ms",
                    med <= TARGETS_MS[target],
                    f"{med:.2f} ms",
                )
            )
    timing = md_table(
        ["Request (in-process)", "Runs", "p50 (ms)", "p95 (ms)", "Speed-up vs (a)", "Speed-up vs (b)", "(b) p50 (ms)"],
        rows,
    )
    memory = md_table(
        [
            "Process",
            "RSS after imports (MB)",
            "One-off load (s)",
            "RSS after load (MB)",
            "Peak RSS (MB)",
            "Peak vs (b)",
        ],
        [
            [
                "Pilotis (registry with both files + DuckDB); peak while serving KPIs, group-bys, DISTINCT",
                fmt(pilotis["rss_imports"], 0),
                fmt(pilotis["load_s"], 2),
                fmt(pilotis["rss_loaded"], 0),
                fmt(pilotis["peak_rss"], 0),
                f"{pilotis['peak_rss'] / frame['peak_rss']:.2f}",
            ],
            [
                "(a) pandas read per request",
                fmt(read["rss_imports"], 0),
                "—",
                "—",
                fmt(read["peak_rss"], 0),
                f"{read['peak_rss'] / frame['peak_rss']:.2f}",
            ],
            [
                "(b) pandas global DataFrames",
                fmt(frame["rss_imports"], 0),
                fmt(frame["load_s"], 2),
                fmt(frame["rss_loaded"], 0),
                fmt(frame["peak_rss"], 0),
                "1.00",
            ],
        ],
    )
    p, b = http["pilotis"], http["baseline"]
    hwm = max(v[0] for v in http["rss"].values())

    def workers(mem: dict[Any, tuple[float, float]]) -> str:
        return ", ".join(f"{rss:.0f} / {peak:.0f}" for peak, rss in mem.values())

    http_table = md_table(
        [
            "gunicorn -w 2, 16 clients (wrk)",
            "Requests",
            "Requests/s",
            "p50 (ms)",
            "p95 (ms)",
            "Errors",
            "Worker RSS now / peak (MB)",
            "Throughput vs baseline",
        ],
        [
            [
                "**Pilotis** KPI widget callback (cached, signed in)",
                str(p["requests"]),
                fmt(p["rps"], 0),
                fmt(p["p50"], 1),
                fmt(p["p95"], 1),
                str(p["errors"]),
                workers(http["rss"]),
                ratio(p["rps"] / b["rps"]),
            ],
            [
                "Plain Dash, global DataFrame (10 M rows) per worker",
                str(b["requests"]),
                fmt(b["rps"], 0),
                fmt(b["p50"], 1),
                fmt(b["p95"], 1),
                str(b["errors"]),
                workers(http["base_rss"]),
                "1.0×",
            ],
        ],
    )
    checks.append(
        (
            "Cached callback over HTTP ≥ 300 requests/s",
            p["rps"] >= TARGET_RPS and p["errors"] == 0,
            f"{p['rps']:.0f} req/s",
        )
    )
    checks.append(("Worker peak RSS ≤ 300 MB (10 M-row source registered)", hwm <= TARGET_RSS_MB, f"{hwm:.0f} MB"))
    checks.append(
        (
            "Peak RSS ≤ 300 MB while running the 10 M-row group-by (in-process)",
            pilotis["peak_group_sensor"] <= TARGET_RSS_MB,
            f"{pilotis['peak_group_sensor']:.0f} MB",
        )
    )
    verdict = md_table(["Target", "Measured", "Met"], [[n_, v, "yes" if ok else "**NO**"] for n_, ok, v in checks])

    parts = [
        "## Big sources: 10 M-row sensor Parquet and 1 M-row accounting Parquet",
        f"Data: `{SENSORS.relative_to(ROOT)}` ({SENSORS.stat().st_size / 1e6:.0f} MB, 10 row groups of 1 M rows, "
        f"40 sensors × 250 000 minutes from {START:%Y-%m-%d}, sorted by time) and `{COMPTA.relative_to(ROOT)}` "
        f"({COMPTA.stat().st_size / 1e6:.0f} MB, 240 communes × 120 months × 12 chapters). Pilotis: `load_registry` "
        f"+ `DataService.query`, {pilotis['cache']} cache (uncached rows: new keys or cache cleared before each run, "
        "checked with the hit counter). Baselines: (a) `pd.read_parquet` of the whole file per request "
        f"({len(read['t_kpi_sensor'])} runs), (b) global DataFrames. All answers checked equal (6 decimals). "
        f"Load average: {load_before} before, {load_after} after.",
        timing,
        memory,
        "Pilotis peak RSS per phase (each window measured from its own start, Linux `VmHWM` reset): "
        f"loading the registry {pilotis['peak_load']:.0f} MB, KPI requests {pilotis['peak_kpi']:.0f} MB, "
        f"accounting group-by {pilotis['peak_group_compta']:.0f} MB, 10 M-row commune × day group-by "
        f"{pilotis['peak_group_sensor']:.0f} MB, dropdown and DISTINCT over the 10 M rows "
        f"{pilotis['peak_distinct']:.0f} MB"
        + (f", PostgreSQL phase {pilotis['peak_pg']:.0f} MB" if "peak_pg" in pilotis else "")
        + ".",
        f"HTTP: {http_seconds or (5 if quick else 10)} s of `wrk -t2 -c16` per app on the same 2 cores as the server; "
        f"Pilotis started in {http['start_s']:.1f} s (baseline {http['base_start_s']:.1f} s, it reads the file in "
        f"each worker); first widget callback {http['first_s'] * 1000:.0f} ms (DuckDB), second "
        f"{http['second_s'] * 1000:.0f} ms (shared cache).",
        http_table,
    ]
    if with_pg:
        pg_rows = []
        for label, key in (
            ("KPI 1 commune × 1 month, no index", "pg_kpi_noindex"),
            ("KPI, index (code_insee, date)", "pg_kpi_index"),
            ("KPI, pre-aggregated commune × month × chapter table", "pg_kpi_agg"),
            ("Group-by commune × month, no index", "pg_group_noindex"),
            ("Group-by, index (code_insee, date)", "pg_group_index"),
            ("Group-by, pre-aggregated table", "pg_group_agg"),
        ):
            base = "kpi_compta" if "kpi" in key else "group_compta"
            med = median_ms(pilotis[f"t_{key}"])
            pg_rows.append([label, *cell(pilotis, key), ratio(median_ms(pilotis[f"t_{base}"]) / med)])
        parts += [
            f"PostgreSQL (`type: sql`, 1 M rows copied into schema `{PG_SCHEMA}` in {pg_load_s:.1f} s, dropped "
            "afterwards); last column: Pilotis on the Parquet file ÷ the row (above 1 = PostgreSQL faster).",
            md_table(["PostgreSQL query (uncached)", "Runs", "p50 (ms)", "p95 (ms)", "vs Parquet/DuckDB"], pg_rows),
        ]
    else:
        parts.append("PostgreSQL: skipped (no server on 127.0.0.1:5432 or `--skip-pg`).")
    parts.append(verdict)
    return "\n\n".join(parts) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--http-seconds", type=int)
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--generate", action="store_true", help="only generate the data")
    parser.add_argument("--child", choices=("pilotis", "read", "global"), help=argparse.SUPPRESS)
    parser.add_argument("--child-output", help=argparse.SUPPRESS)
    parser.add_argument("-n", type=int, default=10, help=argparse.SUPPRESS)
    parser.add_argument("--reps", type=int, default=5, help=argparse.SUPPRESS)
    parser.add_argument("--pg", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate()
        return
    if args.child:
        sys.path.insert(0, str(ROOT))
        if args.child == "pilotis":
            result = child_pilotis(args.n, args.reps, args.pg)
        else:
            result = child_pandas(args.child, args.n, args.reps)
        Path(args.child_output).write_text(json.dumps(result), encoding="utf-8")
        return
    print(run(quick=args.quick, http_seconds=args.http_seconds, skip_pg=args.skip_pg))


if __name__ == "__main__":
    main()
