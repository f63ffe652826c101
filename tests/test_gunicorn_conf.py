"""The app under gunicorn: built once by the master, forked workers that answer.

Chromium opens connections ahead of time (preconnect) and may send nothing on them. With
gunicorn's default ``sync`` workers, two such sockets block both workers of ``-w 2`` until the
worker timeout, and a real page load hangs (a browser test timed out in CI this way). The
repository's ``gunicorn.conf.py`` (read by gunicorn from the working directory) picks threaded
workers that poll their connections.

``preload_app``: the workers are forked from a master that built the app; a first try hung on
the first filter change of /rsa (the DuckDB database inherited from the master).
"""

from __future__ import annotations

import csv
import gc
import json
import logging
import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import requests

from pilotis.web import worker_memory
from tests.browser.conftest import _gunicorn, serve
from tests.test_deploy import callback_body, sign_in

ROOT = Path(__file__).resolve().parent.parent


def test_idle_connections_do_not_block_the_workers(tmp_path: Path) -> None:
    with serve(tmp_path, ready_path="/login") as base:
        address = urlsplit(base)
        idle = [socket.create_connection((address.hostname, address.port)) for _ in range(4)]
        try:
            time.sleep(0.5)  # let the workers accept the idle sockets first, as with a preconnect
            started = time.monotonic()
            with urllib.request.urlopen(base + "/login", timeout=20) as response:
                assert response.status == 200
            # A sync worker answers only after the 60 s worker timeout (or never within 20 s).
            assert time.monotonic() - started < 10
        finally:
            for sock in idle:
                sock.close()


class _Cycle:
    """An object in a reference cycle: only the collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_the_master_builds_without_collections_and_freezes_before_forking() -> None:
    """Both configurations preload the app. No collection while the master builds it (≈ 0.2 s);
    before each fork the build's garbage is freed (not frozen forever), the rest frozen (a
    worker's collections leave its pages shared) and the master collects again; the frozen
    objects come back before the master exits."""
    for conf in (ROOT / "gunicorn.conf.py", ROOT / "deploy" / "gunicorn.conf.py"):
        gc.unfreeze()
        try:
            hooks = runpy.run_path(str(conf))  # what gunicorn's master does first
            assert hooks["preload_app"] is True, conf
            assert not gc.isenabled(), conf
            garbage = _Cycle()
            freed = weakref.ref(garbage)
            del garbage
            hooks["pre_fork"](None, None)
            assert gc.isenabled(), conf
            assert freed() is None, conf
            assert gc.get_freeze_count() > 1000
            hooks["on_exit"](None)
            assert gc.get_freeze_count() == 0
        finally:
            gc.unfreeze()
            gc.enable()


def test_a_worker_starts_without_collections_and_freezes_what_it_built() -> None:
    """No collection while a worker starts (without preload: while it builds the app); once it
    is ready, the start's garbage is freed (not frozen forever), the start-up objects leave the
    collector's reach (a full collection walked them at every few hundred allocations of a filter
    change), and come back before it exits (a frozen DuckDB connection is reported as leaked by
    its bindings)."""
    for conf in (ROOT / "gunicorn.conf.py", ROOT / "deploy" / "gunicorn.conf.py"):
        hooks = runpy.run_path(str(conf))
        worker = SimpleNamespace(pid=1, log=logging.getLogger("test-gunicorn"))
        gc.unfreeze()
        gc.enable()
        try:
            hooks["post_fork"](None, worker)
            assert not gc.isenabled(), conf
            garbage = _Cycle()
            freed = weakref.ref(garbage)
            del garbage
            hooks["post_worker_init"](worker)
            assert gc.isenabled(), conf
            assert freed() is None, conf  # collected before the freeze
            assert gc.get_freeze_count() > 1000
            hooks["worker_exit"](None, worker)
            assert gc.get_freeze_count() == 0
        finally:
            gc.unfreeze()
            gc.enable()


_BUFFERS = """
import gc
import sys
sys.path.insert(0, {root!r})
from pilotis.web import worker_memory

def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024

if {hook!r}:
    worker_memory.post_fork(None, None)
    gc.enable()
size = 1 << 21
freed = b"x" * size  # a big block freed once: glibc's threshold rises (unless it is fixed)
del freed
before = rss_mb()
size = 1 << 20
pairs = [(b"x" * size, bytearray(2048)) for _ in range(64)]  # 64 MiB of buffers, small blocks between
kept = [small for _big, small in pairs]
del pairs
print(rss_mb() - before)
"""


def test_a_worker_gives_big_buffers_back_when_freed() -> None:
    """A filter change's pandas and DuckDB buffers go back to the system once freed, instead of
    staying in the worker's heap behind the small blocks allocated after them (glibc's mmap
    threshold, raised by the first big free, is fixed by ``post_fork``)."""
    if worker_memory._glibc("mallopt") is None:
        pytest.skip("glibc only: another C library keeps its own policy")

    def kept_mb(hook: bool) -> float:
        code = _BUFFERS.format(root=str(ROOT), hook=hook)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return float(done.stdout)

    assert kept_mb(hook=True) < 16
    assert kept_mb(hook=False) > 48  # what the test guards against: the heap keeps the 64 MiB


def test_the_metrics_folder_is_emptied_once_before_the_master_builds_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``preload_app`` the master creates its metric files while it builds the app, before
    gunicorn's ``on_starting``: the folder is emptied when the configuration is read, and not
    again when a SIGHUP reads it anew in the same master (the workers' files are live)."""
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_1.db").write_bytes(b"old run")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    monkeypatch.delenv("PILOTIS_METRICS_EMPTIED_BY", raising=False)
    try:
        runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
        assert list(folder.iterdir()) == []
        (folder / f"counter_{os.getpid()}.db").write_bytes(b"live worker")
        runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))  # SIGHUP
        assert [p.name for p in folder.iterdir()] == [f"counter_{os.getpid()}.db"]
    finally:
        gc.enable()


