"""Start-up work of an installation is done by one process, not by every gunicorn worker.

Several workers (``gunicorn -w 2`` and more) build the app at the same moment on the same
database. The demo's 48 h of simulated sensor readings used to be written by each of them: every
worker saw an empty table, and they wrote the same rows into the same SQLite file while the first
one ready was already serving pages (the wall-screen browser test failed once in CI that way).
Here real processes start the real app together, as gunicorn's forked workers do; to make the
race certain rather than likely, each one that finds the table empty waits (3 s at most) for the
others to have looked too before it writes.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app import create_app
from pilotis.accounts import sensor_store
from pilotis.accounts.db import Database
from pilotis.core.settings import Settings
from tests.dbutil import DB_KINDS, database_url

WORKERS = 3
SEEDED = "48 h de relevés simulés écrits"


class _Seen(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _worker(settings: Settings, barrier: Any, results: Any) -> None:
    """One gunicorn-like worker: build the app; say whether it wrote the demo readings."""
    seen = _Seen()
    logging.getLogger("pilotis.web.sensors_api").addHandler(seen)
    checked = sensor_store.has_readings

    def has_readings(db: Database, ids: Any) -> bool:
        found = checked(db, ids)
        if not found:  # the others look too before anyone writes (unless a lock keeps them out)
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=3)
        return found

    sensor_store.has_readings = has_readings  # type: ignore[assignment]  # this child process only
    try:
        create_app(settings)
        results.put((os.getpid(), any(SEEDED in m for m in seen.messages), ""))
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails with it
        results.put((os.getpid(), False, repr(exc)))


@pytest.mark.slow
@pytest.mark.parametrize("kind", DB_KINDS)
def test_workers_starting_together_write_the_demo_readings_once(kind: str, tmp_path: Path) -> None:
    with database_url(kind, tmp_path) as url:
        _start_together(replace(Settings.from_env(instance_dir=tmp_path / "instance", mode="demo"), database_url=url))


def _start_together(mine: Settings) -> None:
    # Spawned, not forked: gunicorn forks from a master without threads, while this pytest process
    # has run browser servers and connection pools; a forked child inheriting their state crashed
    # in libpq (segmentation fault in CI). Each child builds the app from scratch, as a worker does.
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(WORKERS), context.Queue()
    workers = [context.Process(target=_worker, args=(mine, barrier, results)) for _ in range(WORKERS)]
    for process in workers:
        process.start()
    try:
        answers = [results.get(timeout=240) for _ in workers]
    finally:
        for process in workers:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    assert [error for _pid, _wrote, error in answers if error] == []
    writers = [pid for pid, wrote, _error in answers if wrote]
    assert len(writers) == 1, f"{len(writers)} workers wrote the demo readings (expected one): {answers}"
    with Database(mine.database_url) as db:
        count = int(db.read(text("SELECT count(*) FROM sensor_readings"))[0][0])
    assert count > 0


def test_a_writer_waits_for_another_process_writing_instead_of_failing(tmp_path: Path) -> None:
    """The SQLite application database is in WAL mode with a busy timeout: a worker writing while
    another one holds the write lock (a start-up, a batch of readings) waits, it is not refused
    with « database is locked »; readers are not held up at all."""
    url = f"sqlite:///{tmp_path / 'pilotis.db'}"
    with Database(url) as first, Database(url) as second:
        with first.engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (v INTEGER)"))
        assert first.read(text("PRAGMA journal_mode"))[0][0] == "wal"
        assert int(second.read(text("PRAGMA busy_timeout"))[0][0]) >= 10_000
        holding = threading.Event()

        def hold() -> None:
            with first.engine.begin() as connection:
                connection.execute(text("INSERT INTO t VALUES (1)"))
                holding.set()
                time.sleep(1.5)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert holding.wait(10)
            assert second.read(text("SELECT count(*) FROM t"))[0][0] == 0  # a reader does not wait
            with second.engine.begin() as connection:  # waits for the lock, then writes
                connection.execute(text("INSERT INTO t VALUES (2)"))
        finally:
            holder.join()
        assert sorted(v for (v,) in second.read(text("SELECT v FROM t"))) == [1, 2]
