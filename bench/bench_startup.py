"""Benchmark of ``python app.py``: time to the first served page, then the first callbacks.

Each run starts the app as a user does (``.venv/bin/python app.py``, port from
``PILOTIS_PORT``), polls ``GET /`` until it answers 200 (redirects followed), then times, once
each (cold): ``GET /_dash-layout``, ``GET /_dash-dependencies`` and, for every dashboard
linked from the navigation, the page callback (router) and the dashboard's first widget
callback, posted exactly as dash-renderer does. The baseline, started the same way in the
same run, is a plain Dash app with a "hello" layout and one callback. Runs alternate
(baseline, Pilotis, baseline, …); the first Pilotis run uses a fresh instance folder.
Usage: ``python bench/bench_startup.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    ROOT,
    fmt,
    free_port,
    load_average,
    md_table,
    process_cpu_seconds,
    ratio,
    stop_process_group,
)

TARGET_S = 5.0
DEMO_LOGIN = "admin:demo-pilotis"
"""The demo administrator (published password, demo mode only: the app runs on a fresh
temporary instance folder here). ``PILOTIS_BENCH_LOGIN=user:password`` overrides it."""
CSRF_COOKIE, CSRF_HEADER = "_csrf_token", "X-CSRFToken"
"""Dash's defaults (``csrf_token_name`` / ``csrf_header_name``): dash-renderer copies the cookie
into the header on every request."""
READY_TIMEOUT_S = 60.0
HTTP_TIMEOUT_S = 60.0

HELLO_APP = '''\
"""A plain Dash app: a "hello" layout and one callback (the baseline of bench_startup.py)."""
import os

from dash import Dash, Input, Output, dcc, html

app = Dash(__name__)
app.layout = html.Div([html.H1("hello"), dcc.Input(id="name", value="Pilotis"),
                       html.P(id="greeting")])


@app.callback(Output("greeting", "children"), Input("name", "value"))
def greet(name):
    return f"Bonjour {name}"


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ["PILOTIS_PORT"]))
'''


class Server:
    """A web app started in its own process group, always stopped (bounded waits)."""

    def __init__(self, script: Path, cwd: Path, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {**env, "PILOTIS_PORT": str(self.port), "PILOTIS_HOST": "127.0.0.1"}
        self._log_handle = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.cpu_at_first_page: float | None = None
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, str(script)],
            cwd=cwd,
            env=env,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_first_page(self, session: requests.Session) -> float:
        """Seconds from the launch to the first ``GET /`` answered 200."""
        deadline = self.started + READY_TIMEOUT_S
        last = "no answer"
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the app exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                response = session.get(self.url + "/", timeout=5)
            except requests.ConnectionError:
                time.sleep(0.02)
                continue
            except requests.TooManyRedirects as exc:
                last = f"redirect loop from GET / ({exc.response.url if exc.response else '?'})"
                time.sleep(0.2)
                continue
            if response.status_code == 200:
                elapsed = time.perf_counter() - self.started
                self.cpu_at_first_page = process_cpu_seconds(self.proc.pid)
                return elapsed
            last = f"GET / answered {response.status_code} ({response.url})"
            time.sleep(0.02)
        raise RuntimeError(f"no page within {READY_TIMEOUT_S:.0f} s: {last}\n{self.tail()}")

    def tail(self) -> str:
        """The end of the app's output (for error messages)."""
        self._log_handle.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]

    def stop(self) -> None:
        """SIGTERM to the app's own process group, then SIGKILL after 5 s."""
        try:
            stop_process_group(self.proc, 5)
        finally:
            self._log_handle.close()


def _session() -> requests.Session:
    session = requests.Session()
    session.max_redirects = 5  # a login redirect loop must not look like a slow page
    return session


