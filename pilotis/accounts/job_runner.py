"""The worker loop: plan the due runs of every registered job kind, claim them, run them under a
lease, take over the runs of dead workers (``python -m pilotis worker``).

Several workers (one per machine or more) run the same loop on the same database; the claims of
:mod:`pilotis.accounts.jobs` make each run happen once. A run is done by the worker that claimed
it, in its main thread, while a heartbeat thread renews the lease every third of it. On SIGTERM
(:meth:`Worker.stop`) the worker claims nothing more, lets the current run finish, and returns.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping

from pilotis.accounts.jobs import Claim, JobStore
from pilotis.core import metrics
from pilotis.core.jobs import JOB_KINDS, JobContext, JobKind, due_time

log = logging.getLogger(__name__)


class Worker:
    """One worker process's loop (see the module docstring)."""

    def __init__(
        self,
        store: JobStore,
        context: JobContext,
        kinds: Mapping[str, JobKind] | None = None,
        poll: float = 5.0,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.store = store
        self.context = context
        self.kinds = JOB_KINDS if kinds is None else kinds
        self.poll = poll
        self.now = now
        self.stopping = threading.Event()
        self._planned: dict[tuple[str, str], dt.datetime] = {}

    # ------------------------------------------------------------------ loop
    def run_forever(self) -> None:
        """Run passes every ``poll`` seconds until :meth:`stop` (SIGTERM)."""
        log.info("travailleur %s : démarré (%d type(s) de tâche)", self.store.worker, len(self.kinds))
        while not self.stopping.is_set():
            try:
                self.run_pass()
            except Exception:  # noqa: BLE001 - a database outage must not end the worker: retry next pass
                log.exception("travailleur : passage interrompu, nouvel essai dans %.0f s", self.poll)
            self.stopping.wait(self.poll)
        log.info("travailleur %s : arrêté", self.store.worker)

    def stop(self) -> None:
        """Ask the loop to end after the current run (signal handlers call it)."""
        self.stopping.set()

    def run_pass(self) -> int:
        """Claim and run what is due now, then what dead workers left; the number of runs done."""
        done = self._run_due()
        for run_id, attempt, job in self._expired():
            if self.stopping.is_set():
                break
            claim = self.store.take_over(run_id, attempt, job.lease)
            if claim is not None:
                log.warning("tâche %s/%s : reprise (bail expiré, essai %d)", claim.kind, claim.key, claim.attempt)
                metrics.JOB_TAKEOVERS.labels(claim.kind).inc()
                self.execute(claim, job)
                done += 1
        metrics.JOB_QUEUE_DEPTH.set(self.store.queue_depth((k, key, at) for k, key, at, _ in self._due_now()))
        return done

    def _run_due(self) -> int:
        """Plan each job's latest due time and claim the runs nobody has yet (one at a time: the
        claim is taken just before the run, so another worker can take the next ones)."""
        due = self._due_now()
        changed = [(k, key, at) for k, key, at, _ in due if self._planned.get((k, key)) != at]
        if changed:
            self.store.plan(changed)
            self._planned.update({(k, key): at for k, key, at in changed})
        taken = self.store.existing((k, key, at) for k, key, at, _ in due)
        done = 0
        for kind, key, at, job in due:
            if self.stopping.is_set():
                break
            if (kind, key, at.replace(tzinfo=None)) in taken:
                continue
            claim = self.store.claim(kind, key, at, job.lease)
            if claim is not None:
                self.execute(claim, job)
                done += 1
        return done

    def _due_now(self) -> list[tuple[str, str, dt.datetime, JobKind]]:
        """Each planned job's latest due time (within its grace), with its kind."""
        now = self.now()
        due: list[tuple[str, str, dt.datetime, JobKind]] = []
        for job in self.kinds.values():
            for key, schedule in job.plan(self.context).items():
                at = due_time(schedule, now)
                if (now - at).total_seconds() <= job.grace:
                    due.append((job.kind, key, at, job))
        return due

    def _expired(self) -> list[tuple[int, int, JobKind]]:
        """Runs of known kinds whose holder's lease expired."""
        return [(run_id, attempt, self.kinds[kind]) for run_id, attempt, kind in self.store.expired(self.kinds)]

    # ------------------------------------------------------------------ one run
    def execute(self, claim: Claim, job: JobKind) -> bool:
        """Run ``claim`` under its lease; True when its result was recorded by this worker."""
        beat = threading.Event()
        heartbeat = threading.Thread(target=self._renew, args=(claim, job, beat), daemon=True, name="pilotis-lease")
        heartbeat.start()
        due = claim.due_at.replace(tzinfo=dt.UTC)
        started = time.perf_counter()
        error: str | None = None
        try:
            job.function(self.context.for_run(claim.kind, claim.key, due))
        except Exception as exc:  # noqa: BLE001 - a failed job is recorded, the worker goes on
            log.exception("tâche %s/%s (due %s) en échec", claim.kind, claim.key, due.isoformat())
            error = f"{exc.__class__.__name__}: {exc}"
        finally:
            beat.set()
            heartbeat.join()
        metrics.JOB_SECONDS.labels(claim.kind).observe(time.perf_counter() - started)
        recorded = self.store.finish(claim, error)
        outcome = "lost" if not recorded else ("failed" if error is not None else "done")
        metrics.JOB_RUNS.labels(claim.kind, outcome).inc()
        if not recorded:
            log.error("tâche %s/%s : résultat non enregistré, reprise par un autre travailleur", claim.kind, claim.key)
        return recorded

    def _renew(self, claim: Claim, job: JobKind, done: threading.Event) -> None:
        """Renew the lease every third of it until the run ends (or the run was taken over)."""
        while not done.wait(job.lease / 3):
            try:
                if not self.store.renew(claim, job.lease):
                    log.error("tâche %s/%s : bail perdu (reprise par un autre travailleur)", claim.kind, claim.key)
                    return
            except Exception:  # noqa: BLE001 - a database hiccup: try again at the next beat
                log.exception("tâche %s/%s : renouvellement du bail impossible", claim.kind, claim.key)
