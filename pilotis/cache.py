"""A bounded, thread-safe in-process cache with per-entry expiry.

Results are keyed by everything that changes them (query, filters, row rules, the source's
fingerprint), so an entry can never be served to a query that would give another answer.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class TTLCache:
    """LRU cache whose entries expire ``ttl`` seconds after they were stored."""

    def __init__(self, max_entries: int = 2048, clock: Callable[[], float] = time.monotonic):
        self._data: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries
        self._clock = clock
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> tuple[bool, Any]:
        """``(True, value)`` for a live entry, ``(False, None)`` otherwise."""
        with self._lock:
            entry = self._data.get(key)
            if entry is None or entry[0] < self._clock():
                if entry is not None:
                    del self._data[key]
                self.misses += 1
                return False, None
            self._data.move_to_end(key)
            self.hits += 1
            return True, entry[1]

    def set(self, key: Hashable, value: Any, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds (0 = not stored)."""
        if ttl <= 0:
            return
        with self._lock:
            self._data[key] = (self._clock() + ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self._max:
                self._data.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._data.clear()
