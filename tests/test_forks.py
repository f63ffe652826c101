"""What a forked child must not share with its parent (gunicorn's ``preload_app``): each case
forks a real process that uses the resource and ends normally, within a timeout.

A DuckDB database inherited open crashes the child when freed or closed there (its threads did
not survive the fork) and hangs it at exit; a pool's connections are the parent's sockets.
Every script runs in a fresh interpreter (forking the test process would copy pytest).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pilotis.accounts.alert_trigger import IngestTrigger

ROOT = Path(__file__).resolve().parent.parent

_FORK = """
import glob, os, sys, time
sys.path.insert(0, {root!r})
from pilotis.core import forks
from pilotis.core.sources import DuckRuntime

def threads():
    return len(glob.glob("/proc/self/task/*"))

def fork(child):
    pid = os.fork()
    if pid == 0:
        child()
        sys.exit(0)  # the whole interpreter ends, as a gunicorn worker's does
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            print("child", os.waitstatus_to_exitcode(status))
            return
        time.sleep(0.05)
    os.kill(pid, 9)
    print("child hung")

{body}
"""


def run(body: str) -> list[str]:
    code = _FORK.format(root=str(ROOT), body=textwrap.dedent(body))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split("\n")[:-1]


QUERY = "SELECT sum(range) FROM range(5000000)"


def test_a_child_queries_its_own_duckdb_when_the_parent_forked_with_one_open() -> None:
    """A fork without :func:`forks.release_before_fork` (any ``os.fork``): the child leaves the
    inherited database alone and opens its own; the parent's still works."""
    lines = run(f"""
        duck = DuckRuntime()
        duck.cursor().execute("{QUERY}").fetchall()  # the database's threads run
        fork(lambda: print("in child", duck.cursor().execute("{QUERY}").fetchall()))
        print("parent", duck.cursor().execute("{QUERY}").fetchall())
    """)
    assert lines == ["in child [(12499997500000,)]", "child 0", "parent [(12499997500000,)]"]


def test_the_master_closes_duckdb_before_forking() -> None:
    """gunicorn's master (``pre_fork``): the database closed, its threads ended before the fork;
    the master and the child each open a new one on first use, with its views (keyed by the
    connection) re-created."""
    lines = run(f"""
        before = threads()
        duck = DuckRuntime()
        duck.cursor().execute("{QUERY}").fetchall()
        first = id(duck.connection())
        print("threads while open", threads() > before)
        forks.release_before_fork()
        print("threads after release", threads() == before)
        fork(lambda: print("in child", duck.cursor().execute("{QUERY}").fetchall()))
        print("parent, new connection", id(duck.connection()) != first)
    """)
    assert lines == [
        "threads while open True",
        "threads after release True",
        "in child [(12499997500000,)]",
        "child 0",
        "parent, new connection True",
    ]


def test_a_child_does_not_use_the_parent_s_database_connections(tmp_path: Path) -> None:
    """The application database's pools (and a SQL source's) forget the parent's connections in
    the child, without closing them (the parent keeps using them)."""
    lines = run(f"""
        from sqlalchemy import text
        from pilotis.accounts.db import Database
        db = Database("sqlite:///{tmp_path / "app.db"}")
        with db.engine.connect() as con:
            con.execute(text("SELECT 1"))
        print("parent pool", db.engine.pool.checkedin())

        def child():
            print("child pool", db.engine.pool.checkedin())
            with db.engine.connect() as con:
                print("child reads", con.execute(text("SELECT 2")).scalar())
        fork(child)
        with db.engine.connect() as con:
            print("parent reads", con.execute(text("SELECT 3")).scalar())
    """)
    assert lines == ["parent pool 1", "child pool 0", "child reads 2", "child 0", "parent reads 3"]


@pytest.mark.timeout(30)
def test_the_alert_trigger_forgets_the_parent_s_thread_and_lock() -> None:
    """A thread of the parent held the trigger's lock in the middle of an evaluation when the
    process forked: the child gets a free lock, no thread, nothing running."""
    registry: Any = SimpleNamespace(sensors={}, alerts={}, datasets={})
    trigger = IngestTrigger(None, registry, lambda: None, lambda: None)  # type: ignore[arg-type,return-value]
    held, release = threading.Event(), threading.Event()

    def evaluating() -> None:
        with trigger._wake:
            trigger._busy = True
            held.set()
            release.wait()

    thread = threading.Thread(target=evaluating)
    thread.start()
    held.wait()
    try:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit status
            free = trigger._wake.acquire(timeout=5)
            os._exit(0 if free and not trigger._busy and trigger._thread is None else 1)
        deadline = time.monotonic() + 20
        status = None
        while status is None and time.monotonic() < deadline:
            done, raw = os.waitpid(pid, os.WNOHANG)
            status = os.waitstatus_to_exitcode(raw) if done else None
            time.sleep(0.02)
        assert status == 0
    finally:
        release.set()
        thread.join()
