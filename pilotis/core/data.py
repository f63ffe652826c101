"""The data service: runs queries on registered sources, through the cache, and keeps them up.

Every result is stored twice: a *fresh* entry (expires per the dataset's ``ttl`` or ``refresh``
policy; key = query + source fingerprint + refresh epoch + refresh generation) and a *last good*
entry (key = query only, kept for months). When a source fails, the last good result is served,
marked stale (``attrs["stale_since"]``), and the failure is recorded for the sources page;
without any good result the :class:`SourceError` goes up to the widget (a French notice).

A query under statistical secrecy is answered by picking its rows from a masked *grid*
(:meth:`DataService._masked`): the grid is what is stored, fresh and last good, and the rows
picked are kept by the process only (a pick costs less than writing it to the shared cache).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pilotis.core import metrics, secrecy
from pilotis.core.cache import TTLCache, frame_bytes
from pilotis.core.freshness import KEEP, Observation, SourceStatus, StatusStore, observe, window
from pilotis.core.measures import Agg
from pilotis.core.query import Filter, Query
from pilotis.core.sources import DataSource, SourceError

log = logging.getLogger(__name__)

GENERATION_CHECK = 2.0
"""Seconds a process trusts its copy of a dataset's refresh generation (manual refresh delay)."""

MAX_BACKOFF = 2 * 86400.0
"""Longest wait before asking a failed source again, whatever time it gave (a daily quota resets
within a day; a manual refresh clears the wait at once)."""

GRID_BYTES = 64 * 1024 * 1024
"""Memory a process gives to masked grids (:meth:`DataService._masked`), least recently used first."""

PICK_BYTES = 16 * 1024 * 1024
"""Memory a process gives to the rows it picked from masked grids (results of masked queries)."""


def _frame_bytes(entry: tuple[float, secrecy.Grid]) -> int:
    """Bytes held by a cached ``(valid until, grid)`` (object columns counted shallowly; its
    positions index is about as big as one column)."""
    frame = entry[1].frame
    return int(frame.memory_usage(index=True, deep=False).sum() * (1 + 1 / max(1, len(frame.columns))))


_BUCKET: ContextVar[int | None] = ContextVar("pilotis_time_bucket", default=None)


@contextlib.contextmanager
def time_bucket(seconds: int | None) -> Iterator[None]:
    """Inside the block, results of datasets cached by ``ttl`` live until the end of the current
    period of ``seconds`` aligned on the epoch (floor(now / seconds)), and that period is part of
    the cache key: every screen and every worker showing a séance refreshed every ``seconds``
    share one query per period and per distinct query (the live séance view uses it). Datasets
    with a ``refresh`` policy keep their own schedule.
    """
    token = _BUCKET.set(seconds if seconds and seconds > 0 else None)
    try:
        yield
    finally:
        _BUCKET.reset(token)


