"""Rendered widgets kept in each worker's memory and in the app's shared cache (file or Redis,
``render|`` keys): a filter change asked again (the same user going back and forth, the next
colleague with the same rights, on any worker) is answered without querying, drawing or
serialising the widget again.

An entry is the widget's content as plain JSON values (what the browser receives: no component
tree to walk again) with the version of every dataset its rendering read
(:meth:`pilotis.core.data.DataService.version`, collected from the freshness observations). It is
served only while none of these versions changed (file replaced, refresh window passed, manual
refresh) and until the first of its query results would have expired: never longer than the data
it was drawn from. A rendering that read nothing, or stale data (a failing source), is not kept:
the next request tries the source again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import plotly.io as pio
from plotly.io.json import to_json_plotly

from pilotis.core.data import DataService
from pilotis.core.freshness import Observation

log = logging.getLogger(__name__)

CODE_ROOT = Path(__file__).resolve().parents[2]
"""The checkout holding ``pilotis/`` and ``layouts/``."""
MAX_ENTRIES = 2000
"""Entries per worker (a rendered widget is a few kB to ~60 kB for a map: at most ~50 MB)."""
MAX_AGE = 900.0
"""Seconds an entry lives at most, whatever its data's lifetime."""

# plotly's JSON engine, also Dash's (``dash._utils.to_json``) for every callback answer: the
# standard library's encoder. With orjson installed, plotly's "auto" engine first walks every
# value in Python to make it orjson-compatible: 12.6 ms to serialise the widgets of the RSA
# page against 4.2 ms with "json", for the same JSON.
pio.json.config.default_engine = "json"


@dataclass
class _Entry:
    content: Any
    versions: tuple[tuple[str, str], ...]
    expires: float


@dataclass
class RenderCache:
    """An LRU of rendered widgets, validated against the versions of the datasets they read."""

    data: DataService
    code: str = ""
    """:func:`code_version` of the code drawing the widgets (part of every key)."""
    max_entries: int = MAX_ENTRIES
    clock: Callable[[], float] = time.time
    _entries: OrderedDict[Hashable, _Entry] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, key: Hashable) -> tuple[bool, Any]:
        """``(True, content)`` when a valid entry exists for ``key`` (this worker's, else the
        shared cache's)."""
        key = (self.code, key)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        if entry is None:
            entry = self._shared(key)
            if entry is None:
                return False, None
            self._keep(key, entry)
        if entry.expires <= self.clock() or any(
            self.data.version(dataset) != version for dataset, version in entry.versions
        ):
            with self._lock:
                self._entries.pop(key, None)
            return False, None
        return True, entry.content

    def put(self, key: Hashable, content: Any, seen: list[Observation]) -> Any:
        """Keep ``content`` (rendered after reading ``seen``) when it may be; returns it as plain
        JSON values (the same for the browser)."""
        key = (self.code, key)
        text = to_json_plotly(content)
        plain = json.loads(text)
        if not seen or any(o.stale or o.refreshed_at is None for o in seen):
            return plain
        now = self.clock()
        until = [o.fresh_until for o in seen]
        if None in until or any(o.dataset not in self.data.sources for o in seen):
            return plain
        expires = min(now + MAX_AGE, *(u for u in until if u is not None))
        versions = tuple((d, self.data.version(d)) for d in dict.fromkeys(o.dataset for o in seen))
        if expires <= now:
            return plain
        entry = _Entry(plain, versions, expires)
        self._keep(key, entry)
        try:
            # The content as the JSON text just written (a string is stored as it is), not as
            # values the shared cache would encode again (≈ 1 ms of CPU less per /rsa change).
            stored = {"json": text, "versions": [list(v) for v in versions], "expires": expires}
            self.data.cache.set(shared_key(key), stored, expires - now)
        except Exception:  # noqa: BLE001 - the shared cache is best effort: the worker keeps its copy
            log.warning("rendu de widget non partagé", exc_info=True)
        return plain

    def _keep(self, key: Hashable, entry: _Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def _shared(self, key: Hashable) -> _Entry | None:
        try:
            found, stored = self.data.cache.get(shared_key(key))
        except Exception:  # noqa: BLE001 - an unreadable shared entry is a miss
            return None
        if not found or not isinstance(stored, dict) or not isinstance(stored.get("json"), str):
            return None
        try:
            content = json.loads(stored["json"])
        except ValueError:  # an unreadable shared entry is a miss
            return None
        versions = tuple((str(d), str(v)) for d, v in stored.get("versions", ()))
        return _Entry(content, versions, float(stored.get("expires", 0)))

    def clear(self) -> None:
        """Forget every entry of this worker and of the shared cache (tests, benchmarks)."""
        with self._lock:
            self._entries.clear()
        self.data.cache.clear_namespace("render")


def code_version(root: Path = CODE_ROOT) -> str:
    """A digest of the code that draws widgets (every ``.py`` under ``pilotis/`` and ``layouts/``:
    name, size, modification time), read once at start-up: after an upgrade, the renderings of
    the previous code are never served (they outlive a restart in the file cache or Redis).
    Dashboards' own functions draw custom widgets, which are never kept."""
    parts = []
    for folder in ("pilotis", "layouts"):
        for path in sorted((root / folder).rglob("*.py")):
            with contextlib.suppress(OSError):
                stat = path.stat()
                parts.append(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def shared_key(key: Hashable) -> str:
    """The shared cache's key of a render key (``pilotis.ui.portal.render_key``, which says why
    it holds everything that decides what the viewer sees: shared between users, workers and
    machines, it must). A digest of its ``repr`` (its parts are strings, numbers, tuples)."""
    return "render|" + hashlib.sha256(repr(key).encode()).hexdigest()
