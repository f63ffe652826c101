"""Benchmark of the KPI query path on a 10-million-row Parquet file, against plain-Dash baselines.

The request is what a KPI callback asks for: one commune, one year, ``sum(foyers)`` by month.
Three approaches answer the same requests, each in its own fresh child process (so that the
peak memory of one does not leak into another and every "cold" figure is really cold):

* **Pilotis**: ``load_registry`` on a temporary configuration declaring the Parquet file, then
  ``RenderContext.query`` -> ``DataService.query(Query(...))`` -> DuckDB on the file, exactly
  the call a widget callback makes. Every request of the timed loop is a new (commune, year),
  so every call misses the result cache; the same requests are then replayed (cache hits).
  The KPI widget itself (``Kpi.values``, which also reads the previous year for its
  comparison) is timed with the cache cleared before each call.
* **(a) pandas read per request**: ``pd.read_parquet(path)`` of the whole file, then filter and
  group by, on every request (what a plain Dash app does when it reads in the callback).
* **(b) pandas global DataFrame**: the whole file read once into a module-level DataFrame,
  then a boolean filter and group by per request (the other plain-Dash habit).

The answers of all three are compared (exact integers) before any figure is printed.
Usage: ``python bench/bench_kpi.py [--quick] [--explain]``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import inspect
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    PORTAL_YAML,
    REFERENCE_DATASETS_YAML,
    ROOT,
    current_rss_mb,
    ensure_bench_data,
    fmt,
    load_average,
    md_table,
    median_ms,
    p95_ms,
    peak_rss_mb,
    ratio,
)

DATA = ROOT / "bench" / "data" / "rsa_bench.parquet"
YEARS = tuple(range(2015, 2025))
RANKS = (0, 5, 20, 60, 120, 239)
"""Population ranks of the sampled communes: from Laval (~9 % of the rows) to the smallest."""

Answer = dict[str, int]
"""A request's result: ``{"2020-01-01": 1234, ...}`` (month -> sum of foyers)."""


