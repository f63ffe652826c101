"""The production layout under load (issue 16): nginx → two gunicorn instances, two workers,
PostgreSQL and Redis, all on loopback. One instance and one worker are killed (SIGKILL) while
signed-in clients keep working through nginx:

- sessions survive (they live in PostgreSQL; both instances share the secret key);
- the only requests that fail are those in progress on the killed instance at that moment;
- the job run the killed worker held is taken over once its lease expires: no due time is lost,
  none runs twice (the runs' log and the ``job_runs`` table say so).

Needs nginx (apt-get install nginx), PILOTIS_TEST_PG and PILOTIS_TEST_REDIS; skipped without them
unless PILOTIS_REQUIRE_DEPLOY is set (CI). About 40 s.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from pilotis.accounts.db import Database
from pilotis.accounts.users import DEMO_PASSWORD
from pilotis.core.loader import load_registry
from pilotis.core.registry import Dashboard
from pilotis.core.settings import ROOT
from pilotis.plugins import register_builtins
from pilotis.web.wiring import page_callback_ids
from tests.dbutil import PG_ENV, postgres_schema
from tests.deploy_stack import Stack, need, stack

pytestmark = [pytest.mark.deploy, pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(110)]

CLIENTS = 4
LEASE = 3.0
EVERY = 2.0


@dataclass(frozen=True)
class Outcome:
    started: float
    ended: float
    ok: bool
    what: str


def sign_in(url: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(url + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page[:300]
    response = session.post(
        url + "/login",
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:300]
    return session


@cache
def _rsa() -> Dashboard:
    """The shipped RSA dashboard, loaded once (a test sends it many changes)."""
    register_builtins()
    return load_registry(ROOT).dashboards["rsa"]


def callback_body(territory: str = "departement:53") -> dict[str, object]:
    """The RSA page's callback after a change to ``territory``, as dash-renderer sends it: one
    request answers every widget of the page (``wiring.page_callback_ids``)."""
    dashboard = _rsa()
    widget_ids, inputs = page_callback_ids(dashboard)
    values = {dashboard.dom_id("territory"): territory, dashboard.dom_id("refresh"): 0}
    outputs = [{"id": dashboard.dom_id(w), "property": "children"} for w in widget_ids]
    return {
        "output": ".." + "...".join(f"{o['id']}.children" for o in outputs) + "..",
        "outputs": outputs,
        "inputs": [{"id": i, "property": p, "value": values.get(i)} for i, p in inputs],
        "changedPropIds": [],  # as on the page's first call: every widget drawn
        "state": [],
    }


def drive(url: str, session: requests.Session, stop: threading.Event, outcomes: list[Outcome]) -> None:
    """Alternate a page and a widget callback, as a browser would, until ``stop``."""
    body = callback_body()
    while not stop.is_set():
        for method, path in (("GET", "/rsa"), ("POST", "/_dash-update-component")):
            started = time.monotonic()
            try:
                if method == "GET":
                    response = session.get(url + path, timeout=20, allow_redirects=False)
                else:
                    headers = {"X-CSRFToken": session.cookies.get("_csrf_token", "")}
                    response = session.post(url + path, json=body, headers=headers, timeout=20)
                ok, what = response.status_code == 200, f"{method} {path} {response.status_code}"
            except requests.RequestException as exc:
                ok, what = False, f"{method} {path} {exc.__class__.__name__}"
            outcomes.append(Outcome(started, time.monotonic(), ok, what))
            time.sleep(0.02)


def job_lines(log: Path) -> list[tuple[str, str, int]]:
    if not log.exists():
        return []
    return [(w[0], w[1], int(w[2])) for w in (line.split() for line in log.read_text().splitlines()) if len(w) == 3]


def wait_for(condition, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} : pas dans les {seconds:.0f} s"
        time.sleep(0.05)


def kill_worker_mid_run(deployed: Stack) -> tuple[str, int]:
    """SIGKILL worker 1 while it runs a job; the due time of that run."""
    pid = deployed.workers[0].popen.pid

    def running() -> str | None:
        lines = job_lines(deployed.job_log)
        done = {(due, p) for kind, due, p in lines if kind == "done"}
        starts = [due for kind, due, p in lines if kind == "start" and p == pid and (due, p) not in done]
        return starts[-1] if starts else None

    wait_for(lambda: running() is not None, 20, "le travailleur 1 n'a pas commencé de tâche")
    due = running()
    deployed.workers[0].kill()
    assert due is not None
    return due, pid


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[Stack]:
    base, redis_url = os.environ.get(PG_ENV), os.environ.get("PILOTIS_TEST_REDIS")
    need(bool(base), f"{PG_ENV} n'est pas défini (PostgreSQL)")
    need(bool(redis_url), "PILOTIS_TEST_REDIS n'est pas défini (Redis)")
    job_env = {
        "PILOTIS_TEST_JOB_LOG": str(tmp_path / "jobs.log"),
        "PILOTIS_TEST_JOB_EVERY": str(EVERY),
        "PILOTIS_TEST_JOB_SECONDS": "0.6",
        "PILOTIS_TEST_JOB_LEASE": str(LEASE),
    }
    with postgres_schema(base or "") as url, stack(tmp_path, url, redis_url or "", job_env) as result:
        yield result


def test_killing_an_instance_and_a_worker_under_load(deployed: Stack) -> None:
    url = deployed.url
    sessions = [sign_in(url, "agent.rsa") for _ in range(CLIENTS)]
    outcomes: list[Outcome] = []
    stop = threading.Event()
    threads = [threading.Thread(target=drive, args=(url, s, stop, outcomes)) for s in sessions]
    for thread in threads:
        thread.start()
    try:
        # Load on both instances, then on the surviving one only: counted in answered requests, not
        # seconds (a loaded machine answers fewer requests per second, the scenario stays the same).
        wait_for(lambda: len(outcomes) >= 2 * CLIENTS, 120, "charge avant l'arrêt brutal")
        killed_at = time.monotonic()
        deployed.instances[0].kill()  # SIGKILL to its process group, returns once the processes are reaped
        killed_done = time.monotonic()
        killed_due, killed_pid = kill_worker_mid_run(deployed)
        wait_for(lambda: sum(o.started > killed_done for o in outcomes) >= 4 * CLIENTS, 120, "charge après")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    failed = [o for o in outcomes if not o.ok]
    # In flight at the kill: started before the killed processes were gone, ended after the signal.
    in_flight = [o for o in failed if o.started <= killed_done and o.ended >= killed_at]
    assert len(outcomes) >= 6 * CLIENTS, len(outcomes)
    late = [
        (o.what, round(o.started - killed_at, 3), round(o.ended - killed_at, 3)) for o in failed if o not in in_flight
    ]
    assert late == [], (
        f"requests failed that were not in progress at the kill (done at +{killed_done - killed_at:.3f} s):\n"
        f"{deployed.nginx_errors()}\n{deployed.nginx_access()}"
    )
    assert len(in_flight) <= CLIENTS
    after = [o for o in outcomes if o.started > killed_done]
    assert after and all(o.ok for o in after)  # signed in all along: the sessions survived
    print(f"\n{len(outcomes)} requêtes, {len(failed)} en échec (en cours lors de l'arrêt brutal)")

    # The killed worker's run is taken over after its lease, then the workers stop cleanly.
    wait_for(
        lambda: any(k == "done" and due == killed_due for k, due, _ in job_lines(deployed.job_log)),
        LEASE + 15,
        "la tâche du travailleur tué n'a pas été reprise",
    )
    deployed.workers[1].stop()
    assert deployed.workers[1].popen.returncode == 0, deployed.workers[1].tail()

    lines = job_lines(deployed.job_log)
    done = Counter(due for kind, due, _ in lines if kind == "done")
    assert [due for due, count in done.items() if count > 1] == []  # nothing ran twice
    starts = Counter(due for kind, due, _ in lines if kind == "start")
    assert starts[killed_due] == 2 and all(n == 1 for due, n in starts.items() if due != killed_due)
    with Database(deployed.database_url) as db:
        runs = db.read(text("SELECT due_at, status, attempt, worker FROM job_runs WHERE kind = 'test_tick'"))
    by_due = {row[0]: row for row in runs}
    assert {row[1] for row in runs} == {"done"}
    dues = sorted(by_due)
    expected = {dues[0] + (dues[-1] - dues[0]) * i / max(1, len(dues) - 1) for i in range(len(dues))}
    steps = {(b - a).total_seconds() for a, b in zip(dues, dues[1:], strict=False)}
    assert steps == {EVERY}, steps  # no due time lost between the first and the last
    assert len(expected) == len(dues)
    taken = [row for row in runs if row[2] == 2]
    assert len(taken) == 1 and not taken[0][3].endswith(f":{killed_pid}")

    # The surviving instance's metrics, through nginx, with the token.
    metrics = requests.get(url + "/metrics", headers={"Authorization": "Bearer jeton-deploiement"}, timeout=10)
    assert metrics.status_code == 200 and 'dashboard="rsa"' in metrics.text
    assert requests.get(url + "/healthz", timeout=5).headers["X-Request-ID"]
