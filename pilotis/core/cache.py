"""Result caches: in-process (:class:`TTLCache`), on disk shared by the workers of one machine
(:class:`FileCache`, the default) and in Redis shared by several machines (:class:`RedisCache`);
the shared ones get a small in-process front in each worker (:class:`TieredCache`).

Results are keyed by everything that changes them (query, filters, row rules, the source's
fingerprint), so an entry can never be served to a query that would give another answer.

Keys are strings ``"<namespace>|<rest>"``; a namespace (``q:<dataset>``…) can be dropped at
once (manual refresh of a dataset). Shared backends store values in a safe format (Arrow IPC
for DataFrames with their ``attrs`` as JSON, JSON for the rest), never pickle: a shared cache
must not be a way to run code in the app. Cache failures (Redis down, disk full) are logged and
behave as misses: the portal then queries the sources directly.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, Protocol

from pilotis.core.cache_backends import FileCache, RedisCache


class Cache(Protocol):
    """What the data service needs from a cache backend."""

    @property
    def hits(self) -> int:
        """Lookups answered from the cache."""

    @property
    def misses(self) -> int:
        """Lookups the cache could not answer."""

    def get(self, key: str) -> tuple[bool, Any]:
        """``(True, value)`` for a live entry, ``(False, None)`` otherwise."""

    def get_with_ttl(self, key: str) -> tuple[bool, Any, float]:
        """``(True, value, seconds left)`` for a live entry, ``(False, None, 0.0)`` otherwise."""

    def set(self, key: str, value: Any, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds (0 = not stored)."""

    def set_many(self, entries: Sequence[tuple[str, Any, float]]) -> None:
        """Store several ``(key, value, ttl)`` at once; a value given for several keys is
        encoded once (a query result and its last-good copy)."""

    def delete(self, key: str) -> None:
        """Forget one entry."""

    def clear_namespace(self, namespace: str) -> None:
        """Forget every entry whose key starts with ``namespace|``."""

    def clear(self) -> None:
        """Forget everything."""


