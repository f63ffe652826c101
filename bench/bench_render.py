"""What a dashboard costs dash-renderer: time until every graph is drawn, and main-thread script time.

Two checkouts of the portal served side by side (``gunicorn app:server -w 2`` each, demo data),
measured alternately in the same run with Playwright on this machine's Chromium, as the demo
president on a cold browser cache each time:

* **time to drawn**: from navigation start until every plotly graph of the page has drawn a trace,
  every widget body is filled and every data table has its rows (``performance.now()``);
* **script ms**: Chromium's ``ScriptDuration`` (JavaScript run on the page's main thread) at that
  moment, read through the DevTools protocol;
* **DOM nodes** at that moment.

Usage: ``python bench/bench_render.py --before DIR [--page /rh] [--runs 5]`` where ``DIR`` is
another checkout (e.g. ``git worktree add /tmp/before main``). Median of the runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_frontend import _browser, served, session_cookie  # noqa: E402
from common import load_average, md_table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GRAPHS = {"line", "bar", "stacked_bar", "area", "pie", "choropleth", "points"}
DRAWN = """(graphs) => {
  const plots = [...document.querySelectorAll('.js-plotly-plot')];
  const bodies = [...document.querySelectorAll('.pilotis-widget-body')];
  const tables = [...document.querySelectorAll('.pilotis-table')];
  return plots.length >= graphs && plots.every(p => p.querySelector('.main-svg g.trace'))
    && bodies.length > 0 && bodies.every(b => b.childElementCount > 0)
    && tables.every(t => t.querySelector('tbody tr'));
}"""


def graph_count(root: Path, page: str) -> int:
    """Graph widgets of the dashboard served at ``page`` (read from its YAML)."""
    import yaml

    for path in (root / "dashboards").glob("*.yaml"):
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if spec.get("url") == page or f"/{spec.get('id')}" == page:
            return sum(1 for w in spec.get("widgets", []) if w.get("type") in GRAPHS)
    raise SystemExit(f"no dashboard at {page}")


def visit(browser: Any, url: str, cookie: str, graphs: int) -> dict[str, float]:
    """One cold visit: time to drawn, script time, DOM nodes."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.set_extra_http_headers({"Cookie": cookie})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.goto(url)
    page.wait_for_function(DRAWN, arg=graphs, timeout=120_000, polling=50)
    drawn = page.evaluate("() => performance.now()")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    context.close()
    return {"drawn": drawn, "script": metrics["ScriptDuration"] * 1000, "nodes": metrics["Nodes"]}


def run(before: Path, page: str, runs: int) -> str:
    """Both checkouts measured alternately; the Markdown report."""
    from playwright.sync_api import sync_playwright

    graphs = graph_count(ROOT, page)
    results: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    with (
        served("app", before, {"PILOTIS_INSTANCE_DIR": tempfile.mkdtemp(prefix="bench-render-")}, "/login") as old,
        served("app", ROOT, {"PILOTIS_INSTANCE_DIR": tempfile.mkdtemp(prefix="bench-render-")}, "/login") as new,
    ):
        bases = {"before": old, "after": new}
        cookies = {name: session_cookie(base) for name, base in bases.items()}
        load = load_average()
        with sync_playwright() as playwright:
            browser = _browser(playwright)
            for name, base in bases.items():  # warm both servers (data, compression)
                visit(browser, base + page, cookies[name], graphs)
            for _ in range(runs):
                for name, base in bases.items():
                    results[name].append(visit(browser, base + page, cookies[name], graphs))
            browser.close()
    rows = []
    for name, (label, where) in {"before": ("before", before), "after": ("after", ROOT)}.items():
        samples = results[name]
        rows.append(
            [
                f"{label} ({where})",
                f"{statistics.median(s['drawn'] for s in samples):.0f}",
                f"{statistics.median(s['script'] for s in samples):.0f}",
                f"{statistics.median(s['nodes'] for s in samples):.0f}",
            ]
        )
    table = md_table([f"{page}", "time to drawn (ms)", "script (ms)", "DOM nodes"], rows)
    return f"## dash-renderer cost of {page} (median of {runs} cold visits)\n\n{table}\n\nload: {load}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--page", default="/rh")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(run(args.before.resolve(), args.page, args.runs))


if __name__ == "__main__":
    main()
