"""Benchmark of the commission report: time to produce ``config/reports/commission-rsa.yaml`` for
one territory as a PDF, cold cache, and its size.

One sample = a fresh data service (empty cache: every query runs on the files) and a fresh
territory index, then :func:`compute` (every section's figures for an agent of the solidarités
direction) and :func:`render_pdf` (WeasyPrint, PDF/UA-1, fonts embedded). Target: ≤ 5 s.

Baseline, measured in the same run: WeasyPrint rendering a one-page trivial HTML document with
the same embedded font and the same PDF/UA options (what any PDF costs here): the ratio says what
the report adds.

Usage: ``python bench/bench_reports.py [--samples 5] [--territoire epci:200083392]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from weasyprint import HTML  # noqa: E402

from pilotis.core.access import Principal  # noqa: E402
from pilotis.core.cache import TTLCache  # noqa: E402
from pilotis.core.data import DataService  # noqa: E402
from pilotis.core.loader import load_registry  # noqa: E402
from pilotis.core.report_content import compute, read_filters  # noqa: E402
from pilotis.core.report_pdf import LocalFetcher, render_pdf  # noqa: E402
from pilotis.core.territory import TerritoryIndex  # noqa: E402
from pilotis.plugins import register_builtins  # noqa: E402

TRIVIAL = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Essai</title><style>
@font-face { font-family: "Pilotis Sans"; src: url("fonts/DejaVuSans.ttf"); }
html { font-family: "Pilotis Sans"; }</style></head><body><h1>Essai</h1><p>Une page.</p></body></html>"""


def baseline() -> float:
    """Seconds to render the trivial page."""
    start = time.perf_counter()
    assets = ROOT / "assets"
    HTML(string=TRIVIAL, base_url=assets.as_uri() + "/", url_fetcher=LocalFetcher(assets / "fonts")).write_pdf(
        pdf_variant="pdf/ua-1"
    )
    return time.perf_counter() - start


def report(territory: str) -> tuple[float, int, int]:
    """Seconds, bytes and pages of one cold report."""
    registry = load_registry(ROOT)
    start = time.perf_counter()
    data = DataService(registry.datasets, TTLCache())
    portal = registry.portal
    index = TerritoryIndex.load(data, portal.communes_dataset, portal.collectivite.code_departement, "")
    spec = registry.reports["commission-rsa"]
    principal = Principal("agent.rsa", "solidarites", frozenset({"agent"}))
    filters = read_filters(spec, registry, data, index, territory, None)
    content = compute(spec, registry, data, index, principal, filters)
    pdf = render_pdf(content, ROOT / "assets")
    elapsed = time.perf_counter() - start
    return elapsed, len(pdf), pdf.count(b"/Type /Page\n") or pdf.count(b"/Type /Page")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--territoire", default="epci:200083392")
    args = parser.parse_args()
    register_builtins()
    baseline()  # warm WeasyPrint's imports and font machinery once (the report samples pay it too)
    report(args.territoire)
    bases, runs, sizes = [], [], []
    for _ in range(args.samples):
        bases.append(baseline())
        elapsed, size, _pages = report(args.territoire)
        runs.append(elapsed)
        sizes.append(size)
    med_base, med_run = statistics.median(bases), statistics.median(runs)
    print(f"baseline (one trivial page, PDF/UA): median {med_base * 1000:.0f} ms")
    print(
        f"commission-rsa, {args.territoire}, cold cache: median {med_run:.2f} s, max {max(runs):.2f} s "
        f"(target ≤ 5 s), {statistics.median(sizes) / 1024:.0f} kB, ratio {med_run / med_base:.1f}× baseline"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
