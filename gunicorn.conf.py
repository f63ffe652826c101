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

``preload_app``: the master builds the app once, then forks the workers; a worker (and every
renewal) is ready in milliseconds instead of importing and building everything itself, and the
start-up objects stay shared between the processes. What a worker must not share (DuckDB, the
database pools, background threads) is closed before the fork or reset after it
(:mod:`pilotis.core.forks`). A configuration error stops the master at start (exit status 1,
the report on stderr).

The hooks (no collection while the app is built, start-up objects frozen before the fork, big
buffers given back to the system when freed, « Worker ready » logged) are
:mod:`pilotis.web.worker_memory`'s, shared with ``deploy/gunicorn.conf.py``.
"""

from pilotis.web import worker_memory
from pilotis.web.worker_memory import on_exit as on_exit  # gunicorn reads the hooks by these names
from pilotis.web.worker_memory import post_fork as post_fork
from pilotis.web.worker_memory import post_worker_init as post_worker_init
from pilotis.web.worker_memory import pre_fork as pre_fork
from pilotis.web.worker_memory import worker_exit as worker_exit

worker_memory.master_starts()
preload_app = True

worker_class = "gthread"
threads = 4
# Idle keep-alive connections are closed after this many seconds (nginx in front reuses them).
keepalive = 5
