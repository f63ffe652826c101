"""Benchmark of the « Pilotage » overview: all its KPI callbacks, with and without query sharing.

One *page* = every KPI widget of ``dashboards/pilotage.yaml`` rendered as its callback renders
it (``Portal.render_widget`` for the demo president: access rules, comparisons, sparkline,
freshness), one after the other, on the shipped configuration and data. Two ways of computing
the same cards, in the same process, alternated so that the machine's state is the same:

* **Pilotis**: the KPIs of the page share their queries — the KPIs reading a dataset with the
  same filters ask one grouped query carrying all their measures, and identical queries (an
  indicator used by a formula and by its own card, a reference table) are answered by the
  shared result cache. Timed twice: *cold* (the cache emptied before the page: the first
  visitor) and *warm* (the page again: the next visitors within the data's lifetime).
* **Baseline**: the same cards, each KPI computed alone (``layouts.kpi.BATCH = False``) and no
  result cache at all (every query goes to the source), i.e. without the shared batching and
  caching.

Before any figure is printed, the values and comparisons of every card are checked equal in
both ways (the cards must be the same, only the work differs). Source queries are counted
(calls that reach DuckDB / the database). Usage: ``python bench/bench_overview.py [--quick]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, fmt, load_average, md_table, median_ms, p95_ms, ratio  # noqa: E402

sys.path.insert(0, str(ROOT))

TERRITORIES = ("departement:53", "epci:200083392", "commune:53130")
"""The whole département, Laval Agglomération, Laval: what the president looks at."""


class NullCache:
    """A cache that never keeps anything: every query goes to its source."""

    hits = 0
    misses = 0

    def get(self, key: str) -> tuple[bool, Any]:
        self.misses += 1
        return False, None

    def get_with_ttl(self, key: str) -> tuple[bool, Any, float]:
        self.misses += 1
        return False, None, 0.0

    def set(self, key: str, value: Any, ttl: float) -> None:
        return None

    def set_many(self, entries: Any) -> None:
        return None

    def delete(self, key: str) -> None:
        return None

    def clear_namespace(self, namespace: str) -> None:
        return None

    def clear(self) -> None:
        return None


def _portal(instance: Path, cache: Any) -> Any:
    from pilotis.core.data import DataService
    from pilotis.core.loader import load_registry
    from pilotis.core.settings import Settings
    from pilotis.plugins import register_builtins
    from pilotis.ui.portal import Portal

    register_builtins()  # the shipped widget and source types, as app.py does
    settings = Settings.from_env(instance_dir=instance)
    registry = load_registry(settings.root, settings.config_dir, settings.dashboards_dir, instance_dir=instance)
    return Portal(settings=settings, registry=registry, data=DataService(registry.datasets, cache))


def _counting(portal: Any) -> list[int]:
    """Count the queries that reach a source (``DataService._run``)."""
    counter = [0]
    service = portal.data
    original = service._run

    def run(source: Any, query: Any, now: float) -> Any:
        counter[0] += 1
        return original(source, query, now)

    service._run = run
    return counter


def _cards(portal: Any, principal: Any, territory: str) -> list[dict[str, Any]]:
    """What every KPI card of the overview shows (values and comparisons), to compare ways."""
    from layouts.kpi import Kpi

    dashboard = portal.registry.dashboards["pilotage"]
    ctx = portal.render_context(dashboard, territory, None, principal=principal)
    cards = []
    for widget in dashboard.widgets:
        if widget.type == "kpi":
            result = Kpi.evaluator(widget, ctx).result(widget.compare_items(), widget.sparkline)
            cards.append(dataclasses.asdict(result))
    return cards


def _rounded(value: Any) -> Any:
    """Floats to 9 significant digits (sums added in another order differ in the last bits)."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def run(quick: bool = False) -> str:
    """Time both ways and return the Markdown report."""
    import layouts.kpi as kpi_module
    from pilotis.core.access import Principal
    from pilotis.core.cache import TTLCache, make_cache
    from pilotis.core.settings import Settings

    repetitions = 5 if quick else 15
    president = Principal("president", "direction-generale", frozenset({"president"}))
    with tempfile.TemporaryDirectory(prefix="pilotis-bench-overview-") as tmp:
        instance = Path(tmp)
        settings = Settings.from_env(instance_dir=instance / "shared")
        shared = _portal(instance / "shared", make_cache(settings.cache_url, settings.cache_prefix))
        memory = _portal(instance / "memory", TTLCache())
        alone = _portal(instance / "alone", NullCache())
        backend = settings.cache_url.split(":")[0]
        counts = {
            "shared": _counting(shared),
            "memory": _counting(memory),
            "alone": _counting(alone),
        }
        dashboard = shared.registry.dashboards["pilotage"]
        widgets = [w for w in dashboard.widgets if w.type == "kpi"]
        for portal in (shared, memory, alone):
            _ = portal.territories  # the commune reference, read once per process (not timed)

        def page(portal: Any, territory: str, batch: bool) -> float:
            kpi_module.BATCH = batch
            try:
                start = time.perf_counter()
                for widget in widgets:
                    portal.render_widget(
                        portal.registry.dashboards["pilotage"],
                        widget,
                        territory,
                        None,
                        principal=president,
                    )
                return time.perf_counter() - start
            finally:
                kpi_module.BATCH = True

        # Same cards both ways, before any timing.
        for territory in TERRITORIES:
            kpi_module.BATCH = False
            try:
                expected = _cards(alone, president, territory)
            finally:
                kpi_module.BATCH = True
            assert _rounded(_cards(shared, president, territory)) == _rounded(expected), f"cards differ for {territory}"

        timings: dict[str, list[float]] = {"cold": [], "warm": [], "memory": [], "alone": []}
        queries: dict[str, list[int]] = {"cold": [], "warm": [], "memory": [], "alone": []}

        def timed(key: str, portal: Any, counter: str, territory: str, batch: bool) -> None:
            before = counts[counter][0]
            timings[key].append(page(portal, territory, batch=batch))
            queries[key].append(counts[counter][0] - before)

        for _ in range(2):  # warm-up: DuckDB views, OS file cache, imports
            for territory in TERRITORIES:
                page(alone, territory, batch=False)
                for portal in (shared, memory):
                    portal.data.cache.clear()
                    page(portal, territory, batch=True)
        for _ in range(repetitions):
            for territory in TERRITORIES:
                timed("alone", alone, "alone", territory, batch=False)
                shared.data.cache.clear()
                timed("cold", shared, "shared", territory, batch=True)
                timed("warm", shared, "shared", territory, batch=True)
                memory.data.cache.clear()
                timed("memory", memory, "memory", territory, batch=True)

    base = median_ms(timings["alone"])

    def row(label: str, key: str) -> list[str]:
        med = median_ms(timings[key])
        per_page = sum(queries[key]) / len(queries[key])
        return [
            label,
            str(len(timings[key])),
            fmt(med),
            fmt(p95_ms(timings[key])),
            fmt(per_page, 1),
            ratio(base / med),
        ]

    table = md_table(
        [
            "Overview page (all KPI callbacks)",
            "Pages",
            "Median (ms)",
            "p95 (ms)",
            "Source queries / page",
            "Speed-up vs baseline",
        ],
        [
            row(f"**Pilotis, shared queries, cold cache** ({backend} cache emptied first)", "cold"),
            row("Pilotis, shared queries, cold in-process cache (`TTLCache`)", "memory"),
            row(f"Pilotis, shared queries, warm cache ({backend} cache)", "warm"),
            row("Baseline: each KPI alone, no cache", "alone"),
        ],
    )
    cold_ratio = base / median_ms(timings["cold"])
    memory_ratio = base / median_ms(timings["memory"])
    warm_ratio = base / median_ms(timings["warm"])
    saved = 1 - (sum(queries["cold"]) / max(sum(queries["alone"]), 1))
    return (
        "## Overview (« Pilotage ») page\n\n"
        f"{len(widgets)} KPI cards (comparisons, targets, sparklines) for the demo president, "
        f"territories {', '.join(TERRITORIES)}; {repetitions} pages per territory and way. "
        f"Load: {load_average()}. Cards checked identical in both ways.\n\n"
        f"{table}\n\n"
        f"Ratio (baseline ÷ Pilotis): **{cold_ratio:.1f}×** for a first visitor ({backend} cache "
        f"emptied: it pays the cache writes), **{memory_ratio:.1f}×** with an in-process cache, "
        f"**{warm_ratio:.1f}×** for the next visitors (warm cache). Sharing saves "
        f"{saved:.0%} of the source queries of a first page.\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    print(run(quick=args.quick))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
