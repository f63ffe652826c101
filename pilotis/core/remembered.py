"""Work done once per version of a file and remembered in the instance folder, by one worker at a
time: the workers of an installation start together and share that folder.

Used for the checks at start that read a whole file only to validate it (the map outlines of
``config/portal.yaml``) and, by the file sources, for their columns
(``data_sources/file_helpers.py``). A version is the file's path, modification time and size.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def between_workers(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (``flock`` on ``path``; two threads opening it block
    each other too). A folder that cannot be written (read-only instance): no lock."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a")
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def checked_once(folder: Path | None, check: str, path: Path, problem: Callable[[], str | None]) -> str | None:
    """``problem()`` (None when ``path`` passes ``check``, else what is wrong) for this version of
    the file; a pass is remembered under ``folder`` and not worked out again, a failure always is.

    ``check`` names the check and its version (change it when the check changes): it is part of
    the key with the file's resolved path, modification time and size. The first worker checks
    under a lock; the others wait, then find the pass.
    """
    if folder is None:
        return problem()
    try:
        stat = path.stat()
    except OSError:
        return problem()
    key = f"{check} {path.resolve()} {stat.st_mtime_ns} {stat.st_size}"
    marker = folder / "checked" / f"{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}"
    if _passed(marker, key):
        return None
    with between_workers(folder / "checked" / f"{check}.lock"):
        if _passed(marker, key):
            return None
        found = problem()
        if found is None:
            with contextlib.suppress(OSError):  # read-only folder: checked again at each start
                tmp = marker.with_name(f".{marker.name}.{os.getpid()}.tmp")
                tmp.write_text(key, encoding="utf-8")
                os.replace(tmp, marker)
    return found


def _passed(marker: Path, key: str) -> bool:
    try:
        return marker.read_text(encoding="utf-8") == key
    except OSError:
        return False
