"""Background jobs: the registry of job kinds and their schedules (``python -m pilotis worker``).

A *job* is a kind (``source_refresh``), a key (``rsa_foyers``; ``""`` for a job that exists once)
and a schedule. Each time the schedule fires, the run ``(kind, key, due_at)`` is claimed by exactly
one worker through the application database (:mod:`pilotis.accounts.jobs`), whatever the number of
workers and machines; this module knows nothing of the database.

A feature adds its jobs at import time, from the module that implements it::

    from pilotis.core.jobs import JobContext, register_job

    def evaluate_alerts(ctx: JobContext) -> None:
        ...  # ctx.portal, ctx.data, ctx.db, ctx.due_at

    register_job("alerts", "*/5 * * * *", evaluate_alerts)  # cron text (Paris time), or seconds

or, for one job per configured object (``key``), :func:`register_jobs` with a *plan*: a function
of the :class:`JobContext` returning ``{key: schedule}`` (the built-in source refreshes,
:mod:`pilotis.core.refresh_ahead`, use it). The worker imports the modules named by
``--jobs module`` (or ``PILOTIS_JOB_MODULES``) before it starts, so a third-party package registers
its kinds the same way.

The registry is per process and filled at import time (code, not state): like ``WIDGET_TYPES``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pilotis.core.cron import PARIS, parse_cron

UTC = dt.UTC


class Schedule(Protocol):
    """When a job is due: the last firing at or before a moment."""

    def previous(self, moment: dt.datetime) -> dt.datetime:
        """The last due time at or before ``moment`` (aware datetime)."""
        ...


@dataclass(frozen=True)
class Every:
    """Every ``seconds``, aligned on the Unix epoch (``Every(300)`` fires at :00, :05, … UTC)."""

    seconds: float

    def __post_init__(self) -> None:
        if self.seconds < 1:
            raise ValueError("période d'une tâche trop courte (au moins 1 seconde)")

    def previous(self, moment: dt.datetime) -> dt.datetime:
        """The last multiple of ``seconds`` at or before ``moment``."""
        start = math.floor(moment.timestamp() / self.seconds) * self.seconds
        return dt.datetime.fromtimestamp(start, UTC)


def as_schedule(schedule: Schedule | str | float) -> Schedule:
    """A cron text (five fields, Paris time), a number of seconds, or a :class:`Schedule`."""
    if isinstance(schedule, str):
        return parse_cron(schedule)
    if isinstance(schedule, int | float):
        return Every(float(schedule))
    return schedule


@dataclass
class JobContext:
    """What a job function receives: the portal's services and the run it executes."""

    settings: Any
    """:class:`pilotis.core.settings.Settings` of the worker."""
    portal: Any
    """The :class:`pilotis.ui.portal.Portal` (registry, data service, territories, ``scope()``)."""
    db: Any
    """The :class:`pilotis.accounts.db.Database` (jobs may write to the application database)."""
    kind: str = ""
    key: str = ""
    due_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(UTC))
    """The due time of this run (aware, UTC)."""

    def for_run(self, kind: str, key: str, due_at: dt.datetime) -> JobContext:
        """A copy naming one run."""
        return JobContext(self.settings, self.portal, self.db, kind, key, due_at)


JobFunction = Callable[[JobContext], None]
Plan = Callable[[JobContext], Mapping[str, Schedule]]


@dataclass(frozen=True)
class JobKind:
    """A registered kind of job: what to run, for which keys, when, and its lease."""

    kind: str
    function: JobFunction
    plan: Plan
    lease: float = 300.0
    """Seconds a claim holds without renewal (renewed every third of it while the job runs): after
    a worker died mid-run, another takes the run over once the lease has expired."""
    grace: float = 6 * 3600.0
    """A due time older than this when a worker first sees it is skipped (a worker down for a
    week does not send last Monday's report now): only the latest due time ever runs."""


JOB_KINDS: dict[str, JobKind] = {}
"""Registered job kinds by name (filled at import time by :func:`register_job`)."""


def register_jobs(
    kind: str, plan: Plan, function: JobFunction, *, lease: float = 300.0, grace: float = 6 * 3600.0
) -> JobKind:
    """Register ``kind``: ``plan(ctx)`` gives ``{key: schedule}``, ``function(ctx)`` runs one key."""
    if not kind or len(kind) > 60:
        raise ValueError(f"nom de tâche invalide : {kind!r} (1 à 60 caractères)")
    known = JOB_KINDS.get(kind)
    if known is not None and known.function is not function:
        raise ValueError(f"type de tâche déjà enregistré : {kind}")
    if lease < 3:
        raise ValueError("bail d'une tâche trop court (au moins 3 secondes)")
    job = JobKind(kind, function, plan, lease, grace)
    JOB_KINDS[kind] = job
    return job


def register_job(
    kind: str,
    schedule: Schedule | str | float,
    function: JobFunction,
    *,
    lease: float = 300.0,
    grace: float = 6 * 3600.0,
) -> JobKind:
    """Register a job that exists once (key ``""``): ``schedule`` is a cron text in Paris time
    (``"30 6 * * 1-5"``), a period in seconds (``300``) or a :class:`Schedule`."""
    fixed = as_schedule(schedule)
    return register_jobs(kind, lambda _ctx: {"": fixed}, function, lease=lease, grace=grace)


def due_time(schedule: Schedule, now: dt.datetime) -> dt.datetime:
    """The due time of ``schedule`` at ``now``, in UTC without seconds' fractions (stored as is)."""
    due = schedule.previous(now.astimezone(PARIS)).astimezone(UTC)
    return due.replace(microsecond=0)
