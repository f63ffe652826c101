"""The shared cache backends: :class:`FileCache` (on disk, the workers of one machine; the
default) and :class:`RedisCache` (several machines). Values go through :mod:`pilotis.core.cache_codec`;
a failure (disk full, Redis down) is logged and behaves as a miss."""

from __future__ import annotations

import itertools
import logging
import math
import os
import re
import struct
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pilotis.core.cache_codec import decode, digest, encoded_entries, namespace_of

log = logging.getLogger(__name__)


_TMP_IDS = itertools.count()
"""Numbers of this process's temporary cache files (with its pid: unique names, no uuid drawn)."""


# --------------------------------------------------------------------------- file cache
class FileCache:
    """Entries as files in a folder, shared by every worker process of the machine.

    One file per entry (``<namespace>/<sha256 of key>``) holding its expiry time and the encoded
    value; writes go to a temporary file renamed over the entry (atomic on POSIX), so a reader
    sees the old or the new value, never half of one. The folder is kept under ``max_bytes``:
    expired entries then the least recently written are removed. The check reads every entry's
    header, so it runs only when needed: when the folder may have passed ``max_bytes`` (its size
    at the last check plus what this worker wrote since; pruned down to 80 %) or every
    ``PRUNE_EVERY_S`` for the expired entries (it ran every 100 writes: a third of the CPU of an
    uncached filter change went to re-reading the folder).
    """

    PRUNE_EVERY_S = 60.0

    def __init__(
        self, directory: Path, max_bytes: int = 512 * 1024 * 1024, clock: Callable[[], float] = time.time
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._max = max_bytes
        self._clock = clock
        self._writes = 0
        self._size = 0  # the folder's size at the last prune, plus this worker's writes since
        self._pruned_at = time.monotonic()
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        folder = re.sub(r"[^A-Za-z0-9_.-]", "_", namespace_of(key))[:80] or "_"
        return self.directory / folder / digest(key)

    def get(self, key: str) -> tuple[bool, Any]:
        found, value, _ = self.get_with_ttl(key)
        return found, value

    def get_with_ttl(self, key: str) -> tuple[bool, Any, float]:
        """``(True, value, seconds left)`` for a live entry, ``(False, None, 0.0)`` otherwise."""
        path = self._path(key)
        try:
            data = path.read_bytes()
            (expires,) = struct.unpack(">d", data[:8])
            left = expires - self._clock()
            if left < 0:
                self.misses += 1
                return False, None, 0.0
            value = decode(data[8:])
        except FileNotFoundError:
            self.misses += 1
            return False, None, 0.0
        except (OSError, ValueError, struct.error) as exc:
            log.warning("cache fichier : entrée %s illisible (%s)", path.name, exc)
            self.misses += 1
            return False, None, 0.0
        self.hits += 1
        return True, value, left

    def set(self, key: str, value: Any, ttl: float) -> None:
        self.set_many([(key, value, ttl)])

    def set_many(self, entries: Sequence[tuple[str, Any, float]]) -> None:
        """Store several ``(key, value, ttl)``; a value given for several keys is encoded once."""
        for key, body, ttl in encoded_entries(entries, "cache fichier"):
            self._write(key, struct.pack(">d", self._clock() + ttl) + body)

    def _write(self, key: str, data: bytes) -> None:
        # The temporary name: unique per process (pid) and per write (a counter: no uuid to draw);
        # the folder is made when a write finds it missing, not checked before every write (a
        # third of the write's CPU, with pathlib's write_bytes).
        path = self._path(key)
        tmp = f"{path.parent}/.{path.name}.{os.getpid()}.{next(_TMP_IDS)}.tmp"
        try:
            try:
                handle = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileNotFoundError:
                path.parent.mkdir(parents=True, exist_ok=True)
                handle = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(handle, view) :]
            finally:
                os.close(handle)
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("cache fichier : écriture impossible (%s)", exc)
            Path(tmp).unlink(missing_ok=True)
            return
        self._writes += 1
        self._size += len(data)
        if self._size > self._max or time.monotonic() - self._pruned_at >= self.PRUNE_EVERY_S:
            self.prune()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def clear_namespace(self, namespace: str) -> None:
        folder = self._path(f"{namespace}|").parent
        for path in folder.glob("*"):
            path.unlink(missing_ok=True)

    def clear(self) -> None:
        for path in self.directory.glob("*/*"):
            path.unlink(missing_ok=True)

    def prune(self) -> None:
        """Remove expired entries, then the oldest ones while the folder exceeds ``max_bytes``."""
        now = self._clock()
        entries: list[tuple[float, int, Path]] = []
        for path in self.directory.glob("*/*"):
            try:
                stat = path.stat()
                if path.name.startswith("."):
                    if stat.st_mtime < now - 3600:  # a temporary file left by a killed worker
                        path.unlink(missing_ok=True)
                    continue
                with path.open("rb") as handle:
                    (expires,) = struct.unpack(">d", handle.read(8))
            except (OSError, struct.error):
                continue
            if expires < now:
                path.unlink(missing_ok=True)
            else:
                entries.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self._max * 0.8:
                break
            path.unlink(missing_ok=True)
            total -= size
        self._size, self._pruned_at = total, time.monotonic()


