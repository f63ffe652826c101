"""Evaluation of the alert rules right after an ingestion: :class:`IngestTrigger`.

``POST /capteurs/<source>/releves`` stores readings, then calls :meth:`IngestTrigger.kick`
with the source: the rules whose dataset reads that source (directly, or through the indicator
they watch) are evaluated *for the moment itself* and the outbox drained, in a background thread
of the web process — the HTTP answer does not wait for it. Without this the reading would wait
for the next slot of the rule (up to its ``every``) and for the worker's next passes.

- one thread per process, started on the first kick (after gunicorn's fork), daemon: a process
  stopping mid-evaluation leaves nothing half done (one transaction, see
  :mod:`pilotis.accounts.alert_engine`), the worker's next slot catches up;
- kicks arriving during an evaluation are merged into one more evaluation (a burst of batches
  costs two evaluations, not one per batch);
- two evaluations start at least ``min_interval`` (1 s) apart: a lone reading is evaluated at
  once, a stream of webhooks (hundreds a second) at most once a second. Evaluated back to back,
  the evaluations took a third of the web process's CPU (GIL) and held SQLite's write lock
  between the inserts: single-reading ingestion fell to 18 % of an empty endpoint's rate
  (``bench/bench_ingest.py``). The delay this adds to an alert is under ``min_interval``;
- the evaluation claims ``now`` (``at_once=True``): an ingestion may evaluate the current slot
  again, never twice the same moment, and several web processes (or a worker) evaluating at the
  same time still tell each transition once;
- a reading stamped a little ahead of the server's clock (devices drift; up to 5 minutes are
  accepted) is read only once that moment has come (a rule's window ends at ``now``): the
  evaluation waits for the latest reading's time, so the delay is the drift, not a whole slot;
- a data service of its own for each evaluation, with an empty cache: the evaluation reads the
  rows just stored, whatever the datasets' ``ttl`` (the dashboards' shared cache is untouched).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from collections.abc import Callable

from pilotis.accounts.alert_engine import evaluate_due_rules, naive_utc
from pilotis.accounts.alert_notify import AlertOptions
from pilotis.accounts.alert_outbox import MailSettings, drain_outbox
from pilotis.accounts.db import Database
from pilotis.core import forks
from pilotis.core.alert_rules import AlertRule
from pilotis.core.cache import TTLCache
from pilotis.core.data import DataService
from pilotis.core.registry import Registry
from pilotis.core.territory import TerritoryIndex

log = logging.getLogger(__name__)


def rule_datasets(rule: AlertRule, registry: Registry) -> set[str]:
    """The datasets ``rule`` reads: its own, or the one of the indicator it watches."""
    if rule.dataset is not None:
        return {rule.dataset}
    indicator = registry.indicators.get(rule.indicator or "")
    dataset = getattr(indicator, "dataset", None) if indicator is not None else None
    return {dataset} if dataset else set()


def rules_reading(registry: Registry, source: str) -> set[str]:
    """The ids of the rules that read a dataset of the sensor source ``source``."""
    return {
        rule.id
        for rule in registry.alerts.values()
        if any(
            name in registry.datasets and registry.datasets[name].sensor_source() == source
            for name in rule_datasets(rule, registry)
        )
    }


class IngestTrigger:
    """The background evaluator of one web process (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        registry: Registry,
        territories: Callable[[], TerritoryIndex],
        options: Callable[[], AlertOptions],
        mail: Callable[[], MailSettings] = MailSettings.from_env,
        min_interval: float = 1.0,
    ) -> None:
        self.db = db
        self.registry = registry
        self.territories = territories
        self.options = options
        self.mail = mail
        self._by_source = {source: rules_reading(registry, source) for source in registry.sensors}
        self._pending: set[str] = set()
        self._busy = False
        self._not_before: dt.datetime | None = None
        self.min_interval = min_interval
        """Seconds at least between the starts of two evaluations (see the module docstring)."""
        self._last_start = -math.inf  # time.monotonic() of the last evaluation's start
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self.runs = 0
        """Evaluations done (tests and the benchmark watch it)."""
        forks.register(self, in_child=IngestTrigger._after_fork)

    def _after_fork(self) -> None:
        """In a forked worker: the parent's thread is not there, and it may have held the
        condition's lock; what it had pending is evaluated by the next kick's new thread."""
        self._wake = threading.Condition()
        self._thread = None
        self._busy = False

    def kick(self, source: str, latest: dt.datetime | None = None) -> bool:
        """Ask for an evaluation of the rules reading ``source``, not before ``latest`` (naive UTC:
        the time of the newest reading stored); False when no rule reads the source."""
        rules = self._by_source.get(source)
        if not rules:
            return False
        with self._wake:
            waiting = not self._pending  # else the loop knows already and waits for its time
            self._pending |= rules
            if latest is not None:
                self._not_before = max(latest, self._not_before or latest)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="pilotis-alertes-ingestion", daemon=True)
                self._thread.start()
            if waiting:  # not at every reading: waking the thread costs the request a GIL hand-over
                self._wake.notify_all()
        return True

    def idle(self, timeout: float) -> bool:
        """Wait until nothing is pending nor running (tests, a clean stop); False on timeout."""
        with self._wake:
            return self._wake.wait_for(lambda: not self._pending and not self._busy, timeout)

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._pending or self._early():
                    self._wake.wait(self._early() or None)
                pending, self._pending, self._busy = self._pending, set(), True
                self._not_before = None
                self._last_start = time.monotonic()
            try:
                self.evaluate(pending)
            except Exception:  # the next kick or the worker's next slot will try again
                log.exception("alertes : échec de l'évaluation après ingestion")
            finally:
                with self._wake:
                    self._busy = False
                    self._wake.notify_all()

    def _early(self) -> float:
        """Seconds until an evaluation may start (0: now): the newest pending reading's time has
        come and ``min_interval`` has passed since the last start."""
        wait = self._last_start + self.min_interval - time.monotonic()
        if self._not_before is not None:
            wait = max(wait, (self._not_before - naive_utc(dt.datetime.now(dt.UTC))).total_seconds())
        return max(0.0, wait)

    def evaluate(self, rules: set[str]) -> None:
        """Evaluate the rules ``rules`` at this moment, then send what they wrote to the outbox."""
        options = self.options()
        now = naive_utc(dt.datetime.now(dt.UTC))
        reports = evaluate_due_rules(
            self.db,
            self.registry,
            now,
            options=options,
            data=DataService(self.registry.datasets, TTLCache()),
            territories=self.territories(),
            rules=rules,
            at_once=True,
        )
        if any(report.messages for report in reports):
            drain_outbox(self.db, now, mail=self.mail(), webhook_secret=options.signing_secret)
        self.runs += 1
