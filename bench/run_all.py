"""Run every benchmark and print one Markdown report (``make bench``).

Usage: ``python bench/run_all.py [--quick] [--explain] [--runs N] [--results FILE]``.
``--results bench/RESULTS.md`` also writes the report there (the committed latest figures).
The exit status is 1 when a benchmark failed or a target was missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_frontend  # noqa: E402
import bench_kpi  # noqa: E402
import bench_nginx  # noqa: E402
import bench_overview  # noqa: E402
import bench_peers  # noqa: E402
import bench_sessions  # noqa: E402
import bench_sources  # noqa: E402
import bench_startup  # noqa: E402
from common import machine  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--explain", action="store_true", help="add DuckDB's EXPLAIN ANALYZE")
    parser.add_argument("--runs", type=int, default=3, help="starts of each app (default 3)")
    parser.add_argument("--results", type=Path, help="also write the report to this file")
    args = parser.parse_args()

    started = time.perf_counter()
    sections = [
        "# Pilotis benchmarks",
        f"Run on {dt.datetime.now():%Y-%m-%d %H:%M}. Machine: {machine()}.",
    ]
    failed = False
    for name, bench in (
        ("KPI query", lambda: bench_kpi.run(quick=args.quick, explain=args.explain)),
        ("overview page", lambda: bench_overview.run(quick=args.quick)),
        ("start-up", lambda: bench_startup.run(runs=args.runs)),
        ("big sources", lambda: bench_sources.run(quick=args.quick)),
        ("session check", lambda: bench_sessions.run(quick=args.quick)),
        ("front end", lambda: bench_frontend.run(runs=1 if args.quick else 3)),
        ("nginx layouts", lambda: bench_nginx.run(quick=args.quick)),
        ("peers", lambda: bench_peers.run(runs=args.runs, quick=args.quick)),
    ):
        print(f"running the {name} benchmark…", file=sys.stderr, flush=True)
        try:
            report = bench()
        except Exception:  # noqa: BLE001 - report the failure, run the other benchmarks
            failed = True
            report = f"## {name}: FAILED\n\n```\n{traceback.format_exc()}```\n"
        failed = failed or "**NO**" in report
        sections.append(report.strip())
    sections.append(f"Total benchmark time: {time.perf_counter() - started:.0f} s.")
    text = "\n\n".join(sections) + "\n"
    print(text)
    if args.results:
        args.results.write_text(text, encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
