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

The hooks (no collection while a worker starts, start-up objects frozen once it is ready, big
buffers given back to the system when freed, « Worker ready » logged) are
:mod:`pilotis.web.worker_memory`'s, shared with ``deploy/gunicorn.conf.py``.
"""

from pilotis.web.worker_memory import post_fork as post_fork  # gunicorn reads the hooks by these names
from pilotis.web.worker_memory import post_worker_init as post_worker_init
from pilotis.web.worker_memory import worker_exit as worker_exit

worker_class = "gthread"
threads = 4
# Idle keep-alive connections are closed after this many seconds (nginx in front reuses them).
keepalive = 5