class _LoginForm(HTMLParser):
    """The first ``<form>`` of a page: its action and its ``<input>`` fields."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.inputs: list[dict[str, str]] = []
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None and not self._done:
            self.action = values.get("action", "")
        elif tag == "input" and self.action is not None and not self._done:
            self.inputs.append(values)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.action is not None:
            self._done = True


def login(session: requests.Session, url: str) -> None:
    """Sign in through the app's login form (``PILOTIS_BENCH_LOGIN`` or the demo admin)."""
    credentials = os.environ.get("PILOTIS_BENCH_LOGIN") or DEMO_LOGIN
    if ":" not in credentials:
        raise RuntimeError("PILOTIS_BENCH_LOGIN must be user:password")
    user, password = credentials.split(":", 1)
    page = session.get(url + "/login", timeout=HTTP_TIMEOUT_S)
    form = _LoginForm()
    form.feed(page.text)
    fields: dict[str, str] = {}
    for field in form.inputs:
        name, kind = field.get("name"), field.get("type", "text").lower()
        if not name or kind in ("submit", "button", "checkbox"):
            continue
        fields[name] = (
            password if kind == "password" else (user if kind in ("text", "email") else field.get("value", ""))
        )
    response = session.post(urljoin(page.url, form.action or page.url), data=fields, timeout=HTTP_TIMEOUT_S)
    if response.status_code >= 400 or response.url.rstrip("/").endswith("/login"):
        raise RuntimeError(f"login as {user} failed (HTTP {response.status_code})")


# --------------------------------------------------------------------------- Dash protocol
def _timed_request(session: requests.Session, method: str, url: str, **kwargs: Any) -> tuple[float, requests.Response]:
    token = session.cookies.get(CSRF_COOKIE)
    if token:  # what dash-renderer does: the CSRF cookie's value in a header
        kwargs["headers"] = {**kwargs.get("headers", {}), CSRF_HEADER: token}
    start = time.perf_counter()
    response = session.request(method, url, timeout=HTTP_TIMEOUT_S, **kwargs)
    return time.perf_counter() - start, response


def _outputs(output: str) -> dict[str, str] | list[dict[str, str]]:
    """Dash's ``output`` string (``id.prop`` or ``..a.x...b.y..``) as the renderer sends it."""

    def one(text: str) -> dict[str, str]:
        component, prop = text.rsplit(".", 1)
        return {"id": component, "property": prop}

    if output.startswith("..") and output.endswith(".."):
        return [one(part) for part in output[2:-2].split("...")]
    return one(output)


def _output_ids(dep: dict[str, Any]) -> list[str]:
    outputs = _outputs(dep["output"])
    return [o["id"] for o in (outputs if isinstance(outputs, list) else [outputs])]


def callback_body(dep: dict[str, Any], values: dict[tuple[str, str], Any]) -> dict[str, Any]:
    """The JSON dash-renderer posts to ``/_dash-update-component`` for dependency ``dep``."""
    inputs = [{**i, "value": values.get((i["id"], i["property"]))} for i in dep["inputs"]]
    state = [{**s, "value": values.get((s["id"], s["property"]))} for s in dep.get("state", [])]
    return {
        "output": dep["output"],
        "outputs": _outputs(dep["output"]),
        "inputs": inputs,
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"] if inputs else [],
        "state": state,
    }


def _walk(tree: Any) -> list[dict[str, Any]]:
    """Every component's props in a serialised Dash layout."""
    found: list[dict[str, Any]] = []
    if isinstance(tree, dict):
        if "props" in tree and "type" in tree:
            found.append(tree["props"])
        for value in tree.values():
            found += _walk(value)
    elif isinstance(tree, list):
        for item in tree:
            found += _walk(item)
    return found


def post_callback(
    session: requests.Session, url: str, dep: dict[str, Any], values: dict[tuple[str, str], Any]
) -> tuple[float, Any]:
    """Time one callback; returns (seconds, the ``response`` JSON)."""
    seconds, response = _timed_request(
        session,
        "POST",
        url + "/_dash-update-component",
        data=json.dumps(callback_body(dep, values)),
        headers={"Content-Type": "application/json"},
    )
    if response.status_code != 200:
        raise RuntimeError(f"callback {dep['output']}: HTTP {response.status_code} {response.text[:300]}")
    return seconds, response.json()["response"]


