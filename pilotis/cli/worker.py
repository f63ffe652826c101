"""``python -m pilotis worker``: the background job runner (scheduled source refreshes, alert
evaluation and delivery, sensor rollup and purge — :mod:`pilotis.accounts.feature_jobs` — and the
jobs other packages register with :func:`pilotis.core.jobs.register_job`).

Run one or more per installation (systemd ``deploy/pilotis-worker@.service``): they share the
application database, where each run is claimed once (:mod:`pilotis.accounts.jobs`). SIGTERM or
SIGINT: no new run is claimed, the current one finishes, the command returns 0.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal

import pilotis.accounts.feature_jobs  # noqa: F401  (alerts, outbox, sensor rollup and purge)
import pilotis.core.refresh_ahead  # noqa: F401  (registers the built-in job `source_refresh`)
from pilotis.accounts.db import Database
from pilotis.accounts.job_runner import Worker
from pilotis.accounts.jobs import JobStore
from pilotis.core import logs
from pilotis.core.cache import make_cache
from pilotis.core.data import DataService
from pilotis.core.errors import ConfigError
from pilotis.core.jobs import JOB_KINDS, JobContext
from pilotis.core.loader import registry_for
from pilotis.core.settings import Settings
from pilotis.plugins import register_builtins
from pilotis.ui.portal import Portal

log = logging.getLogger(__name__)


def job_modules(args: argparse.Namespace) -> list[str]:
    """Modules to import for their ``register_job`` calls: ``--jobs`` and ``PILOTIS_JOB_MODULES``."""
    from_env = [m.strip() for m in os.environ.get("PILOTIS_JOB_MODULES", "").split(",") if m.strip()]
    return [*from_env, *(args.jobs or [])]


def build_worker(args: argparse.Namespace, settings: Settings) -> Worker:
    """The portal's services, the database (migrated), the registered kinds: a ready :class:`Worker`."""
    for module in job_modules(args):
        importlib.import_module(module)
    register_builtins()
    registry = registry_for(settings)
    cache = make_cache(settings.cache_url, settings.cache_prefix)
    portal = Portal(settings=settings, registry=registry, data=DataService(registry.datasets, cache))
    db = Database(settings.database_url)
    db.upgrade()
    context = JobContext(settings=settings, portal=portal, db=db)
    return Worker(JobStore(db), context, JOB_KINDS, poll=args.poll)


def cmd_worker(args: argparse.Namespace) -> int:
    """Run the loop until SIGTERM (``--once``: one pass, for a test or a cron line)."""
    settings = Settings.from_env()
    logs.configure(settings.log_format)
    try:
        worker = build_worker(args, settings)
    except ConfigError as exc:
        print(exc.report())
        return 1
    if args.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port, addr="127.0.0.1")  # loopback only: no token on this port
    if args.once:
        done = worker.run_pass()
        print(f"{done} tâche(s) exécutée(s).")
        return 0
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda _signum, _frame: worker.stop())
    worker.run_forever()
    worker.context.db.dispose()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``worker`` to the ``python -m pilotis`` parser."""
    worker = sub.add_parser("worker", help="tâches de fond (rafraîchissements planifiés des sources…)")
    worker.add_argument("--poll", type=float, default=5.0, help="secondes entre deux passages (défaut : 5)")
    worker.add_argument(
        "--jobs", action="append", metavar="MODULE", help="module Python à importer qui enregistre des tâches"
    )
    worker.add_argument("--once", action="store_true", help="un seul passage, puis fin")
    worker.add_argument(
        "--metrics-port", type=int, default=0, help="port local (127.0.0.1) des métriques Prometheus du travailleur"
    )
    worker.set_defaults(func=cmd_worker)
