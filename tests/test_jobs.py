"""Background jobs: each scheduled run is claimed once through the database (SQLite and
PostgreSQL), a dead worker's run is taken over after its lease, late writes are fenced."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pilotis.accounts.db import Database
from pilotis.accounts.job_runner import Worker
from pilotis.accounts.jobs import JobStore
from pilotis.core.jobs import Every, JobContext, JobKind, as_schedule, due_time, register_job
from tests.dbutil import DB_KINDS, database_url

START = dt.datetime(2026, 12, 7, 9, 0, 30, tzinfo=dt.UTC)


class Clock:
    """A clock the test moves (shared by the stores and workers of a test)."""

    def __init__(self) -> None:
        self.now = START
        self.lock = threading.Lock()

    def aware(self) -> dt.datetime:
        with self.lock:
            return self.now

    def naive(self) -> dt.datetime:
        return self.aware().replace(tzinfo=None)

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.now += dt.timedelta(seconds=seconds)


@pytest.fixture(params=DB_KINDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with database_url(request.param, tmp_path) as url, Database(url) as database:
        database.upgrade()
        yield database


def make_kind(name: str, calls: list[tuple[str, str, dt.datetime]], every: float = 60, lease: float = 30) -> JobKind:
    def run(ctx: JobContext) -> None:
        calls.append((ctx.kind, ctx.key, ctx.due_at))

    return JobKind(name, run, lambda _ctx: {"a": Every(every), "b": Every(every)}, lease=lease)


def worker(db: Database, clock: Clock, kinds: dict[str, JobKind], name: str) -> Worker:
    store = JobStore(db, worker=name, clock=clock.naive)
    return Worker(store, JobContext(None, None, db), kinds, poll=0.01, now=clock.aware)


def test_a_run_is_claimed_by_one_worker_only(db: Database) -> None:
    due = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
    first, second = JobStore(db, "a:1"), JobStore(db, "b:2")
    claim = first.claim("k", "x", due, lease=30)
    assert claim is not None and claim.attempt == 1
    assert second.claim("k", "x", due, lease=30) is None
    assert first.claim("k", "x", due, lease=30) is None  # not even twice by the same worker
    assert second.claim("k", "x", due + dt.timedelta(minutes=1), lease=30) is not None  # the next due time


def test_many_workers_run_each_due_time_once(db: Database) -> None:
    """Four workers passing concurrently over three due times: every (key, due) runs exactly once."""
    clock = Clock()
    calls: list[tuple[str, str, dt.datetime]] = []
    kinds = {"count": make_kind("count", calls)}
    workers = [worker(db, clock, kinds, f"w{i}") for i in range(4)]
    for _ in range(3):
        barrier = threading.Barrier(len(workers))

        def one_pass(w: Worker, gate: threading.Barrier = barrier) -> None:
            gate.wait()
            w.run_pass()

        threads = [threading.Thread(target=one_pass, args=(w,)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        clock.advance(60)
    assert sorted(calls) == sorted(
        ("count", key, START.replace(second=0) + dt.timedelta(minutes=m)) for key in "ab" for m in range(3)
    )
    runs = JobStore(db).runs("count")
    assert {r.status for r in runs} == {"done"} and len(runs) == 6


def test_a_dead_workers_run_is_taken_over_after_its_lease(db: Database) -> None:
    clock = Clock()
    calls: list[tuple[str, str, dt.datetime]] = []
    kinds = {"count": make_kind("count", calls, lease=30)}
    dead = JobStore(db, "dead:1", clock=clock.naive)
    due = due_time(Every(60), START)
    claim = dead.claim("count", "a", due, lease=30)  # claimed, then the process was killed
    assert claim is not None
    survivor = worker(db, clock, kinds, "alive:2")
    survivor.run_pass()
    assert ("count", "a", due) not in calls  # within the lease: nobody runs it again
    assert ("count", "b", due) in calls
    clock.advance(31)
    survivor.run_pass()
    assert calls.count(("count", "a", due)) == 1  # taken over once the lease expired
    [run] = [r for r in JobStore(db).runs("count") if (r.key, r.due_at) == ("a", due.replace(tzinfo=None))]
    assert (run.status, run.worker, run.attempt) == ("done", "alive:2", 2)
    assert not dead.finish(claim)  # the first holder's late result is refused (fencing)
    assert not dead.renew(claim, 30)


def test_a_renewed_lease_is_not_taken_over(db: Database) -> None:
    clock = Clock()
    holder = JobStore(db, "holder:1", clock=clock.naive)
    other = JobStore(db, "other:2", clock=clock.naive)
    claim = holder.claim("k", "", START, lease=30)
    assert claim is not None
    for _ in range(5):
        clock.advance(20)
        assert holder.renew(claim, 30)
        assert other.expired(["k"]) == []
    clock.advance(31)
    [(run_id, attempt, kind)] = other.expired(["k"])
    assert other.take_over(run_id, attempt, 30) is not None
    assert holder.take_over(run_id, attempt, 30) is None  # one winner


def test_a_failed_run_is_recorded_and_not_retried(db: Database) -> None:
    clock = Clock()

    def broken(_ctx: JobContext) -> None:
        raise RuntimeError("source injoignable")

    kinds = {"broken": JobKind("broken", broken, lambda _ctx: {"": Every(60)})}
    w = worker(db, clock, kinds, "w")
    assert w.run_pass() == 1
    assert w.run_pass() == 0
    [run] = JobStore(db).runs("broken")
    assert run.status == "failed" and "source injoignable" in run.error


def test_queue_depth_counts_due_runs_not_finished(db: Database) -> None:
    clock = Clock()
    store = JobStore(db, "w", clock=clock.naive)
    due = due_time(Every(60), START)
    candidates = [("k", "a", due), ("k", "b", due)]
    assert store.queue_depth(candidates) == 2
    claim = store.claim("k", "a", due, 30)
    assert claim is not None and store.queue_depth(candidates) == 2  # running still counts
    store.finish(claim)
    assert store.queue_depth(candidates) == 1
    failed = store.claim("k", "b", due, 30)
    assert failed is not None and store.finish(failed, "erreur")
    assert store.queue_depth(candidates) == 0


def test_old_due_times_beyond_grace_are_skipped(db: Database) -> None:
    clock = Clock()
    calls: list[tuple[str, str, dt.datetime]] = []

    def run(ctx: JobContext) -> None:
        calls.append((ctx.kind, ctx.key, ctx.due_at))

    daily = JobKind("daily", run, lambda _ctx: {"": as_schedule("30 6 * * *")}, grace=3600)
    worker(db, clock, {"daily": daily}, "w").run_pass()  # 06:30 Paris was hours ago: not run now
    assert calls == []


def test_register_job_refuses_a_second_function_for_a_kind() -> None:
    def one(_ctx: JobContext) -> None: ...

    def two(_ctx: JobContext) -> None: ...

    register_job("test_unique_kind", 60, one)
    with pytest.raises(ValueError, match="déjà enregistré"):
        register_job("test_unique_kind", 60, two)
    with pytest.raises(ValueError, match="1 seconde"):
        Every(0.5)
