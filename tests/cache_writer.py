"""The other process of tests/test_cache_backends.py::test_file_cache: it writes one cache entry.

Kept apart, with no import but :mod:`pilotis.cache`, because a ``spawn`` child imports the module
its target lives in: from the test module that was pandas, Dash and the whole engine (1,575
modules, ~2 s on a quiet machine, ~9 s on a busy one); from here, under 100 modules.
"""

from __future__ import annotations

from pathlib import Path

from pilotis.core.cache import FileCache


def write(directory: str, key: str, value: float) -> None:
    """Store ``{"v": value}`` under ``key`` for 60 s in the file cache at ``directory``."""
    FileCache(Path(directory)).set(key, {"v": value}, 60)
