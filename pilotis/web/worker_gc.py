"""The garbage collector of a gunicorn worker, shared by ``./gunicorn.conf.py`` and
``deploy/gunicorn.conf.py`` (their ``post_fork``, ``post_worker_init`` and ``worker_exit`` hooks).

A worker builds the whole app at start (≈ 200,000 objects that live as long as it does: modules,
the configuration, the Dash layouts) and then answers requests that allocate and free small
objects. The collector is tuned for neither:

- while the worker starts, it ran ≈ 520 collections, each walking the objects built so far, for
  almost no garbage: ≈ 0.2 s of CPU of the ≈ 1.4 s before a worker answers (bench/RESULTS_peers.md).
  It is off from the fork (:func:`post_fork`) until the app is built;
- once the worker is ready, one collection frees the few cycles the start left, then everything
  else moves to the permanent generation (:func:`gc.freeze`): a full collection during a filter
  change no longer walks the start-up objects (270 → 43 ms of collections over 61 changes);
- before the worker's interpreter ends, they are handed back (:func:`worker_exit`), so that native
  libraries see their objects freed (DuckDB's bindings report a frozen connection as leaked).
"""

from __future__ import annotations

import gc
from typing import Any


def post_fork(_server: Any, _worker: Any) -> None:
    """In the new worker, before it imports and builds the app: no collection during the start."""
    gc.disable()


def post_worker_init(worker: Any) -> None:
    """The app is built: free the start's garbage, freeze the rest, collect again as usual.

    « Booting worker » is printed when a worker is forked, seconds before it can answer (imports,
    configuration, migrations check); the « Worker ready » line says when it really can. The test
    helper (``tests/browser/conftest.py``: ``serve``) waits for one per worker before a test
    starts, so a test never runs while the other worker is still starting on the same CPU and
    database.
    """
    gc.collect()
    gc.freeze()
    gc.enable()
    worker.log.info("Worker ready (pid: %s)", worker.pid)


def worker_exit(_server: Any, _worker: Any) -> None:
    """Hand the objects frozen at start back to the collector before the interpreter ends."""
    gc.unfreeze()