def _communes() -> list[str]:
    with open(ROOT / "data" / "communes.csv", encoding="utf-8") as handle:
        return [f"commune:{row['code_insee']}" for row in csv.DictReader(handle)]


def ready_workers(log: Path) -> set[str]:
    """The pids of the workers that said they were ready, in a log of :func:`serve`."""
    return set(re.findall(r"Worker ready \(pid: (\d+)\)", log.read_text()))


@pytest.mark.timeout(180)
def test_forked_workers_answer_filter_changes(tmp_path: Path) -> None:
    """Both workers forked from the master that built the app answer DuckDB-backed filter changes
    of /rsa, signed in, within seconds: the first try of ``--preload`` hung on the first one (the
    master's DuckDB database, whose threads do not survive a fork). Each change asks another
    commune, so that it is computed by the worker and not found in the shared cache. Workers
    renewed later are forked from the same master and answer too; all stop cleanly."""
    answered_by = "--access-logfile - --access-logformat 'answered-by=%(p)s %(r)s %(s)s'"
    log, token = tmp_path / "gunicorn.log", "m" * 40
    (tmp_path / "metrics").mkdir()
    env = {"GUNICORN_CMD_ARGS": answered_by, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    with serve(tmp_path, {**env, "PILOTIS_METRICS_TOKEN": token}, ready_path="/login") as base:
        cookies = sign_in(base, "president").cookies
        headers = {"X-CSRFToken": cookies.get("_csrf_token") or "", "Content-Type": "application/json"}
        communes = iter(_communes())
        sent: list[str] = []

        def change(territory: str) -> int:
            sent.append(territory)
            with requests.Session() as session:  # a connection of its own: either worker may take it
                session.cookies.update(cookies)
                body = json.dumps(callback_body(territory))
                return session.post(
                    base + "/_dash-update-component", data=body, headers=headers, timeout=30
                ).status_code

        def answered_by_each(workers: set[str]) -> None:
            """Changes, four at a time, until each of ``workers`` has answered one (at most 40)."""
            changed: set[str] = set()
            with ThreadPoolExecutor(4) as pool:
                for _ in range(10):
                    assert list(pool.map(change, [next(communes) for _ in range(4)])) == [200] * 4
                    answers = re.findall(
                        r"answered-by=<(\d+)> POST /_dash-update-component\S* HTTP/1.1 200", log.read_text()
                    )
                    changed = set(answers) & workers
                    if changed == workers:
                        break
            assert len(workers) == 2 and changed == workers, log.read_text()[-3000:]

        answered_by_each(ready_workers(log))
        # Renewed workers (SIGHUP here; max_requests in production) are forked from the same master.
        first = ready_workers(log)
        os.kill(int((tmp_path / "gunicorn.pid").read_text()), signal.SIGHUP)
        deadline = time.monotonic() + 60
        while len(ready_workers(log) - first) < 2:
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        answered_by_each(ready_workers(log) - first)
        # Metrics (multiprocess mode): each worker counts its own callbacks, once, in a file of its pid.
        metrics = requests.get(base + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10).text
        counted = sum(
            float(line.split()[-1])
            for line in metrics.splitlines()
            if line.startswith("pilotis_callback_seconds_count")
        )
        # Against the changes sent (all answered 200), not the access log: gunicorn writes a line
        # after the answer is sent, so the last one may not be in the file yet.
        assert counted == len(sent)
    ended = log.read_text()
    assert "SIGSEGV" not in ended and "Traceback" not in ended and "leaked" not in ended, ended[-3000:]
    assert ended.count("Worker exiting") == 4, ended[-3000:]


def test_a_configuration_error_stops_the_master_with_its_report(tmp_path: Path) -> None:
    """The master builds the app: a configuration error prints the report and gunicorn exits 1
    at once (no worker is forked, no traceback)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTIS_")}
    env.update(PILOTIS_MODE="production", PILOTIS_INSTANCE_DIR=str(tmp_path))
    command = [_gunicorn(), "app:server", "-b", "127.0.0.1:0", "--no-control-socket"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Pilotis refuse de démarrer" in result.stderr and "PILOTIS_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr and "Booting worker" not in result.stderr