# --------------------------------------------------------------------------- one run
def run_hello(script: Path, workdir: Path) -> dict[str, float]:
    """Start the baseline app, time its first page and its callback."""
    server = Server(script, workdir, dict(os.environ), workdir / "hello.log")
    session = _session()
    try:
        result = {"start": server.wait_first_page(session), "cpu": server.cpu_at_first_page}
        result["layout"], _ = _timed_request(session, "GET", server.url + "/_dash-layout")
        result["deps"], deps = _timed_request(session, "GET", server.url + "/_dash-dependencies")
        dep = deps.json()[0]
        result["callback"], response = post_callback(session, server.url, dep, {("name", "value"): "Pilotis"})
        assert "Bonjour" in json.dumps(response)
        return result
    finally:
        server.stop()


def run_pilotis(instance: Path, workdir: Path) -> dict[str, Any]:
    """Start ``python app.py``, time its first page, layout and first callbacks."""
    env = {**os.environ, "PILOTIS_INSTANCE_DIR": str(instance), "PILOTIS_DEBUG": "0"}
    server = Server(ROOT / "app.py", ROOT, env, workdir / "pilotis.log")
    session = _session()
    try:
        result: dict[str, Any] = {
            "start": server.wait_first_page(session),
            "cpu": server.cpu_at_first_page,
        }
        result["layout"], layout = _timed_request(session, "GET", server.url + "/_dash-layout")
        if layout.status_code in (401, 403):  # access control: sign in, then ask again
            login(session, server.url)
            result["layout"], layout = _timed_request(session, "GET", server.url + "/_dash-layout")
        result["deps"], deps_response = _timed_request(session, "GET", server.url + "/_dash-dependencies")
        if layout.status_code != 200 or deps_response.status_code != 200:
            raise RuntimeError(f"/_dash-layout {layout.status_code}, /_dash-dependencies {deps_response.status_code}")
        deps = deps_response.json()
        router = next(d for d in deps if d["inputs"] == [{"id": "url", "property": "pathname"}])
        hrefs = [p["href"] for p in _walk(layout.json()) if isinstance(p.get("href"), str)]
        pages = [
            h
            for h in dict.fromkeys(hrefs)
            if h.startswith("/") and h != "/" and not h.startswith(("/lang/", "/assets/", "/login", "/logout"))
        ]
        result["dashboards"] = {}
        for href in pages:
            seconds, page = post_callback(session, server.url, router, {("url", "pathname"): href})
            props = _walk(page)
            values = {
                (p["id"], "value"): p.get("value") for p in props if isinstance(p.get("id"), str) and "value" in p
            }
            ids = [p["id"] for p in props if isinstance(p.get("id"), str)]
            board = next((i.split("--", 1)[0] for i in ids if i.endswith("--territory")), None)
            if board is None:
                continue  # a link of the navigation that is not a dashboard (admin pages)
            widget_deps = [d for d in deps if any(i.startswith(f"{board}--") for i in _output_ids(d))]
            entry: dict[str, Any] = {"page": seconds}
            if widget_deps:
                dep = widget_deps[0]
                for i in dep["inputs"]:
                    if i["property"] == "n_intervals":
                        values[(i["id"], "n_intervals")] = 0
                entry["widget"] = _output_ids(dep)[0].split("--", 1)[1]
                entry["callback"], _ = post_callback(session, server.url, dep, values)
            result["dashboards"][href] = entry
        return result
    finally:
        server.stop()


