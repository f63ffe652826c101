"""Callback throughput through nginx with 1, 2 and 4 gunicorn instances, and straight to one
instance, in one run: how the production layout scales on this machine, and what the proxy costs.

The request is a **cached KPI callback** (`pilotage--rsa_foyers`, the département, 2019: answered from
the result cache after the first call), signed in (session cookie + CSRF header, so the
per-request session check is included), sent by ``wrk -t2 -c16`` (Debian's wrk, the Lua script
of bench/bench_sources.py) for ``--seconds`` per layout:

* **direct**: wrk → instance 1 (no proxy);
* **nginx → 1 / 2 / 4**: wrk → nginx → 1, 2 or 4 instances. nginx runs with the test's
  configuration of the deployment (tests/deploy_stack.py: the shipped
  deploy/nginx/pilotis_proxy.conf included as is, one nginx worker, access log on), one nginx
  process per layout.

Each instance is ``gunicorn -c deploy/gunicorn.conf.py`` with 1 worker of 4 threads (the deployment
test's instance), demo configuration, JSON logs, without the shipped renewal of workers after ~5000
requests (``--max-requests 0``: see the comment at the command line). All four instances run for
the whole benchmark; the layouts are measured in turn, interleaved over ``--rounds`` rounds (the
median of the rounds is reported), so that a burst of load from another process lands on every
layout rather than on one. Database and cache: PostgreSQL and Redis when ``PILOTIS_TEST_PG`` and
``PILOTIS_TEST_REDIS`` are set (the production layout; a schema of its own, dropped afterwards),
else a SQLite file and a per-instance memory cache (each instance warmed before measuring).

Ratios matter more than absolute figures: wrk, nginx and the instances share the machine's cores
(2 here), so the 4-instance layout cannot be faster than the cores allow. Usage:
``python bench/bench_nginx.py [--quick] [--seconds S] [--rounds R] [--results FILE]``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sources import wrk  # noqa: E402
from bench_startup import CSRF_COOKIE, CSRF_HEADER, login  # noqa: E402
from common import ROOT, fmt, machine, md_table  # noqa: E402

sys.path.insert(0, str(ROOT))
from tests.dbutil import postgres_schema  # noqa: E402
from tests.deploy_stack import NGINX, Process, _start, _wait_http, free_port, nginx_conf  # noqa: E402

WIDGET = "pilotage--rsa_foyers"
"""A KPI card of the synthesis dashboard (indicator `rsa.foyers_allocataires`, with its comparisons
and sparkline): a widget with a callback of its own."""
TERRITORY, YEAR = "departement:53", "2019"
INSTANCES = 4
NGINX_LAYOUTS = (1, 2, 4)


def uptime() -> str:
    """``uptime``'s line (load averages over 1, 5 and 15 minutes)."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "uptime indisponible"


@contextmanager
def storage() -> Iterator[tuple[str, str, str]]:
    """(database URL, cache URL, description): PostgreSQL + Redis when the tests' ones are set."""
    pg, redis = os.environ.get("PILOTIS_TEST_PG"), os.environ.get("PILOTIS_TEST_REDIS")
    if pg and redis:
        with postgres_schema(pg) as url:
            yield url, redis, "PostgreSQL + Redis (shared by the instances)"
        return
    with tempfile.TemporaryDirectory(prefix="pilotis-bench-nginx-db-") as tmp:
        yield f"sqlite:///{tmp}/pilotis.db", "memory://", "SQLite file + a memory cache per instance"