@dataclass
class DataService:
    """Executes :class:`Query` objects against the sources, caching results per source policy."""

    sources: dict[str, DataSource]
    cache: Any = field(default_factory=TTLCache)
    """A backend of :mod:`pilotis.core.cache` (TTLCache, FileCache, RedisCache)."""
    clock: Callable[[], float] = time.time
    _generations: dict[str, tuple[str, float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _bounds: TTLCache = field(default_factory=lambda: TTLCache(max_entries=256), repr=False)
    _grids: TTLCache = field(
        default_factory=lambda: TTLCache(max_entries=64, max_bytes=GRID_BYTES, weigh=_frame_bytes), repr=False
    )
    """Masked grids of this process (:meth:`_masked`), ``(key, mask key) -> (valid until, grid)``;
    last good grids read while their source fails (:meth:`_last_good`), ``good key -> (…, grid)``."""
    _picks: TTLCache = field(init=False, repr=False)
    """Masked results of this process (:meth:`query`), ``fresh key -> rows picked from a grid``
    (on the service's clock: they expire with the grid they come from)."""

    def __post_init__(self) -> None:
        self.status = StatusStore(self.cache)
        self._picks = TTLCache(max_entries=1024, clock=self.clock, max_bytes=PICK_BYTES, weigh=frame_bytes)

    # ------------------------------------------------------------------ queries
    def query(self, query: Query) -> pd.DataFrame:
        """The result of ``query``; raises :class:`SourceError` with a French message.

        When the source fails but answered this query before, the last good result is returned
        with ``attrs["stale_since"]`` (time of that result) and ``attrs["error"]``.
        """
        source = self.sources.get(query.dataset)
        if source is None:
            raise SourceError(f"jeu de données inconnu : {query.dataset}")
        dataset = query.dataset
        now = self.clock()
        fresh_key, digest, lifetime = self._key(source, query, now)
        rule = None if query.unmasked else secrecy.rule_of(source.config)
        # A masked result is rows picked from a grid that the shared cache holds (`_masked`): it is
        # kept by this process only, under the same key (the fresh key: see `_key`; the rule is the
        # process's configuration), never written to the shared cache (two writes cost more than
        # picking it again in another worker). Looked up before planning: a repeat costs a look-up.
        value: Any
        found, value = self._picks.get(fresh_key) if rule is not None else (False, None)
        secret = None
        if not found:
            secret = secrecy.plan(query, source.config, rule) if rule is not None else None
            if secret is None:
                found, value = self.cache.get(fresh_key)
        if found:
            metrics.CACHE_REQUESTS.labels("hit").inc()
            observe(Observation(dataset, value.attrs.get("refreshed_at"), fresh_until=value.attrs.get("fresh_until")))
            return value.copy(deep=False)  # copy-on-write: a caller's changes stay its own
        metrics.CACHE_REQUESTS.labels("miss").inc()
        try:
            if secret is not None and rule is not None:  # masked before it is cached or returned
                result = self._masked(source, secret, rule, now)
            else:
                result = self._run(source, query, now)
        except SourceError as exc:
            good = self._last_good(source, query, digest, secret, rule, now)
            if good is None:
                observe(Observation(dataset, None, stale=True, message=str(exc)))
                raise
            good.attrs["stale_since"] = good.attrs.get("refreshed_at")
            good.attrs["error"] = str(exc)
            observe(Observation(dataset, good.attrs.get("refreshed_at"), stale=True, message=str(exc)))
            return good
        result.attrs.setdefault("refreshed_at", now)
        valid_until = result.attrs.pop("valid_until", None)
        if isinstance(valid_until, int | float):
            lifetime = min(lifetime, max(1.0, valid_until - now))
        result.attrs["fresh_until"] = now + lifetime  # what is drawn from it is kept no longer
        if secret is not None:
            self._picks.set(fresh_key, result, lifetime)
        else:
            self.cache.set_many([(fresh_key, result, lifetime), (f"good:{dataset}|{digest}", result, KEEP)])
        observe(Observation(dataset, result.attrs["refreshed_at"], fresh_until=result.attrs["fresh_until"]))
        return result.copy(deep=False)

    def _last_good(
        self, source: DataSource, query: Query, digest: str, plan: secrecy.Plan | None, rule: Any, now: float
    ) -> pd.DataFrame | None:
        """The last good answer to ``query`` (a new frame), None when there is none: a masked
        query's rows picked from the last good copy of its grid; else the last result stored
        under the query's digest (a masked query's too, as versions before the grid copy stored it).

        The last good grid read is kept by the process until the source is asked again (``retry``):
        the other territories of a page cost a pick, not another read of the whole grid."""
        if plan is not None and rule is not None:
            good_key = self._grid_keys(source, plan, rule, now)[2]
            found, entry = self._grids.get(good_key)
            if not found:
                found, frame = self.cache.get(good_key)
                entry = (now + source.config.retry, secrecy.Grid(frame)) if isinstance(frame, pd.DataFrame) else None
                if entry is not None:
                    self._grids.set(good_key, entry, source.config.retry)
            if entry is not None:
                return secrecy.pick(entry[1], plan, rule)
        found, good = self.cache.get(f"good:{query.dataset}|{digest}")
        return good.copy(deep=False) if found else None  # the cached object stays as it was

    def _masked(self, source: DataSource, plan: secrecy.Plan, rule: Any, now: float) -> pd.DataFrame:
        """``plan.query``'s rows picked from the masked grid of ``plan.asked`` (the query without its
        commune or EPCI filter: every territory of one grid shares it), the grid asked and masked
        once while it is fresh. A commune after another of the same year then costs a pick instead
        of a DuckDB query and a masking (RSA page, in-process: 162–188 -> 97–105 ms of CPU per
        uncached change). Each process keeps the grids it serves; a grid built by one worker is
        also put in the shared cache (file, Redis), where the other workers find it: the first
        change of a year in a worker then costs a read instead of the queries and the masking.

        The result's ``valid_until`` is the grid's: what is drawn from it expires with it."""
        key, shared_key, good_key, lifetime = self._grid_keys(source, plan, rule, now)
        found, entry = self._grids.get(key)
        if not found or entry[0] <= now:
            entry = self._shared_grid(source, plan, rule, now, lifetime, shared_key, good_key)
            self._grids.set(key, entry, entry[0] - now)
        result = secrecy.pick(entry[1], plan, rule)
        result.attrs["valid_until"] = entry[0]
        return result

    def _grid_keys(
        self, source: DataSource, plan: secrecy.Plan, rule: Any, now: float
    ) -> tuple[tuple[str, str], str, str, float]:
        """``(key in this process, shared key, last good key, seconds a new grid stays fresh)`` of
        the masked grid of ``plan``."""
        # Safe to share between viewers: the key is the fresh key of `plan.asked` (its whole repr:
        # the viewer's row filters, `unmasked`, the source fingerprint, refresh epoch and generation,
        # as for `query`) plus everything the masking reads besides the answer (`mask_key`: rule,
        # protected measures, parents). The rows a viewer gets are then picked by *their* query.
        # The shared entry is under the same two parts (``q:<dataset>|…``: a manual refresh drops it);
        # the last good copy under the digest of `plan.asked` (its repr, as above, without the
        # source's version: what `query` serves, picked, while the source fails) and the same mask key.
        asked_key, asked_digest, lifetime = self._key(source, plan.asked, now)
        mask_key = secrecy.mask_key(plan, rule)
        mask_digest = digest_of(mask_key)
        good_key = f"good:{plan.asked.dataset}|{asked_digest}|grid:{mask_digest}"
        return (asked_key, mask_key), f"{asked_key}|grid:{mask_digest}", good_key, lifetime

    def _shared_grid(
        self,
        source: DataSource,
        plan: secrecy.Plan,
        rule: Any,
        now: float,
        lifetime: float,
        shared_key: str,
        good_key: str,
    ) -> tuple[float, secrecy.Grid]:
        """``(valid until, grid)``: from the shared cache when another worker built it, else asked,
        masked and put there for ``lifetime`` (or until the source's ``valid_until``), with its last
        good copy (:meth:`_last_good`)."""
        shared = not isinstance(self.cache, TTLCache)  # an in-process cache: `_grids` is enough
        if shared:
            found, frame, left = self.cache.get_with_ttl(shared_key)
            if found and isinstance(frame, pd.DataFrame):
                return now + left, secrecy.Grid(frame)
        grid = secrecy.Grid(secrecy.mask(self._run(source, plan.asked, now), plan, rule))
        grid.frame.attrs.setdefault("refreshed_at", now)
        valid_until = grid.frame.attrs.pop("valid_until", None)
        if isinstance(valid_until, int | float):
            lifetime = min(lifetime, max(1.0, valid_until - now))
        entries = [(shared_key, grid.frame, lifetime)] if shared else []
        self.cache.set_many([*entries, (good_key, grid.frame, KEEP)])  # one encoding for both
        return now + lifetime, grid

    def _key(self, source: DataSource, query: Query, now: float) -> tuple[str, str, float]:
        """``(fresh key, digest of the query, seconds a new result stays fresh)``."""
        lifetime, epoch = window(source.config, now)
        bucket = _BUCKET.get()
        if bucket and getattr(source.config, "refresh", None) is None:
            start = math.floor(now / bucket) * bucket  # séance: one query per aligned period
            lifetime, epoch = max(1.0, start + bucket - now), f"b{bucket}@{start:.0f}"
        # Shared by every user, worker and machine. Safe: the key is the whole query (repr), and every
        # query built for a user carries access.row_filters for that user (Scope.dataset_filters, the
        # one filter builder of widgets and indicators), so a result depends on nothing but its key;
        # whether the user may ask it at all (dashboard, widget) is decided before, in access.py.
        # Statistical secrecy too: `query.unmasked` (set by Scope for an exempt role only) is in the
        # repr, so a masked result and an exact one never share an entry; a masked result is picked
        # from a grid masked before it is cached (`_masked`, keyed by the repr of the asked query).
        # The "good:" copy of the last result uses the same digest; "fail:" and "gen:" keys hold no
        # data, per dataset.
        digest = hashlib.sha256(repr(query).encode()).hexdigest()
        generation = self.generation(query.dataset)
        return f"q:{query.dataset}|{digest}|{source.fingerprint()}|{epoch}|{generation}", digest, lifetime

    def version(self, dataset: str) -> str:
        """What every cached result of ``dataset`` depends on besides its query: the source's
        fingerprint, its refresh window's epoch and its manual-refresh generation (the fresh key of
        :meth:`query` without the query). Something drawn from the dataset's results stays valid
        while it is unchanged and until their ``fresh_until`` (``pilotis.ui.render_cache``)."""
        source = self.sources[dataset]
        _, epoch = window(source.config, self.clock())
        return f"{source.fingerprint()}|{epoch}|{self.generation(dataset)}"

    def _run(self, source: DataSource, query: Query, now: float) -> pd.DataFrame:
        """Ask the source, unless it failed less than ``retry`` seconds ago (shared back-off)."""
        dataset = query.dataset
        found, failure = self.cache.get(f"fail:{dataset}|backoff")
        if found and isinstance(failure, dict):
            raise SourceError(str(failure.get("message", "")), str(failure.get("kind", "error")))
        try:
            result = source.run(query)
        except SourceError as exc:
            self._failed(dataset, exc, now, source.config.retry)
            raise
        except Exception as exc:  # noqa: BLE001 - an unexpected bug of a source is a failure too
            log.exception("source %s : erreur inattendue", dataset)
            error = SourceError(f"erreur inattendue de la source ({exc.__class__.__name__})")
            self._failed(dataset, error, now, source.config.retry)
            raise error from exc
        self.status.success(dataset, now)
        metrics.SOURCE_REFRESHES.labels(dataset).inc()
        return result

    def _failed(self, dataset: str, exc: SourceError, now: float, retry: float) -> None:
        """Record the failure; no new attempt for ``retry`` seconds, or until the time the source
        gave (``exc.retry_at``: an exhausted API quota resets then), whichever is later."""
        log.warning("source %s en échec (%s) : %s", dataset, exc.label, exc)
        self.status.failure(dataset, now, str(exc), exc.kind)
        metrics.SOURCE_FAILURES.labels(dataset, exc.kind).inc()
        if exc.retry_at is not None:
            retry = max(retry, min(exc.retry_at - now, MAX_BACKOFF))
        self.cache.set(f"fail:{dataset}|backoff", {"message": str(exc), "kind": exc.kind}, retry)

    # ------------------------------------------------------------------ refresh
    def generation(self, dataset: str) -> str:
        """The dataset's refresh generation (changed by :meth:`refresh`, read every 2 s)."""
        now = time.monotonic()
        with self._lock:
            known = self._generations.get(dataset)
        if known and now - known[1] < GENERATION_CHECK:
            return known[0]
        found, value = self.cache.get(f"gen:{dataset}|current")
        token = str(value) if found else "0"
        if known and known[0] != token and dataset in self.sources:
            self.sources[dataset].invalidate()  # another worker asked for a refresh
        with self._lock:
            self._generations[dataset] = (token, now)
        return token

    def refresh(self, dataset: str) -> None:
        """Manual refresh: every worker of every machine reads ``dataset`` again on next use."""
        token = uuid.uuid4().hex[:12]
        self.cache.set(f"gen:{dataset}|current", token, KEEP)
        self.cache.clear_namespace(f"q:{dataset}")
        self.cache.delete(f"fail:{dataset}|backoff")
        with self._lock:
            self._generations[dataset] = (token, time.monotonic())
        if dataset in self.sources:
            self.sources[dataset].invalidate()
        log.info("jeu de données %s : rafraîchissement demandé", dataset)

    def last_status(self, dataset: str) -> SourceStatus:
        """Last success, last failure and its message for ``dataset`` (shared by all workers)."""
        return self.status.get(dataset)

    def period_bounds(self, dataset: str) -> tuple[dt.date, dt.date] | None:
        """First and last period of a dataset (one cheap MIN/MAX query, cached).

        Every page and callback asks it (the year filter): the answer is also kept in memory
        :data:`GENERATION_CHECK` seconds per cache key, unless it comes from a failing source.
        """
        source = self.sources[dataset]
        period = source.config.period
        if period is None:
            return None
        query = Query(
            dataset=dataset,
            measures=(("debut", Agg("min", period.column)), ("fin", Agg("max", period.column))),
        )
        # Per process, keyed like the query: first and last period of the whole dataset (no row
        # filter), the same for every user (the years the period filter offers), no row value.
        key = self._key(source, query, self.clock())[0]
        found, bounds = self._bounds.get(key)
        if found:
            return bounds
        frame = self.query(query)
        bounds = None
        if not frame.empty and not pd.isna(first := frame["debut"].iloc[0]):
            bounds = as_date(first), as_date(frame["fin"].iloc[0])
        if "stale_since" not in frame.attrs:
            self._bounds.set(key, bounds, GENERATION_CHECK)
        return bounds

    def years(self, dataset: str) -> list[int]:
        """The years covered by a dataset, most recent first."""
        bounds = self.period_bounds(dataset)
        if not bounds:
            return []
        return list(range(bounds[1].year, bounds[0].year - 1, -1))


def digest_of(text: str) -> str:
    """A short stable digest of ``text`` (a part of a cache key)."""
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def as_date(value: object) -> dt.date:
    """A period value of a query result (date, datetime, Timestamp, ISO text) as a ``date``."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


def year_filters(column: str, year: int) -> tuple[Filter, Filter]:
    """Conditions selecting one calendar year on a date column."""
    return (Filter(column, ">=", dt.date(year, 1, 1)), Filter(column, "<", dt.date(year + 1, 1, 1)))
