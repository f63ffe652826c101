"""The memory of a gunicorn worker: its garbage collector and its allocator. The hooks
``post_fork``, ``post_worker_init`` and ``worker_exit`` of ``./gunicorn.conf.py`` and
``deploy/gunicorn.conf.py``.

A worker builds the whole app at start (≈ 200,000 objects that live as long as it does: modules,
the configuration, the Dash layouts) and then answers requests that allocate and free small
Python objects and big pandas, Arrow and DuckDB buffers. Neither the collector nor glibc's
allocator is tuned for that (figures: bench/RESULTS_peers.md, sixth pass):

- while the worker starts, the collector ran ≈ 520 collections, each walking the objects built so
  far, for almost no garbage: ≈ 0.2 s of CPU of a ≈ 1.4 s start. It is off from the fork
  (:func:`post_fork`) until the app is built;
- once the worker is ready, one collection frees the few cycles the start left, then everything
  else moves to the permanent generation (:func:`gc.freeze`): a full collection during a filter
  change no longer walks the start-up objects (270 → 43 ms of collections over 61 changes);
  before the worker's interpreter ends they are handed back (:func:`worker_exit`), so that native
  libraries see their objects freed (DuckDB's bindings report a frozen connection as leaked);
- glibc serves a block above its *mmap threshold* with its own mapping, given back to the system
  when freed, and below it from the heap, which keeps freed space. It raises the threshold each
  time such a block is freed (up to 32 MiB): soon every buffer of a filter change came from the
  heap and the worker kept its peak. The threshold is fixed at its initial 128 KiB
  (:func:`post_fork`), and the heap's free pages left by the start are given back once the worker
  is ready (``malloc_trim``): ≈ 20–30 MB less per worker after a few dozen filter changes, the
  same CPU per change. Other C libraries (musl) are left as they are.
"""

from __future__ import annotations

import ctypes
import gc
from functools import cache
from typing import Any

M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameter (malloc.h); setting it also stops the threshold's rise."""
MMAP_THRESHOLD = 128 * 1024
"""glibc's initial threshold, kept: a buffer of 128 KiB or more gets its own mapping."""


@cache
def _libc() -> Any:
    """The C library the process runs on (its symbols), or None."""
    try:
        return ctypes.CDLL(None)
    except OSError:
        return None


def _glibc(name: str) -> Any:
    """glibc's function ``name``, or None on another C library (musl has no ``malloc_trim``)."""
    libc = _libc()
    if libc is None or getattr(libc, "gnu_get_libc_version", None) is None:
        return None
    return getattr(libc, name, None)


def post_fork(_server: Any, _worker: Any) -> None:
    """In the new worker, before it imports and builds the app: no collection during the start,
    big buffers in mappings of their own for the worker's whole life."""
    gc.disable()
    mallopt = _glibc("mallopt")
    if mallopt is not None:
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def post_worker_init(worker: Any) -> None:
    """The app is built: free the start's garbage, freeze the rest, collect again as usual, give
    the heap's free pages back.

    « Booting worker » is printed when a worker is forked, seconds before it can answer (imports,
    configuration, migrations check); the « Worker ready » line says when it really can. The test
    helper (``tests/browser/conftest.py``: ``serve``) waits for one per worker before a test
    starts, so a test never runs while the other worker is still starting on the same CPU and
    database.
    """
    gc.collect()
    gc.freeze()
    gc.enable()
    trim = _glibc("malloc_trim")
    if trim is not None:
        trim(0)
    worker.log.info("Worker ready (pid: %s)", worker.pid)


def worker_exit(_server: Any, _worker: Any) -> None:
    """Hand the objects frozen at start back to the collector before the interpreter ends."""
    gc.unfreeze()
