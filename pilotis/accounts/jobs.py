"""Claims of job runs in the application database: each run ``(kind, key, due_at)`` is executed
by exactly one worker, whatever the number of workers and machines (no leader election).

- **claim**: ``INSERT INTO job_runs … ON CONFLICT DO NOTHING`` on the unique ``(kind, key,
  due_at)``: of the workers inserting the same run, one gets the row, the others nothing
  (PostgreSQL and SQLite alike);
- **lease**: the holder pushes ``lease_until`` forward while the job runs (:meth:`JobStore.renew`);
- **takeover**: a ``running`` row whose lease has expired (its worker was killed) is taken by a
  conditional ``UPDATE … WHERE attempt = <seen> AND lease_until < now``: one worker wins, and its
  ``attempt`` + 1 fences the late writes of the previous holder (its renew and finish find no row).

Timestamps are naive UTC from the workers' clocks (keep them in sync, NTP): a lease of minutes
tolerates seconds of skew.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from pilotis.accounts.db import Database, utcnow
from pilotis.accounts.models import Job, JobRun

ERROR_MAX = 2000


def worker_name() -> str:
    """``host:pid``: who holds a claim (shown to operators, 120 characters at most)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


@dataclass(frozen=True)
class Claim:
    """A run this worker holds: ``attempt`` is its fencing token."""

    id: int
    kind: str
    key: str
    due_at: dt.datetime
    attempt: int


def naive(moment: dt.datetime) -> dt.datetime:
    """An aware time as stored (naive UTC)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


class JobStore:
    """The claims of one worker on one database."""

    def __init__(self, db: Database, worker: str | None = None, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.db = db
        self.worker = worker or worker_name()
        self.clock = clock

    def _insert(self, model: type[Job] | type[JobRun]) -> postgresql.Insert | sqlite.Insert:
        dialect = postgresql if self.db.dialect == "postgresql" else sqlite
        return dialect.insert(model)

    # ------------------------------------------------------------------ planning
    def plan(self, jobs: Iterable[tuple[str, str, dt.datetime]]) -> None:
        """Record each job's latest due time (the ``jobs`` table: what the workers planned, for operators)."""
        rows = [{"kind": k, "key": key, "next_due_at": naive(due), "updated_at": self.clock()} for k, key, due in jobs]
        if not rows:
            return
        statement = self._insert(Job)
        statement = statement.on_conflict_do_update(
            index_elements=["kind", "key"],
            set_={"next_due_at": statement.excluded.next_due_at, "updated_at": statement.excluded.updated_at},
        )
        with self.db.session() as session:
            session.execute(statement, rows)

    def existing(self, candidates: Iterable[tuple[str, str, dt.datetime]]) -> dict[tuple[str, str, dt.datetime], str]:
        """The status of the runs of ``candidates`` (kind, key, due) that exist (claimed by anyone)."""
        wanted = [(k, key, naive(due)) for k, key, due in candidates]
        if not wanted:
            return {}
        statement = select(JobRun.kind, JobRun.key, JobRun.due_at, JobRun.status).where(
            tuple_(JobRun.kind, JobRun.key, JobRun.due_at).in_(wanted)
        )
        return {(kind, key, due): status for kind, key, due, status in map(tuple, self.db.read(statement))}

    def queue_depth(self, candidates: Iterable[tuple[str, str, dt.datetime]]) -> int:
        """How many of the due runs ``candidates`` are waiting (no run yet) or running."""
        wanted = [(k, key, naive(due)) for k, key, due in candidates]
        found = self.existing(wanted)
        return sum(1 for candidate in wanted if found.get(candidate, "running") == "running")

    # ------------------------------------------------------------------ claims
    def claim(self, kind: str, key: str, due_at: dt.datetime, lease: float) -> Claim | None:
        """Take the run ``(kind, key, due_at)``; None when another worker has it (or had it)."""
        now = self.clock()
        statement = (
            self._insert(JobRun)
            .values(
                kind=kind,
                key=key,
                due_at=naive(due_at),
                status="running",
                worker=self.worker,
                attempt=1,
                claimed_at=now,
                lease_until=now + dt.timedelta(seconds=lease),
                error="",
            )
            .on_conflict_do_nothing(index_elements=["kind", "key", "due_at"])
            .returning(JobRun.id)
        )
        with self.db.session() as session:
            run_id = session.execute(statement).scalar()
        if run_id is None:
            return None
        return Claim(int(run_id), kind, key, naive(due_at), 1)

    def expired(self, kinds: Iterable[str]) -> list[tuple[int, int, str]]:
        """``(id, attempt, kind)`` of the running runs of ``kinds`` whose lease has expired."""
        statement = select(JobRun.id, JobRun.attempt, JobRun.kind).where(
            JobRun.status == "running", JobRun.lease_until < self.clock(), JobRun.kind.in_(list(kinds))
        )
        return [(int(i), int(attempt), str(kind)) for i, attempt, kind in map(tuple, self.db.read(statement))]

    def take_over(self, run_id: int, attempt: int, lease: float) -> Claim | None:
        """Take a run whose holder let its lease expire; None when another worker was first."""
        now = self.clock()
        statement = (
            update(JobRun)
            .where(
                JobRun.id == run_id,
                JobRun.attempt == attempt,
                JobRun.status == "running",
                JobRun.lease_until < now,
            )
            .values(
                worker=self.worker,
                attempt=attempt + 1,
                claimed_at=now,
                lease_until=now + dt.timedelta(seconds=lease),
            )
            .returning(JobRun.kind, JobRun.key, JobRun.due_at)
        )
        with self.db.session() as session:
            row = session.execute(statement).first()
        if row is None:
            return None
        return Claim(run_id, row[0], row[1], row[2], attempt + 1)

    def renew(self, claim: Claim, lease: float) -> bool:
        """Push the lease forward; False when the run was taken over (this worker lost it)."""
        statement = (
            update(JobRun)
            .where(JobRun.id == claim.id, JobRun.attempt == claim.attempt, JobRun.status == "running")
            .values(lease_until=self.clock() + dt.timedelta(seconds=lease))
        )
        with self.db.session() as session:
            return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]

    def finish(self, claim: Claim, error: str | None = None) -> bool:
        """Mark the run done (or failed, with ``error``); False when it was taken over meanwhile."""
        statement = (
            update(JobRun)
            .where(JobRun.id == claim.id, JobRun.attempt == claim.attempt, JobRun.status == "running")
            .values(
                status="failed" if error is not None else "done",
                finished_at=self.clock(),
                error=(error or "")[:ERROR_MAX],
            )
        )
        with self.db.session() as session:
            return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ reading
    def runs(self, kind: str | None = None) -> list[JobRun]:
        """Every run (of ``kind``), oldest due time first (tests, operators)."""
        statement = select(JobRun).order_by(JobRun.due_at, JobRun.id)
        if kind is not None:
            statement = statement.where(JobRun.kind == kind)
        with self.db.session() as session:
            return list(session.scalars(statement))
