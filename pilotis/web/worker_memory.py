"""The memory of gunicorn's processes: their garbage collector and their allocator. The hooks
of ``./gunicorn.conf.py`` and ``deploy/gunicorn.conf.py``: :func:`master_starts` (when the
configuration is read), ``pre_fork``, ``on_exit``, ``post_fork``, ``post_worker_init``,
``worker_exit``.

The master builds the whole app once (``preload_app``: ≈ 200,000 objects that live as long as the
processes do: modules, the configuration, the Dash layouts) and forks the workers, which share
its memory page by page until one of them writes to a page (copy-on-write). Workers then answer
requests that allocate and free small Python objects and big pandas, Arrow and DuckDB buffers.
Neither the collector nor glibc's allocator is tuned for that (figures: bench/RESULTS_peers.md,
sixth pass):

- while the app is built, the collector ran ≈ 520 collections, each walking the objects built so
  far, for almost no garbage: ≈ 0.2 s of CPU. It is off from the reading of the configuration
  (:func:`master_starts`), and in a worker from its fork (:func:`post_fork`) until it is ready;
- before each fork, the master closes what a worker must not share (DuckDB's database, the
  database pools: :mod:`pilotis.core.forks`), collects once and moves every object to the
  permanent generation (:func:`gc.freeze`, the recipe of its documentation): a worker's
  collections never walk them, hence never write their headers, and their pages stay shared; a
  full collection during a filter change no longer walks the start-up objects (270 → 43 ms of
  collections over 61 changes). Once ready, a worker freezes the little it built itself;
  before a process's interpreter ends they are handed back (:func:`worker_exit`, ``on_exit``), so
  that native libraries see their objects freed (DuckDB's bindings report a frozen connection as
  leaked);
- glibc serves a block above its *mmap threshold* with its own mapping, given back to the system
  when freed, and below it from the heap, which keeps freed space. It raises the threshold each
  time such a block is freed (up to 32 MiB): soon every buffer of a filter change came from the
  heap and the worker kept its peak. The threshold is fixed at its initial 128 KiB (in the
  master, inherited, and again in each worker), and the heap's free pages left by the start are
  given back before a fork and once a worker is ready (``malloc_trim``): ≈ 20–30 MB less per
  worker after a few dozen filter changes, the same CPU per change. Other C libraries (musl) are
  left as they are.
"""

from __future__ import annotations

import ctypes
import gc
from functools import cache
from typing import Any

from pilotis.core import forks

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


def _fix_mmap_threshold() -> None:
    mallopt = _glibc("mallopt")
    if mallopt is not None:
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def _trim() -> None:
    trim = _glibc("malloc_trim")
    if trim is not None:
        trim(0)


def master_starts() -> None:
    """When gunicorn reads its configuration, before the master builds the app (``preload_app``):
    no collection while it builds, big buffers in mappings of their own."""
    gc.disable()
    _fix_mmap_threshold()


def pre_fork(_server: Any, _worker: Any) -> None:
    """In the master, before each fork: close what a worker must not share, free the build's
    garbage, freeze the rest (the workers' collections leave its pages shared), give the heap's
    free pages back; the master itself collects again as usual."""
    forks.release_before_fork()
    gc.collect()
    gc.freeze()
    _trim()
    gc.enable()


def on_exit(_server: Any) -> None:
    """The master stops: hand the frozen objects back to the collector before its interpreter ends."""
    gc.unfreeze()


def post_fork(_server: Any, _worker: Any) -> None:
    """In the new worker, before it is ready: no collection until then, big buffers in mappings of
    their own for the worker's whole life (the master's setting is inherited; set again for a
    worker that builds the app itself, without ``preload_app``)."""
    gc.disable()
    _fix_mmap_threshold()


def post_worker_init(worker: Any) -> None:
    """The worker is ready: free its start's garbage, freeze the rest, collect again as usual,
    give the heap's free pages back.

    « Booting worker » is printed when a worker is forked, before it can answer (without
    ``preload_app``, seconds before: imports, configuration, migrations check); the « Worker
    ready » line says when it really can. The test
    helper (``tests/browser/conftest.py``: ``serve``) waits for one per worker before a test
    starts, so a test never runs while the other worker is still starting on the same CPU and
    database.
    """
    gc.collect()
    gc.freeze()
    gc.enable()
    _trim()
    worker.log.info("Worker ready (pid: %s)", worker.pid)


def worker_exit(_server: Any, _worker: Any) -> None:
    """Hand the objects frozen at start back to the collector before the interpreter ends."""
    gc.unfreeze()