# --------------------------------------------------------------------------- the requests
def _communes_by_population() -> list[str]:
    """INSEE codes of the communes of ``data/communes.csv``, most populated first."""
    with open(ROOT / "data" / "communes.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows.sort(key=lambda row: (-int(row["population"]), row["code_insee"]))
    return [row["code_insee"] for row in rows]


def sampled_communes() -> list[str]:
    """INSEE codes of communes of very different sizes (rows per commune follow population)."""
    codes = _communes_by_population()
    return [codes[min(rank, len(codes) - 1)] for rank in RANKS]


def plan(n: int) -> list[tuple[str, int]]:
    """``n`` distinct (commune, year) requests; each block of 6 visits every sampled commune."""
    communes = sampled_communes()
    pairs = [
        (code, YEARS[(block + 3 * i) % len(YEARS)]) for block in range(len(YEARS)) for i, code in enumerate(communes)
    ]
    assert len(set(pairs)) == len(pairs)
    return pairs[: min(n, len(pairs))]


def cold_request() -> tuple[str, int]:
    """The first request of every child: a commune that the timed plan never asks for."""
    return _communes_by_population()[1], 2024


# --------------------------------------------------------------------------- children
def _timed(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = func()
    return time.perf_counter() - start, value


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime  # every thread of the process (DuckDB's included)


class Timings:
    """Wall-clock and CPU time of each call (CPU time does not grow when the machine is busy)."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __call__(self, func: Callable[[], Any]) -> Any:
        cpu, start = _cpu_seconds(), time.perf_counter()
        value = func()
        self.wall.append(time.perf_counter() - start)
        self.cpu.append(_cpu_seconds() - cpu)
        return value

    def export(self, out: dict[str, Any], name: str) -> None:
        """Store the timings as ``out[name]`` (wall seconds) and ``out[name + "_cpu"]``."""
        out[name], out[f"{name}_cpu"] = self.wall, self.cpu


def _plain_dash_imports() -> None:
    """What every process imports anyway: a Dash app with pandas and pyarrow."""
    import dash  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401


def pandas_answer(frame: Any, code: str, year: int) -> Answer:
    """The baseline's filter + group by, written the way a careful plain Dash app would.

    The commune filter runs first (vectorised string comparison), the date range then runs on
    that subset only (``pd.read_parquet`` gives ``datetime.date`` objects for a date32 column).
    """
    rows = frame[frame["code_insee"] == code]
    rows = rows[(rows["date"] >= dt.date(year, 1, 1)) & (rows["date"] < dt.date(year + 1, 1, 1))]
    series = rows.groupby("date")["foyers"].sum()
    return {day.isoformat(): int(value) for day, value in series.items()}


def _frame_answer(frame: Any, period: str = "periode", value: str = "valeur") -> Answer:
    import pandas as pd

    return {
        pd.Timestamp(day).date().isoformat(): int(round(float(total)))
        for day, total in zip(frame[period], frame[value], strict=True)
        if not pd.isna(total)
    }


DATASETS_YAML = (
    REFERENCE_DATASETS_YAML
    + """\
rsa_bench:
  type: parquet
  path: %s
  title: RSA synthétique (banc d'essai, 10 millions de lignes)
  simulated: true
  territory: {commune: code_insee, epci: epci_siren}
  period: {column: date, grain: month}
"""
)

DASHBOARD_YAML = """\
id: bench
title: Banc d'essai
filters:
  territory: {}
  period: {dataset: rsa_bench}
widgets:
  - id: foyers
    type: kpi
    title: Foyers allocataires
    dataset: rsa_bench
    measure: sum(foyers)
    unit: foyers
"""


def _app_cache(instance: Path) -> tuple[Any, str]:
    """The result cache ``python app.py`` would use with this instance folder, and its name."""
    from pilotis.core import cache as caches
    from pilotis.core.settings import Settings

    make_cache = getattr(caches, "make_cache", None)
    if make_cache is None:  # older engine: one in-process cache
        return caches.TTLCache(), "in-process"
    settings = Settings.from_env(instance_dir=instance)
    return make_cache(settings.cache_url, settings.cache_prefix), settings.cache_url.split(":")[0]


def child_pilotis(n: int, n_widget: int, explain: bool) -> dict[str, Any]:
    """Pilotis: registry on a temporary configuration, then the widget's query path."""
    _plain_dash_imports()
    from layouts.kpi import Kpi
    from pilotis.core.cache import TTLCache
    from pilotis.core.data import DataService
    from pilotis.core.loader import load_registry
    from pilotis.core.query import PERIOD
    from pilotis.core.territory import Territory, TerritoryIndex
    from pilotis.core.widgets import RenderContext
    from pilotis.plugins import register_builtins

    register_builtins()  # the shipped widget and source types, as app.py does
    out: dict[str, Any] = {"rss_imports": current_rss_mb()}
    with tempfile.TemporaryDirectory(prefix="pilotis-bench-") as tmp:
        config, dashboards = Path(tmp, "config"), Path(tmp, "dashboards")
        instance = Path(tmp, "instance")
        (config / "datasets").mkdir(parents=True)
        dashboards.mkdir()
        (config / "portal.yaml").write_text(PORTAL_YAML, encoding="utf-8")
        (config / "datasets" / "bench.yaml").write_text(DATASETS_YAML % json.dumps(str(DATA)), encoding="utf-8")
        (dashboards / "bench.yaml").write_text(DASHBOARD_YAML, encoding="utf-8")
        options: dict[str, Any] = {}
        if "instance_dir" in inspect.signature(load_registry).parameters:
            options["instance_dir"] = instance  # derived files in the temporary folder
        out["load_s"], registry = _timed(lambda: load_registry(ROOT, config, dashboards, **options))
        cache, out["cache"] = _app_cache(instance)
        data = DataService(registry.datasets, cache)
        territories = TerritoryIndex.load(data, "communes", "53", "Mayenne")
        dashboard = registry.dashboards["bench"]
        widget = dashboard.widget("foyers")

        def context(code: str, year: int, service: Any = data) -> RenderContext:
            return RenderContext(
                registry=registry,
                dashboard=dashboard,
                data=service,
                territories=territories,
                territory=Territory("commune", code),
                year=year,
            )

        def request(code: str, year: int, service: Any = data) -> Answer:
            ctx = context(code, year, service)
            frame, exact = ctx.query(widget, {"valeur": widget.measure}, (PERIOD,))
            assert exact
            return _frame_answer(frame, PERIOD)

        requests = plan(n)
        cold_timing = Timings()
        cold = cold_timing(lambda: request(*cold_request()))
        cold_timing.export(out, "first")
        answers: list[Answer] = []
        uncached, cached, memory, widget_timings = Timings(), Timings(), Timings(), Timings()
        hits = data.cache.hits
        for code, year in requests:
            answers.append(uncached(lambda c=code, y=year: request(c, y)))
        # No lookup found anything: no timed "uncached" request was served by the cache.
        assert data.cache.hits == hits, "a timed 'uncached' request hit the result cache"
        hits = data.cache.hits
        for (code, year), first in zip(requests, answers, strict=True):
            assert cached(lambda c=code, y=year: request(c, y)) == first
        assert data.cache.hits - hits >= len(requests), "a replayed request missed the cache"

        if out["cache"] != "in-process":  # the same misses with an in-process cache
            in_process = DataService(registry.datasets, TTLCache())
            for (code, year), first in zip(requests, answers, strict=True):
                assert memory(lambda c=code, y=year: request(c, y, in_process)) == first
            assert in_process.cache.hits == 0

        widget_values = []
        try:  # an extra row: a bug of the widget must not hide the query path's figures
            for code, year in requests[:n_widget]:
                data.cache.clear()
                values = widget_timings(lambda c=code, y=year: Kpi.values(widget, context(c, y)))
                widget_values.append(int(values["value"]))
        except Exception as exc:  # noqa: BLE001 - reported in the table
            out["widget_error"] = f"{exc.__class__.__name__}: {exc}"
            widget_timings, widget_values = Timings(), []

        if explain:
            out.update(_explain(registry, lambda: request(cold_request()[0], 2023)))

    uncached.export(out, "uncached")
    cached.export(out, "cached")
    memory.export(out, "memory")
    widget_timings.export(out, "widget")
    out.update(cold=cold, answers=answers, widget_values=widget_values, peak_rss=peak_rss_mb())
    return out


def _explain(registry: Any, run_request: Callable[[], Any]) -> dict[str, Any]:
    """The SQL that DuckDB really received for one (uncached) request, and its EXPLAIN ANALYZE."""
    seen: list[tuple[str, Any]] = []
    duck = registry.duck
    real_cursor = duck.cursor

    class Recorder:
        def __init__(self, cursor: Any) -> None:
            self._cursor = cursor

        def execute(self, sql: str, params: Any = None) -> Any:
            seen.append((sql, params))
            return self._cursor.execute(sql, params) if params else self._cursor.execute(sql)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._cursor, name)

    duck.cursor = lambda: Recorder(real_cursor())
    try:
        run_request()
    finally:
        del duck.cursor  # back to the class's method
    sql, params = next((s, p) for s, p in reversed(seen) if s.lstrip().upper().startswith("SELECT"))
    plan_text = real_cursor().execute("EXPLAIN ANALYZE " + sql, params or []).fetchall()[0][1]
    sql = "\n".join(line.rstrip() for line in sql.splitlines())
    return {"sql": sql, "params": [str(p) for p in params or []], "explain": plan_text}


def child_pandas_read(n: int) -> dict[str, Any]:
    """Baseline (a): read the whole Parquet file with pandas on every request."""
    _plain_dash_imports()
    import pandas as pd

    out: dict[str, Any] = {"rss_imports": current_rss_mb()}

    def request(code: str, year: int) -> Answer:
        frame = pd.read_parquet(DATA)
        return pandas_answer(frame, code, year)

    cold = Timings()
    out["cold"] = cold(lambda: request(*cold_request()))
    cold.export(out, "first")
    timings = Timings()
    out["answers"] = [timings(lambda c=code, y=year: request(c, y)) for code, year in plan(n)]
    timings.export(out, "uncached")
    out["peak_rss"] = peak_rss_mb()
    return out


GLOBAL_FRAME: Any = None
"""Baseline (b)'s module-level DataFrame (the plain-Dash "global variable" habit)."""


def child_pandas_global(n: int) -> dict[str, Any]:
    """Baseline (b): the whole file held in a global DataFrame, filtered per request."""
    global GLOBAL_FRAME
    _plain_dash_imports()
    import pandas as pd

    out: dict[str, Any] = {"rss_imports": current_rss_mb()}
    out["load_s"], GLOBAL_FRAME = _timed(lambda: pd.read_parquet(DATA))
    out["rss_loaded"] = current_rss_mb()
    cold = Timings()
    out["cold"] = cold(lambda: pandas_answer(GLOBAL_FRAME, *cold_request()))
    cold.export(out, "first")
    timings = Timings()
    out["answers"] = [timings(lambda c=code, y=year: pandas_answer(GLOBAL_FRAME, c, y)) for code, year in plan(n)]
    timings.export(out, "uncached")
    out["peak_rss"] = peak_rss_mb()
    return out


def _spawn(args: list[str], timeout: float) -> dict[str, Any]:
    """Run this script as a child process and return the JSON it writes."""
    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        subprocess.run(
            [sys.executable, __file__, "--child-output", result.name, *args],
            check=True,
            cwd=ROOT,
            timeout=timeout,
        )
        return json.loads(Path(result.name).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- report
def run(quick: bool = False, explain: bool = False) -> str:
    """Run the three approaches (one child process each); return the Markdown report."""
    ensure_bench_data(DATA)
    load_before = load_average()
    n_pilotis, n_widget = (30, 10) if quick else (60, 20)
    n_global, n_read = (12, 3) if quick else (30, 6)
    pilotis = _spawn(
        ["--child", "pilotis", "-n", str(n_pilotis), "--widget", str(n_widget)] + (["--explain"] if explain else []),
        timeout=300,
    )
    read = _spawn(["--child", "pandas_read", "-n", str(n_read)], timeout=300)
    frame = _spawn(["--child", "pandas_global", "-n", str(n_global)], timeout=300)
    load_after = load_average()

    # Same answers everywhere (exact integers), before any figure is reported.
    assert pilotis["cold"] == read["cold"] == frame["cold"], "cold request: answers differ"
    assert pilotis["cold"] and len(pilotis["cold"]) == 12, pilotis["cold"]
    for name, other in (("(a)", read), ("(b)", frame)):
        for i, answer in enumerate(other["answers"]):
            where = plan(i + 1)[-1]
            assert answer == pilotis["answers"][i], f"{name} request {where}: answers differ"
    for i, value in enumerate(pilotis["widget_values"]):
        assert value == sum(pilotis["answers"][i].values()), f"KPI widget value {i} differs"

    backend = {"file": "file cache", "redis": "Redis cache"}.get(pilotis["cache"], f"{pilotis['cache']} cache")
    a_med = median_ms(read["uncached"])
    b_med = median_ms(frame["uncached"])

    def cpu_ms(result: dict[str, Any], key: str) -> float:
        values = result[f"{key}_cpu"]
        return sum(values) / len(values) * 1000

    def row(label: str, result: dict[str, Any], key: str) -> list[str]:
        seconds = result[key]
        med = median_ms(seconds)
        return [
            label,
            str(len(seconds)),
            fmt(med),
            fmt(p95_ms(seconds)) if len(seconds) > 1 else "—",
            fmt(cpu_ms(result, key)),
            ratio(a_med / med),
            ratio(b_med / med),
        ]

    failed = [f"Pilotis KPI widget `Kpi.values`: **failed** ({pilotis.get('widget_error')})"]
    timing = md_table(
        [
            "Approach (one KPI request)",
            "Requests",
            "Median (ms)",
            "p95 (ms)",
            "CPU (ms/request)",
            "Speed-up vs (a)",
            "Speed-up vs (b)",
        ],
        [
            row("Pilotis, cold (1st query of a fresh process)", pilotis, "first"),
            row(f"**Pilotis, uncached-warm** (new query, {backend})", pilotis, "uncached"),
            *([row("Pilotis, uncached-warm, in-process cache", pilotis, "memory")] if pilotis["memory"] else []),
            row(f"Pilotis, cached (same query again, {backend})", pilotis, "cached"),
            row("Pilotis KPI widget `Kpi.values` (year + year before)", pilotis, "widget")
            if pilotis["widget"]
            else failed + ["—"] * 6,
            row("(a) pandas `read_parquet` + filter per request", read, "uncached"),
            row("(b) pandas global DataFrame, filter per request", frame, "uncached"),
        ],
    )
    b_peak = frame["peak_rss"]
    memory = md_table(
        [
            "Process (after its requests)",
            "RSS after imports (MB)",
            "One-off load (s)",
            "Peak RSS (MB)",
            "Peak vs (b)",
        ],
        [
            [
                "Pilotis (registry + DuckDB on the Parquet file)",
                fmt(pilotis["rss_imports"], 0),
                fmt(pilotis["load_s"], 2) + " (`load_registry`)",
                fmt(pilotis["peak_rss"], 0),
                f"{pilotis['peak_rss'] / b_peak:.2f}",
            ],
            [
                "(a) pandas read per request",
                fmt(read["rss_imports"], 0),
                "—",
                fmt(read["peak_rss"], 0),
                f"{read['peak_rss'] / b_peak:.2f}",
            ],
            [
                "(b) pandas global DataFrame",
                fmt(frame["rss_imports"], 0),
                fmt(frame["load_s"], 2) + " (`read_parquet`)",
                fmt(b_peak, 0),
                "1.00",
            ],
        ],
    )
    p_med = median_ms(pilotis["uncached"])
    p_cpu, a_cpu, b_cpu = (cpu_ms(r, "uncached") for r in (pilotis, read, frame))
    checks = [
        (
            "≥ 20× faster than (a)",
            a_med / p_med >= 20,
            f"{a_med / p_med:.1f}×",
            f"{a_cpu / p_cpu:.1f}×",
        ),
        ("faster than (b)", p_med < b_med, f"{b_med / p_med:.1f}×", f"{b_cpu / p_cpu:.1f}×"),
        (
            "≤ 1/3 of (b)'s peak memory",
            pilotis["peak_rss"] <= b_peak / 3,
            f"{pilotis['peak_rss'] / b_peak:.2f} of (b)",
            "",
        ),
    ]
    verdict = md_table(
        ["Target (Pilotis uncached-warm)", "Measured (median time)", "Same in CPU time", "Met"],
        [[name, value, cpu, "yes" if ok else "**NO**"] for name, ok, value, cpu in checks],
    )
    parts = [
        "## KPI query: one commune, one year, `sum(foyers)` by month, 10 M rows",
        f"Data: `{DATA.relative_to(ROOT)}` ({DATA.stat().st_size / 1e6:.0f} MB, 10 row groups). "
        f"Requests: {len(sampled_communes())} communes from the largest to the smallest × "
        "10 years; each process runs 1 cold request, then the timed ones (all different). "
        "All answers were checked equal across the three approaches. "
        f"Load average: {load_before} before, {load_after} after.",
        timing,
        memory,
        verdict,
    ]
    if explain:
        parts.append(
            "DuckDB plan of the first uncached request (`EXPLAIN ANALYZE`):\n\n```\n"
            f"{pilotis['sql']}\n-- {pilotis['params']}\n{pilotis['explain']}```"
        )
    return "\n\n".join(parts) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (~half the time)")
    parser.add_argument("--explain", action="store_true", help="show DuckDB's EXPLAIN ANALYZE")
    parser.add_argument("--child", choices=("pilotis", "pandas_read", "pandas_global"), help=argparse.SUPPRESS)
    parser.add_argument("--child-output", help=argparse.SUPPRESS)
    parser.add_argument("-n", type=int, default=10, help=argparse.SUPPRESS)
    parser.add_argument("--widget", type=int, default=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        if args.child == "pilotis":
            result = child_pilotis(args.n, args.widget, args.explain)
        elif args.child == "pandas_read":
            result = child_pandas_read(args.n)
        else:
            result = child_pandas_global(args.n)
        Path(args.child_output).write_text(json.dumps(result), encoding="utf-8")
        return
    print(run(quick=args.quick, explain=args.explain))


if __name__ == "__main__":
    main()