def instance_env(folder: Path, port: int, database_url: str, cache_url: str, prefix: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PILOTIS_MODE": "demo",
        "PILOTIS_HOST": "127.0.0.1",
        "PILOTIS_SECRET_KEY": "cle-du-banc-nginx-" + "x" * 40,
        "PILOTIS_DATABASE_URL": database_url,
        "PILOTIS_CACHE_URL": cache_url,
        "PILOTIS_CACHE_PREFIX": prefix,
        "PILOTIS_PROXIES": "1",
        "PILOTIS_LOG_FORMAT": "json",
        "PILOTIS_INSTANCE_DIR": str(folder),
        "PILOTIS_BIND": f"127.0.0.1:{port}",
        "PILOTIS_WORKERS": "1",
        "PILOTIS_THREADS": "4",
        "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("PILOTIS_DEBUG", None)
    return env


def callback_body(session: requests.Session, url: str) -> dict[str, Any]:
    """The KPI widget's callback as dash-renderer posts it, its inputs read from the callback graph."""
    graph = session.get(url + "/_dash-dependencies", timeout=60).json()
    spec = next(cb for cb in graph if cb["output"] == f"{WIDGET}.children")
    values = {"territory": TERRITORY, "period": YEAR, "refresh": 0}
    inputs = [
        {"id": i["id"], "property": i["property"], "value": values.get(i["id"].split("--", 1)[1])}
        for i in spec["inputs"]
    ]
    return {
        "output": f"{WIDGET}.children",
        "outputs": {"id": WIDGET, "property": "children"},
        "inputs": inputs,
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
        "state": [],
    }


def run(quick: bool = False, seconds: int | None = None, rounds: int | None = None) -> str:
    """Start the layouts, measure them, return the Markdown report."""
    if not NGINX.exists():
        raise RuntimeError(f"nginx absent ({NGINX}): apt-get install nginx (make servers)")
    seconds = seconds or (4 if quick else 6)
    rounds = rounds or (1 if quick else 5)
    before = uptime()
    results: dict[str, list[dict[str, float]]] = {}
    with (
        storage() as (database_url, cache_url, storage_text),
        tempfile.TemporaryDirectory(prefix="pilotis-bench-nginx-") as tmp_name,
        ExitStack() as stop,
    ):
        tmp = Path(tmp_name)
        prefix = f"pilotis-bench-nginx-{os.getpid()}:"
        instances: list[tuple[Process, str]] = []
        for number in range(1, INSTANCES + 1):
            folder, port = tmp / f"instance{number}", free_port()
            folder.mkdir()
            command = [
                str(Path(sys.executable).with_name("gunicorn")),
                "-c",
                "deploy/gunicorn.conf.py",
                "--pid",
                str(folder / "gunicorn.pid"),
                # The shipped renewal of workers (max_requests 5000 ± 500) is off while measuring: with
                # one worker per instance, each renewal leaves the instance deaf while the new worker
                # boots (seen: a whole 6 s round at 0 req/s), which measures the boot, not the layout.
                "--max-requests",
                "0",
            ]
            process = _start(
                f"instance{number}", command, instance_env(folder, port, database_url, cache_url, prefix), tmp
            )
            process.port = port
            stop.callback(process.stop)
            instances.append((process, f"http://127.0.0.1:{port}"))
            if number == 1:  # the first one creates the schema and the demo accounts alone
                _wait_http(process, f"http://127.0.0.1:{port}/readyz")
        for process, url in instances:
            _wait_http(process, url + "/readyz")
        layouts: dict[str, str] = {"direct → 1 instance": instances[0][1]}
        for count in NGINX_LAYOUTS:
            folder, port = tmp / f"nginx{count}", free_port()
            folder.mkdir()
            conf = folder / "nginx.conf"
            conf.write_text(nginx_conf(folder, port, [p.port for p, _ in instances[:count]]), encoding="utf-8")
            nginx = _start(f"nginx{count}", [str(NGINX), "-p", str(folder), "-c", str(conf)], dict(os.environ), tmp)
            stop.callback(nginx.stop)
            _wait_http(nginx, f"http://127.0.0.1:{port}/healthz")
            layouts[f"nginx → {count} instance{'s' if count > 1 else ''}"] = f"http://127.0.0.1:{port}"

        session = requests.Session()
        login(session, layouts["nginx → 1 instance"])
        body = callback_body(session, instances[0][1])
        headers = {CSRF_HEADER: session.cookies.get(CSRF_COOKIE) or ""}
        for url in [u for _, u in instances] + list(layouts.values()):  # warm every cache, check answers
            for _ in range(2):
                answer = session.post(url + "/_dash-update-component", json=body, headers=headers, timeout=60)
                if answer.status_code != 200 or WIDGET not in answer.text:
                    raise RuntimeError(f"{url}: HTTP {answer.status_code}: {answer.text[:300]}")
        cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
        measuring = {p.name: p.log.stat().st_size for p, _ in instances}
        for _ in range(rounds):
            for name, url in layouts.items():
                out = wrk(url + "/_dash-update-component", body, {**headers, "Cookie": cookie}, seconds, tmp)
                results.setdefault(name, []).append(out)
                print(f"{name}: {out['rps']:.0f} req/s, p50 {out['p50']:.1f} ms", file=sys.stderr, flush=True)
        events = {p.name: _log_events(p.log, measuring[p.name]) for p, _ in instances}
    after = uptime()
    return report(results, seconds, rounds, storage_text, before, after, events)


def _log_events(log: Path, offset: int) -> str:
    """What an instance's log says happened while measuring: worker restarts, timeouts, errors."""
    with open(log, "rb") as handle:
        handle.seek(offset)
        text = handle.read().decode("utf-8", "replace")
    counts = {
        "worker timeouts": text.count("WORKER TIMEOUT"),
        "workers started": text.count("Booting worker"),
        "tracebacks": text.count("Traceback"),
    }
    return ", ".join(f"{v} {k}" for k, v in counts.items())


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def report(
    results: dict[str, list[dict[str, float]]],
    seconds: int,
    rounds: int,
    storage_text: str,
    before: str,
    after: str,
    events: dict[str, str],
) -> str:
    direct = _median(results["direct → 1 instance"], "rps")
    one = _median(results["nginx → 1 instance"], "rps")
    rows = []
    for name, runs in results.items():
        rps = _median(runs, "rps")
        spread = f"{min(r['rps'] for r in runs):.0f}–{max(r['rps'] for r in runs):.0f}"
        rows.append(
            [
                name,
                fmt(rps, 0),
                spread,
                fmt(_median(runs, "p50"), 1),
                fmt(_median(runs, "p95"), 1),
                str(sum(int(r["errors"]) for r in runs)),
                "—" if name.startswith("direct") else f"{rps / one:.2f}×",
            ]
        )
    proxy = one / direct
    p50_cost = _median(results["nginx → 1 instance"], "p50") - _median(results["direct → 1 instance"], "p50")
    lines = [
        "## Callback throughput through nginx (1, 2, 4 instances) and direct",
        "",
        f"Cached KPI callback `{WIDGET}` ({TERRITORY}, {YEAR}), signed in; `wrk -t2 -c16`, {seconds} s per "
        f"layout and round, {rounds} round(s) interleaved, medians of the rounds. Each instance: gunicorn "
        "(deploy/gunicorn.conf.py, `--max-requests 0`), 1 worker × 4 threads; nginx: one worker, "
        "deploy/nginx/pilotis_proxy.conf. "
        f"Storage: {storage_text}.",
        "",
        md_table(
            ["layout", "req/s", "range (rounds)", "p50 ms", "p95 ms", "errors", "vs nginx → 1 instance"],
            rows,
        ),
        "",
        "Every round (req/s), in the order measured — a round far below the others is the machine, "
        "not the layout (the other helpers' tests and benchmarks share its 2 cores):",
        "",
        md_table(
            ["layout", *[f"round {n}" for n in range(1, rounds + 1)]],
            [[name, *[fmt(r["rps"], 0) for r in runs]] for name, runs in results.items()],
        ),
        "",
        f"**Proxy cost**: nginx → 1 instance ÷ direct = **{proxy:.2f}×** the direct throughput: "
        + (
            f"{(1 - proxy) * 100:.0f} % of the throughput lost to the proxy"
            if proxy < 1
            else "no throughput lost to the proxy in this run (nginx → 1 instance was not slower than direct: "
            "within the noise of a loaded machine, or nginx's buffering freeing the instance's threads sooner)"
        )
        + f"; p50 {p50_cost:+.1f} ms through nginx.",
        "",
        "Instances' logs while measuring: " + "; ".join(f"{k}: {v}" for k, v in events.items()) + ".",
        "",
        f"Load before: `{before}`  ",
        f"Load after: `{after}`",
        "",
        f"Machine: {machine()}.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 s per layout, one round")
    parser.add_argument("--seconds", type=int, help="seconds of wrk per layout and round (default 6)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 5)")
    parser.add_argument("--results", type=Path, help="also write the report to this file")
    args = parser.parse_args()
    text = run(quick=args.quick, seconds=args.seconds, rounds=args.rounds)
    print(text)
    if args.results:
        with contextlib.suppress(OSError):
            args.results.write_text(
                f"# Pilotis behind nginx: benchmark\n\nRun on {dt.datetime.now():%Y-%m-%d %H:%M}.\n\n" + text,
                encoding="utf-8",
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