# --------------------------------------------------------------------------- report
def run(runs: int = 3) -> str:
    """Alternate baseline and Pilotis ``runs`` times each; return the Markdown report."""
    hello_runs: list[dict[str, float]] = []
    pilotis_runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="pilotis-startup-") as tmp:
        workdir = Path(tmp)
        script = workdir / "hello_app.py"
        script.write_text(HELLO_APP, encoding="utf-8")
        instance = workdir / "instance"
        load_before = load_average()
        for _ in range(runs):
            hello_runs.append(run_hello(script, workdir))
            pilotis_runs.append(run_pilotis(instance, workdir))
        load_after = load_average()

    def med(values: list[float]) -> float:
        return statistics.median(values)

    def cpu(values: list[Any]) -> str:
        known = [v for v in values if v is not None]
        return fmt(med(known), 2) if known else "—"

    hello_start = med([r["start"] for r in hello_runs])
    first = pilotis_runs[0]
    rest = pilotis_runs[1:] or pilotis_runs[:1]
    start_rows = [
        [
            'plain Dash "hello" app (baseline)',
            fmt(hello_start, 2),
            fmt(max(r["start"] for r in hello_runs), 2),
            cpu([r["cpu"] for r in hello_runs]),
            "1.0×",
        ],
        [
            "Pilotis `python app.py`, first start (fresh instance folder)",
            fmt(first["start"], 2),
            "—",
            cpu([first["cpu"]]),
            ratio(first["start"] / hello_start),
        ],
        [
            f"Pilotis `python app.py`, restart (median of {len(rest)})",
            fmt(med([r["start"] for r in rest]), 2),
            fmt(max(r["start"] for r in rest), 2),
            cpu([r["cpu"] for r in rest]),
            ratio(med([r["start"] for r in rest]) / hello_start),
        ],
    ]
    startup = md_table(
        [
            "Start → first `GET /` answered 200",
            "Median (s)",
            "Max (s)",
            "CPU used (s)",
            "Time vs baseline",
        ],
        start_rows,
    )

    hello_cb = med([r["callback"] for r in hello_runs]) * 1000
    rows = [
        [
            "`GET /_dash-layout`",
            fmt(med([r["layout"] for r in pilotis_runs]) * 1000),
            fmt(med([r["layout"] for r in hello_runs]) * 1000),
            ratio(med([r["layout"] for r in pilotis_runs]) / med([r["layout"] for r in hello_runs])),
        ],
        [
            "`GET /_dash-dependencies`",
            fmt(med([r["deps"] for r in pilotis_runs]) * 1000),
            fmt(med([r["deps"] for r in hello_runs]) * 1000),
            ratio(med([r["deps"] for r in pilotis_runs]) / med([r["deps"] for r in hello_runs])),
        ],
    ]
    for href in pilotis_runs[0]["dashboards"]:
        entries = [r["dashboards"][href] for r in pilotis_runs if href in r["dashboards"]]
        page = med([e["page"] for e in entries]) * 1000
        rows.append([f"page callback `{href}` (router)", fmt(page), fmt(hello_cb), ratio(page / hello_cb)])
        if "callback" in entries[0]:
            cb = med([e["callback"] for e in entries]) * 1000
            rows.append(
                [
                    f"first widget callback `{href}` → `{entries[0]['widget']}`",
                    fmt(cb),
                    fmt(hello_cb),
                    ratio(cb / hello_cb),
                ]
            )
    first_requests = md_table(
        [
            "First request after start (cold, median of runs)",
            "Pilotis (ms)",
            "Baseline (ms)",
            "Time vs baseline",
        ],
        rows,
    )
    worst = max(r["start"] for r in pilotis_runs)
    cores = os.cpu_count() or 1
    busy = max(float(load_before.split()[0]), float(load_after.split()[0])) > cores
    note = " (machine busy: see the load average)" if busy and worst >= TARGET_S else ""
    verdict = md_table(
        ["Target", "Measured (worst run)", "Met"],
        [
            [
                f"`python app.py` to first served page < {TARGET_S:.0f} s",
                f"{worst:.2f} s",
                "yes" if worst < TARGET_S else f"**NO**{note}",
            ]
        ],
    )
    return (
        "\n\n".join(
            [
                "## Start-up: `python app.py` to the first served page",
                f"{runs} runs of each app, alternating; the baseline is a plain Dash app with a "
                '"hello" layout and one callback, started the same way. The baseline column of the '
                "callback rows is the hello app's only callback. *CPU used*: user + system time "
                "of the server process when its first page was served (it does not grow when "
                "other programs compete for the cores; the wall-clock time does). "
                f"Load average: {load_before} before, {load_after} after.",
                startup,
                first_requests,
                verdict,
            ]
        )
        + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="starts of each app (default 3)")
    args = parser.parse_args()
    print(run(args.runs))


if __name__ == "__main__":
    main()
