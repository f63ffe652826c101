"""How fresh the data is: refresh periods, per-source status, what a widget rendering used.

- :func:`window` turns a dataset's refresh policy (``ttl`` or ``refresh: {every | at}``) into a
  cache lifetime and an *epoch* (part of the cache key, so every worker of every machine switches
  to fresh data at the same boundary);
- :class:`StatusStore` keeps, in the shared cache, each source's last success and last failure
  (message, kind): the « état des sources » page reads it;
- :func:`observing` / :func:`observe` collect, during one widget rendering, which datasets were
  read and whether the data was fresh or the last good copy (« données non actualisées »).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from pilotis.core.cron import PARIS, window_bounds
from pilotis.core.schema import DatasetBase

KEEP = 400 * 86400
"""Lifetime of status records and last good results (they outlive any source outage)."""


def window(config: DatasetBase, now: float) -> tuple[float, str]:
    """``(seconds the data stays fresh, epoch)`` for a dataset at time ``now`` (epoch seconds).

    Without ``refresh``: ``ttl`` seconds, epoch ``""`` (each entry expires on its own).
    With ``refresh.every``: periods aligned on Paris local midnight (``15min`` → :00, :15…).
    With ``refresh.at``: from one listed time of day (Paris) to the next.
    With ``refresh.cron``: from the schedule's last firing (Paris) to its next one.
    """
    policy = getattr(config, "refresh", None)
    if policy is None:
        return float(config.ttl), ""
    if policy.cron:
        start, end = window_bounds(policy.cron, now)
        return max(1.0, end.timestamp() - now), start.isoformat(timespec="minutes")
    local = dt.datetime.fromtimestamp(now, PARIS)
    if policy.every:
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        elapsed = (local - midnight).total_seconds()
        index = math.floor(elapsed / policy.every)
        start = midnight + dt.timedelta(seconds=index * policy.every)
        end = min(start + dt.timedelta(seconds=policy.every), midnight + dt.timedelta(days=1))
    else:
        times = sorted(dt.time.fromisoformat(text) for text in policy.at)
        candidates = [
            dt.datetime.combine(local.date() + dt.timedelta(days=offset), moment, PARIS)
            for offset in (-1, 0, 1)
            for moment in times
        ]
        start = max(c for c in candidates if c <= local)
        end = min(c for c in candidates if c > local)
    return max(1.0, end.timestamp() - now), start.isoformat(timespec="minutes")


def format_moment(timestamp: float | None, lang: str = "fr") -> tuple[str, str]:
    """``("29/11/2026", "10:42")``: a time as read in France (Paris time)."""
    if timestamp is None:
        return "–", "–"
    moment = dt.datetime.fromtimestamp(timestamp, PARIS)
    day = moment.strftime("%d/%m/%Y") if lang == "fr" else moment.strftime("%Y-%m-%d")
    return day, moment.strftime("%H:%M")


# --------------------------------------------------------------------------- source status
@dataclass(frozen=True)
class SourceStatus:
    """The health of one dataset's source, as the admin page shows it."""

    dataset: str
    last_success: float | None = None
    last_failure: float | None = None
    message: str = ""
    kind: str = ""

    @property
    def failing(self) -> bool:
        """True when the last attempt failed."""
        return self.last_failure is not None and (self.last_success or 0) < self.last_failure


SUCCESS_EVERY = 30.0
"""Seconds during which a process does not record again a success it recorded, unless a failure
was recorded since: the time shown is then at most that much older (a page change asked two
sources and wrote their success each time: ~1 ms of CPU, a read costs a tenth of a write)."""


class StatusStore:
    """Last success / last failure per dataset, in the (shared) cache backend.

    Success and failure are two separate keys, each written whole: workers never need a
    read-modify-write, so concurrent updates cannot lose one another.
    """

    def __init__(self, cache: Any) -> None:
        self.cache = cache
        self._written: dict[str, float] = {}
        """The last success this process recorded, per dataset."""

    def success(self, dataset: str, at: float) -> None:
        """Record a successful query of ``dataset`` (not again within :data:`SUCCESS_EVERY`
        seconds while no failure came after the last one recorded: whether it fails is exact)."""
        written = self._written.get(dataset)
        if written is not None and 0 <= at - written < SUCCESS_EVERY:
            _, fail = self.cache.get(f"status:{dataset}|fail")
            failed_at = fail.get("at") if isinstance(fail, dict) else None
            if not isinstance(failed_at, int | float) or failed_at < written:
                return
        # Per dataset, the same for every user (when its source last answered, its error message):
        # no row value; shown only beside widgets and datasets the viewer may see.
        self.cache.set(f"status:{dataset}|ok", {"at": at}, KEEP)
        self._written[dataset] = at

    def failure(self, dataset: str, at: float, message: str, kind: str) -> None:
        """Record a failure of ``dataset``'s source."""
        self.cache.set(f"status:{dataset}|fail", {"at": at, "message": message, "kind": kind}, KEEP)

    def get(self, dataset: str) -> SourceStatus:
        """The recorded status of ``dataset`` (empty when it was never queried)."""
        _, ok = self.cache.get(f"status:{dataset}|ok")
        _, fail = self.cache.get(f"status:{dataset}|fail")
        ok = ok if isinstance(ok, dict) else {}
        fail = fail if isinstance(fail, dict) else {}
        return SourceStatus(
            dataset=dataset,
            last_success=ok.get("at"),
            last_failure=fail.get("at"),
            message=str(fail.get("message", "")),
            kind=str(fail.get("kind", "")),
        )


# --------------------------------------------------------------------------- observations
@dataclass(frozen=True)
class Observation:
    """One dataset read during a rendering: when its data was refreshed, whether it is stale."""

    dataset: str
    refreshed_at: float | None
    stale: bool = False
    message: str = ""
    fresh_until: float | None = None
    """When the result read stops being fresh (epoch seconds; None: unknown)."""


_OBSERVED: ContextVar[list[Observation] | None] = ContextVar("pilotis_observed", default=None)


@contextlib.contextmanager
def observing() -> Iterator[list[Observation]]:
    """Collect the :class:`Observation` of every query run inside the block."""
    found: list[Observation] = []
    token = _OBSERVED.set(found)
    try:
        yield found
    finally:
        _OBSERVED.reset(token)


def observe(observation: Observation) -> None:
    """Record an observation for the enclosing :func:`observing` block (no-op outside one)."""
    found = _OBSERVED.get()
    if found is not None:
        found.append(observation)
