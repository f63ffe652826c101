"""gunicorn settings read by every ``gunicorn app:server`` started from the repository root
(gunicorn loads ``./gunicorn.conf.py`` by default): tests, benchmarks and the README's
production command share them. Command-line flags (``-w``, ``-b``) still override them.

Why the ``gthread`` worker class and not gunicorn's default ``sync``: a sync worker reads one
connection at a time and blocks on it until the client sends its request. Browsers open
connections ahead of time (Chromium's preconnect) and may leave them idle; two such sockets
block both workers of ``-w 2`` and every real request waits for the 60 s worker timeout
(a browser test timed out in CI this way; ``tests/test_gunicorn_conf.py`` reproduces it).
gthread workers poll their connections and answer the others meanwhile. The app is
thread-safe (per-thread DuckDB cursors, locked caches, one SQLAlchemy session per request).
"""

import gc
from typing import Any

worker_class = "gthread"
threads = 4
# Idle keep-alive connections are closed after this many seconds (nginx in front reuses them).
keepalive = 5


def post_worker_init(worker: Any) -> None:
    """One line per worker once it has built the app and starts taking requests.

    « Booting worker » is printed when a worker is forked, seconds before it can answer (imports,
    configuration, migrations check); this line says when it really can. The test helper
    (``tests/browser/conftest.py``: ``serve``) waits for one per worker before a test starts, so a
    test never runs while the other worker is still starting on the same CPU and database.
    """
    # Everything built at start (≈ 230,000 objects: modules, the configuration, the app) moves to
    # the collector's permanent generation: a full collection no longer walks it. In-process, on
    # the RSA page: 270 -> 43 ms of collections over 61 filter changes (bench/RESULTS_peers.md).
    gc.freeze()
    worker.log.info("Worker ready (pid: %s)", worker.pid)


def worker_exit(server: Any, worker: Any) -> None:
    """Hand the objects frozen at start back to the collector before the worker's interpreter
    ends, so that native libraries (DuckDB's bindings) see theirs freed and log no « leak »."""
    gc.unfreeze()
