"""Benchmark of the front end's weight and speed: Lighthouse on this machine's Chromium.

Two pages measured in the same run, alternated, 3 Lighthouse runs each (median), desktop and
mobile presets:

* **Pilotis** ``/rsa`` (the RSA dashboard: KPI cards, line, bar and map figures, a table),
  served by ``gunicorn app:server -w 2`` on the shipped configuration, signed in as the demo
  president (the session cookie is passed to Lighthouse);
* **Baseline**: a plain Dash 4.4.1 page with one ``dcc.Graph`` (a line of 12 points), served
  the same way with ``compress=True`` and Dash's defaults (Dash's full plotly.js).

Reported: Lighthouse performance score, JavaScript and total bytes on the wire (first visit,
empty cache), and the static bytes a second visit transfers (measured with Playwright in the
same Chromium: revalidations and cache hits). Targets (issue 12): /rsa desktop ≥ 90, mobile
≥ 70, JavaScript ≤ 700 kB, second visit ≤ 50 kB of static files.

Also reported, per page and preset: the metric values behind the score (first and largest
contentful paint, total blocking time, layout shift), and the load average.

``--before DIR``: a second Pilotis checkout (e.g. ``git worktree add /tmp/before <commit>``)
measured in the same run, alternated with the others, as a third row: before/after in the same
conditions on a shared machine.

Needs ``npm ci`` (Lighthouse is a devDependency) and /usr/bin/chromium (``CHROME_PATH``).
Usage: ``python bench/bench_frontend.py [--runs N] [--before DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import free_port, md_table, stop_process_group  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update"
TARGETS = {"desktop": 90, "mobile": 70}
MAX_JS_KB = 700
MAX_SECOND_KB = 50
STATIC = ("/assets/", "/_dash-component-suites/")
METRICS = {
    "fcp": "first-contentful-paint",
    "lcp": "largest-contentful-paint",
    "tbt": "total-blocking-time",
    "cls": "cumulative-layout-shift",
}
"""Lighthouse audits whose values are reported beside the score (ms; CLS unitless)."""
BASELINE_APP = textwrap.dedent(
    """
    from dash import Dash, dcc, html

    app = Dash(__name__, serve_locally=True, compress=True)
    app.layout = html.Main([
        html.H1("Une courbe"),
        dcc.Graph(figure={"data": [{"type": "scatter", "x": list(range(12)),
                                    "y": [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]}],
                          "layout": {"title": {"text": "Essai"}}}),
    ], lang="fr")
    server = app.server
    """
)


def _gunicorn() -> str:
    beside = Path(sys.executable).with_name("gunicorn")
    return str(beside) if beside.exists() else "gunicorn"


@contextmanager
def served(module: str, cwd: Path, env: dict[str, str], ready: str) -> Iterator[str]:
    """``gunicorn <module>:server -w 2`` on a free port; its base URL; stopped afterwards."""
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="bench-frontend-"))
    command = [_gunicorn(), f"{module}:server", "-b", f"127.0.0.1:{port}", "-w", "2", "--no-control-socket"]
    command += ["--pid", str(workdir / "gunicorn.pid")]
    log = open(workdir / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        command, cwd=cwd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(base + ready, timeout=2):
                    break
            except urllib.error.HTTPError:
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((workdir / "gunicorn.log").read_text(errors="replace")[-3000:]) from None
                time.sleep(0.3)
        yield base
    finally:
        stop_process_group(process)
        log.close()


def _browser(playwright: Any) -> Any:
    return playwright.chromium.launch(
        executable_path=CHROME,
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    )


def session_cookie(base: str) -> str:
    """Sign in as the demo president through the login form; the Cookie header to send."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = _browser(playwright)
        page = browser.new_page()
        page.goto(base + "/login")
        page.get_by_label("Identifiant").fill("president")
        page.get_by_label("Mot de passe").fill("demo-pilotis")
        with page.expect_navigation():
            page.get_by_role("button", name="Se connecter").click()
        cookies = page.context.cookies()
        browser.close()
    return "; ".join(f"{c['name']}={c['value']}" for c in cookies)


def second_visit_kb(url: str, cookie: str) -> float:
    """Static kB on the wire when ``url`` is opened a second time (same browser cache)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = _browser(playwright)
        context = browser.new_context()
        if cookie:
            context.set_extra_http_headers({"Cookie": cookie})
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
        page.wait_for_load_state("networkidle")
        sizes: list[int] = []

        def finished(request: Any) -> None:
            if any(p in request.url for p in STATIC):
                s = request.sizes()
                sizes.append(s["responseBodySize"] + s["responseHeadersSize"])

        page.on("requestfinished", finished)
        page.goto(url)
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
        page.wait_for_load_state("networkidle")
        browser.close()
    return sum(sizes) / 1024


def lighthouse(url: str, preset: str, cookie: str) -> dict[str, float]:
    """One Lighthouse run: performance score, JavaScript and total kB transferred."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "lh.json"
        command = [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}"]
        command += [f"--chrome-flags={CHROME_FLAGS}", "--only-categories=performance"]
        if preset == "desktop":
            command.append("--preset=desktop")
        if cookie:
            command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
        subprocess.run(command, check=True, timeout=300, env={**os.environ, "CHROME_PATH": CHROME})
        report = json.loads(out.read_text(encoding="utf-8"))
    items = report["audits"]["resource-summary"]["details"]["items"]
    by_type = {item["resourceType"]: item["transferSize"] for item in items}
    audits = report["audits"]
    return {
        "score": round(100 * (report["categories"]["performance"]["score"] or 0)),
        "js_kb": by_type.get("script", 0) / 1024,
        "total_kb": by_type.get("total", 0) / 1024,
        **{key: audits[audit]["numericValue"] for key, audit in METRICS.items()},
    }


