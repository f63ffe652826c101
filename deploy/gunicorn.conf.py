"""gunicorn configuration of one Pilotis instance (``gunicorn -c deploy/gunicorn.conf.py``).

Every value can be changed by the environment of the systemd unit (``deploy/systemd/pilotis@.service``):

- ``PILOTIS_BIND`` (``127.0.0.1:8001``): where this instance listens (nginx's upstream);
- ``PILOTIS_WORKERS`` (2) processes of ``PILOTIS_THREADS`` (4) threads each;
- ``PROMETHEUS_MULTIPROC_DIR``: the folder of this instance's metrics (one folder per instance,
  emptied here when the instance starts; without it, ``/metrics`` shows one process only).

``preload_app``: the master builds the app once and forks the workers (a renewal after
``max_requests`` is ready in milliseconds, start-up memory is shared). A ``SIGHUP`` (``systemctl
reload``) renews the workers from the app already built: new code or YAML needs a restart.

``gthread``: a *sync* worker is held by each open connection, and browsers open spare ones in
advance (preconnect) that they never use: with a few visitors every sync worker waits on an idle
socket until ``timeout``, and real requests queue. gthread workers hand idle keep-alive
connections to a poller and only give a thread to a connection that sent a request.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

# Memory and forks (pilotis/web/worker_memory.py): no collection while the app is built, what a
# worker must not share closed before each fork, start-up objects frozen, big buffers given back.
from pilotis.web import worker_memory
from pilotis.web.worker_memory import on_exit as on_exit  # gunicorn reads the hooks by these names
from pilotis.web.worker_memory import post_fork as post_fork
from pilotis.web.worker_memory import post_worker_init as post_worker_init
from pilotis.web.worker_memory import pre_fork as pre_fork
from pilotis.web.worker_memory import worker_exit as worker_exit


def empty_metrics_folder() -> None:
    """Empty this instance's metrics folder, once per master process: values of processes of a
    previous run are gone. Here, when the configuration is read, since the master builds the app
    (and its metric files) before gunicorn's ``on_starting``; not again when a ``SIGHUP`` reads
    the configuration anew (the workers' files are live)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder and os.environ.get("PILOTIS_METRICS_EMPTIED_BY") != str(os.getpid()):
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)
        os.environ["PILOTIS_METRICS_EMPTIED_BY"] = str(os.getpid())


empty_metrics_folder()
worker_memory.master_starts()
preload_app = True
wsgi_app = "app:server"
bind = [os.environ.get("PILOTIS_BIND", "127.0.0.1:8001")]
worker_class = "gthread"
workers = int(os.environ.get("PILOTIS_WORKERS", "2"))
threads = int(os.environ.get("PILOTIS_THREADS", "4"))
timeout = 60  # a callback is bounded well below (source timeouts); a stuck worker is replaced
graceful_timeout = 20  # SIGTERM: requests in progress get 20 s to finish
keepalive = 2  # idle keep-alive connections (nginx opens one per request: deploy/nginx/pilotis.conf)
max_requests = 5000  # workers are renewed from time to time (memory of pandas, DuckDB)
max_requests_jitter = 500
control_socket_disable = True  # gunicorn 27 shares one control socket between instances
forwarded_allow_ips = "127.0.0.1"
# JSON logs (PILOTIS_LOG_FORMAT=json): the app writes its own access line, with the request id,
# as JSON; gunicorn's text line would only mix formats in the journal.
accesslog = None if os.environ.get("PILOTIS_LOG_FORMAT", "").strip().lower() == "json" else "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}i)s'


def child_exit(_server: Any, worker: Any) -> None:
    """A worker process ended: its live gauges stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