class TTLCache:
    """LRU cache whose entries expire ``ttl`` seconds after they were stored."""

    def __init__(
        self,
        max_entries: int = 2048,
        clock: Callable[[], float] = time.monotonic,
        max_bytes: int | None = None,
        weigh: Callable[[Any], int] | None = None,
    ):
        """``max_bytes`` with ``weigh`` (bytes of a value) bounds the memory held, besides the
        number of entries; the least recently used entries go first."""
        self._data: OrderedDict[Hashable, tuple[float, Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries
        self._max_bytes = max_bytes
        self._weigh = weigh
        self._bytes = 0
        self._clock = clock
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> tuple[bool, Any]:
        """``(True, value)`` for a live entry, ``(False, None)`` otherwise."""
        found, value, _ = self.get_with_ttl(key)
        return found, value

    def get_with_ttl(self, key: Hashable) -> tuple[bool, Any, float]:
        """``(True, value, seconds left)`` for a live entry, ``(False, None, 0.0)`` otherwise."""
        with self._lock:
            entry = self._data.get(key)
            now = self._clock()
            if entry is None or entry[0] < now:
                if entry is not None:
                    self._remove(key)
                self.misses += 1
                return False, None, 0.0
            self._data.move_to_end(key)
            self.hits += 1
            return True, entry[1], entry[0] - now

    def set(self, key: Hashable, value: Any, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds (0 = not stored; nor is a value over ``max_bytes``)."""
        if ttl <= 0:
            return
        weight = self._weigh(value) if self._weigh else 0
        with self._lock:
            self._remove(key)
            if self._max_bytes is not None and weight > self._max_bytes:
                return
            self._data[key] = (self._clock() + ttl, value, weight)
            self._bytes += weight
            while len(self._data) > self._max or (self._max_bytes is not None and self._bytes > self._max_bytes):
                self._remove(next(iter(self._data)))

    def set_many(self, entries: Sequence[tuple[Hashable, Any, float]]) -> None:
        """Store several ``(key, value, ttl)``."""
        for key, value, ttl in entries:
            self.set(key, value, ttl)

    def _remove(self, key: Hashable) -> None:
        entry = self._data.pop(key, None)
        if entry is not None:
            self._bytes -= entry[2]

    def delete(self, key: Hashable) -> None:
        """Forget one entry."""
        with self._lock:
            self._remove(key)

    def clear_namespace(self, namespace: str) -> None:
        """Forget every entry whose (string) key starts with ``namespace|``."""
        prefix = f"{namespace}|"
        with self._lock:
            for key in [k for k in self._data if isinstance(k, str) and k.startswith(prefix)]:
                self._remove(key)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._data.clear()
            self._bytes = 0


# --------------------------------------------------------------------------- two levels
FRONT_BYTES = 32 * 1024 * 1024
"""Memory a worker gives to its in-process copy of shared query results (a KPI result weighs ~1 kB;
kept small so that a worker stays under 300 MB with a 10-million-row source registered)."""


def frame_bytes(value: Any) -> int:
    """Memory held by a DataFrame: its columns' buffers (Arrow strings included), 64 bytes per
    Python object in object columns and per index entry. ~10× cheaper than
    ``memory_usage(deep=True)``, which would cost more than a front hit saves."""
    rows = len(value)
    total = 64 * rows
    for _, column in value.items():
        total += int(getattr(column.array, "nbytes", 0))
        if column.dtype == object:
            total += 64 * rows
    return total


class TieredCache:
    """A worker's in-process cache in front of a shared one (file or Redis).

    The answers a worker gives again and again (a dashboard many agents open, the screens of a
    séance) then cost neither a file read nor a Redis round trip nor an Arrow decode. Only query
    results (DataFrames under ``namespaces``, ``q:`` by default) are kept in front, and only for
    the time the shared entry still has to live: the front never serves what the shared cache
    would not. A manual refresh on another worker changes the key (refresh generation), a
    changed source its fingerprint, so neither needs to reach this worker's memory. Like
    :class:`TTLCache`, it hands out the stored object: :class:`pilotis.core.data.DataService` gives
    its callers copies. ``hits`` counts both levels; ``misses`` counts what neither level had.
    """

    def __init__(self, back: Any, front: TTLCache | None = None, namespaces: tuple[str, ...] = ("q:",)) -> None:
        self.back = back
        self.front = front or TTLCache(max_entries=1024, max_bytes=FRONT_BYTES, weigh=frame_bytes)
        self._namespaces = namespaces

    @property
    def hits(self) -> int:
        """Hits in front plus hits in the shared cache."""
        return int(self.front.hits + self.back.hits)

    @property
    def misses(self) -> int:
        """Lookups that neither level could answer."""
        return int(self.back.misses)

    # The front holds the shared entries under the same keys, for no longer: safe for the reason
    # written at each key (query results: pilotis.core.data.DataService._key).
    def _in_front(self, key: str) -> bool:
        return key.startswith(self._namespaces)

    def get(self, key: str) -> tuple[bool, Any]:
        found, value, _ = self.get_with_ttl(key)
        return found, value

    def get_with_ttl(self, key: str) -> tuple[bool, Any, float]:
        """``(True, value, seconds left)`` from the front, else from the shared cache."""
        if not self._in_front(key):
            return self.back.get_with_ttl(key)
        found, value, left = self.front.get_with_ttl(key)
        if found:
            return True, value, left
        found, value, left = self.back.get_with_ttl(key)
        if found and _is_frame(value):
            self.front.set(key, value, left)
        return found, value, left

    def set(self, key: str, value: Any, ttl: float) -> None:
        self.set_many([(key, value, ttl)])

    def set_many(self, entries: Sequence[tuple[str, Any, float]]) -> None:
        """Store in the shared cache (each value encoded once); query results in front too."""
        self.back.set_many(entries)
        for key, value, ttl in entries:
            if self._in_front(key) and _is_frame(value):
                self.front.set(key, value, ttl)

    def delete(self, key: str) -> None:
        self.front.delete(key)
        self.back.delete(key)

    def clear_namespace(self, namespace: str) -> None:
        self.front.clear_namespace(namespace)
        self.back.clear_namespace(namespace)

    def clear(self) -> None:
        self.front.clear()
        self.back.clear()


def _is_frame(value: Any) -> bool:
    import pandas as pd

    return isinstance(value, pd.DataFrame)


def make_cache(url: str, prefix: str = "pilotis:") -> Cache:
    """The backend named by ``url``: ``file:///chemin``, ``redis://hôte:6379/0`` or ``memory://``.

    Shared backends (file, Redis) get a :class:`TieredCache` front in each worker.
    """
    if url.startswith(("redis://", "rediss://", "unix://")):
        return TieredCache(RedisCache(url, prefix))
    if url.startswith("file://"):
        return TieredCache(FileCache(Path(url.removeprefix("file://"))))
    if url.startswith("memory://"):
        return TTLCache()
    raise ValueError(f"PILOTIS_CACHE_URL `{url}` : utilisez file://, redis:// ou memory://")