def _git_head(checkout: Path) -> str:
    found = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return found.stdout.strip() or checkout.name


def run(runs: int = 3, before: Path | None = None) -> str:
    """Measure the pages (and the ``before`` checkout's /rsa); the Markdown report."""
    if not LIGHTHOUSE.exists():
        raise RuntimeError("Lighthouse is missing: run `npm ci` (devDependency in package.json)")
    baseline_dir = Path(tempfile.mkdtemp(prefix="bench-plain-dash-"))
    (baseline_dir / "plain_dash.py").write_text(BASELINE_APP, encoding="utf-8")
    instance = Path(tempfile.mkdtemp(prefix="bench-frontend-instance-"))
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    load_start = os.getloadavg()[0]
    with (
        served("app", ROOT, {"PILOTIS_INSTANCE_DIR": str(instance)}, "/login") as pilotis,
        served("plain_dash", baseline_dir, {}, "/") as plain,
        _maybe_served(before) as earlier,
    ):
        cookie = session_cookie(pilotis)
        pages = {"Pilotis /rsa": (pilotis + "/rsa", cookie), "Plain Dash, one graph": (plain + "/", "")}
        if before is not None and earlier:
            pages[f"Pilotis /rsa before ({_git_head(before)})"] = (earlier + "/rsa", session_cookie(earlier))
        for url, page_cookie in pages.values():  # warm both servers (compression caches, data)
            second_visit_kb(url, page_cookie)
        for _ in range(runs):
            for name, (url, page_cookie) in pages.items():
                for preset in ("desktop", "mobile"):
                    results.setdefault((name, preset), []).append(lighthouse(url, preset, page_cookie))
        second = {name: second_visit_kb(url, page_cookie) for name, (url, page_cookie) in pages.items()}
    load_end = os.getloadavg()[0]

    def median(name: str, preset: str, key: str) -> float:
        return statistics.median(r[key] for r in results[(name, preset)])

    rows = []
    verdicts = []
    for name in pages:
        rows.append(
            [
                name,
                f"{median(name, 'desktop', 'score'):.0f}",
                f"{median(name, 'mobile', 'score'):.0f}",
                f"{median(name, 'desktop', 'js_kb'):.0f}",
                f"{median(name, 'desktop', 'total_kb'):.0f}",
                f"{second[name]:.1f}",
            ]
        )
    name = "Pilotis /rsa"
    checks = [
        ("desktop performance ≥ 90", median(name, "desktop", "score") >= TARGETS["desktop"]),
        ("mobile performance ≥ 70", median(name, "mobile", "score") >= TARGETS["mobile"]),
        (f"JavaScript ≤ {MAX_JS_KB} kB", median(name, "desktop", "js_kb") <= MAX_JS_KB),
        (f"second visit ≤ {MAX_SECOND_KB} kB of static files", second[name] <= MAX_SECOND_KB),
    ]
    for label, ok in checks:
        verdicts.append(f"- {label}: {'yes' if ok else '**NO**'}")
    table = md_table(
        ["page", "desktop score", "mobile score", "JS kB (wire)", "total kB (wire)", "2nd visit static kB"], rows
    )
    metric_rows = [
        [
            f"{name}, {preset}",
            *(f"{median(name, preset, key):.0f}" for key in ("fcp", "lcp", "tbt")),
            f"{median(name, preset, 'cls'):.3f}",
        ]
        for name in pages
        for preset in ("desktop", "mobile")
    ]
    metrics = md_table(["page, preset", "FCP ms", "LCP ms", "TBT ms", "CLS"], metric_rows)
    return (
        f"## Front end (Lighthouse, median of {runs} runs each)\n\n{table}\n\n"
        + "\n".join(verdicts)
        + f"\n\nMetric values (medians):\n\n{metrics}\n\n"
        + f"Load average (1 min): {load_start:.1f} at the start, {load_end:.1f} at the end.\n\n"
        + "Scores are Lighthouse's simulated throttling on this machine; compare the rows, "
        "measured in the same run.\n"
    )


@contextmanager
def _maybe_served(checkout: Path | None) -> Iterator[str]:
    """The ``--before`` checkout served like the current one (its own instance folder), or ""."""
    if checkout is None:
        yield ""
        return
    instance = Path(tempfile.mkdtemp(prefix="bench-frontend-before-"))
    with served("app", checkout, {"PILOTIS_INSTANCE_DIR": str(instance)}, "/login") as base:
        yield base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", type=Path, help="another Pilotis checkout, measured in the same run")
    args = parser.parse_args()
    print(run(runs=args.runs, before=args.before))


if __name__ == "__main__":
    main()