# --------------------------------------------------------------------------- Redis cache
class RedisCache:
    """Entries in Redis (``SET key value PX ttl``), shared by every machine using that Redis.

    Keys are ``<prefix><key>``; clearing a namespace scans ``<prefix><namespace>|*``.
    """

    def __init__(self, url: str, prefix: str = "pilotis:", timeout: float = 2.0) -> None:
        import redis

        self.prefix = prefix
        self._client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._errors = redis.RedisError
        self._warned = 0.0
        self.hits = 0
        self.misses = 0

    def _failed(self, exc: Exception) -> None:
        if time.monotonic() - self._warned > 60:  # one warning a minute, not one per query
            log.warning("cache Redis indisponible (%s) : requêtes envoyées aux sources", exc)
            self._warned = time.monotonic()

    def get(self, key: str) -> tuple[bool, Any]:
        found, value, _ = self.get_with_ttl(key)
        return found, value

    def get_with_ttl(self, key: str) -> tuple[bool, Any, float]:
        """``(True, value, seconds left)`` for a live entry, ``(False, None, 0.0)`` otherwise
        (GET and PTTL in one round trip)."""
        try:
            pipe = self._client.pipeline(transaction=False)
            pipe.get(self.prefix + key)
            pipe.pttl(self.prefix + key)
            data, pttl = pipe.execute()
        except self._errors as exc:
            self._failed(exc)
            data, pttl = None, -2
        if data is None:
            self.misses += 1
            return False, None, 0.0
        try:
            value = decode(data if isinstance(data, bytes) else str(data).encode())
        except ValueError:
            self.misses += 1
            return False, None, 0.0
        self.hits += 1
        return True, value, max(0.0, pttl / 1000) if isinstance(pttl, int) and pttl >= 0 else 0.0

    def set(self, key: str, value: Any, ttl: float) -> None:
        self.set_many([(key, value, ttl)])

    def set_many(self, entries: Sequence[tuple[str, Any, float]]) -> None:
        """Store several ``(key, value, ttl)`` in one round trip; each value encoded once."""
        encoded = encoded_entries(entries, "cache Redis")
        if not encoded:
            return
        try:
            pipe = self._client.pipeline(transaction=False)
            for key, body, ttl in encoded:
                pipe.set(self.prefix + key, body, px=max(1, math.ceil(ttl * 1000)))
            pipe.execute()
        except self._errors as exc:
            self._failed(exc)

    def delete(self, key: str) -> None:
        try:
            self._client.delete(self.prefix + key)
        except self._errors as exc:
            self._failed(exc)

    def _drop(self, pattern: str) -> None:
        try:
            batch: list[bytes] = []
            for name in self._client.scan_iter(match=pattern, count=500):
                batch.append(name)
                if len(batch) >= 500:
                    self._client.unlink(*batch)
                    batch = []
            if batch:
                self._client.unlink(*batch)
        except self._errors as exc:
            self._failed(exc)

    def clear_namespace(self, namespace: str) -> None:
        self._drop(_glob_escape(f"{self.prefix}{namespace}|") + "*")

    def clear(self) -> None:
        self._drop(_glob_escape(self.prefix) + "*")


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)
