"""Prometheus metrics of the portal and of its workers (prometheus-client).

The metric objects are process-wide, like the library's default registry: what they hold is
counts of the process, never anything about a user (no user name, no territory, no row value in
a label). Every label takes its values from a bounded set: dashboard and widget ids of the
configuration (unknown ids are counted under ``_autre``), dataset ids, error kinds, audit event
types, job kinds.

Under gunicorn, set ``PROMETHEUS_MULTIPROC_DIR`` (an empty folder per instance, emptied at start:
``deploy/gunicorn.conf.py`` does it) before the processes start: each process then writes its
values to files there and :func:`exposition` adds them up (:class:`MultiProcessCollector`); gauges
keep the largest value of the live processes. The cost of an increment is that of a lock and a
write to a memory-mapped file: 7 µs on the 2-core CI machine, a cached callback 1.02× slower with
the metrics and the request id than without (``bench/bench_metrics.py``).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

OTHER = "_autre"
"""Label value of an id that is not in the configuration (bounded cardinality)."""

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

CALLBACK_SECONDS = Histogram(
    "pilotis_callback_seconds",
    "Durée des callbacks Dash (calcul d'un widget), par tableau de bord et widget",
    ["dashboard", "widget", "status"],
    buckets=LATENCY_BUCKETS,
)
CACHE_REQUESTS = Counter(
    "pilotis_cache_requests_total", "Résultats de requêtes demandés au cache (hit : trouvé, miss : calculé)", ["result"]
)
SOURCE_REFRESHES = Counter(
    "pilotis_source_refreshes_total", "Lectures d'une source (requête exécutée, hors cache)", ["dataset"]
)
SOURCE_FAILURES = Counter(
    "pilotis_source_failures_total", "Échecs d'une source, par type d'erreur", ["dataset", "kind"]
)
AUDIT_EVENTS = Counter(
    "pilotis_audit_events_total",
    "Événements du journal d'audit (login_success, login_failure, login_locked, access_denied…)",
    ["event"],
)
LOGINS = Counter("pilotis_logins_total", "Connexions : success, failure (refusée), locked (bloquée)", ["result"])
JOB_RUNS = Counter(
    "pilotis_job_runs_total",
    "Exécutions des tâches de fond : done, failed, lost (reprise par un autre)",
    ["kind", "outcome"],
)
JOB_SECONDS = Histogram("pilotis_job_seconds", "Durée des tâches de fond", ["kind"], buckets=LATENCY_BUCKETS)
JOB_TAKEOVERS = Counter("pilotis_job_takeovers_total", "Exécutions reprises après expiration du bail", ["kind"])
JOB_QUEUE_DEPTH = Gauge(
    "pilotis_job_queue_depth",
    "Exécutions dues non terminées (en attente ou en cours), tous travailleurs confondus",
    multiprocess_mode="max",
)

LOGIN_EVENTS = {"login_success": "success", "login_failure": "failure", "login_locked": "locked"}


def audit_event(event: str) -> None:
    """Count one audit event (and the logins among them)."""
    AUDIT_EVENTS.labels(event).inc()
    result = LOGIN_EVENTS.get(event)
    if result is not None:
        LOGINS.labels(result).inc()


def multiprocess_dir() -> str:
    """The folder of the multi-process values (``PROMETHEUS_MULTIPROC_DIR``), or ``""``."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "") or os.environ.get("prometheus_multiproc_dir", "")


def exposition() -> tuple[bytes, str]:
    """``(body, content type)`` of the text exposition: every process's values under gunicorn."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def process_dead(pid: int) -> None:
    """Forget the live gauges of a stopped process (gunicorn's ``child_exit`` hook)."""
    if multiprocess_dir():
        _multiprocess.mark_process_dead(pid)
