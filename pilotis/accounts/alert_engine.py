"""Evaluating the alert rules that are due: :func:`evaluate_due_rules` (the worker's entry point).

Once per slot, whatever the number of evaluators: a rule's slot (``now`` rounded down to its
``every``) is claimed by an UPDATE of its ``alert_clocks`` row that only succeeds when the
stored slot is older (row lock on PostgreSQL, the database lock on SQLite: the other evaluators
wait, then find the slot taken), and recorded in ``alert_runs`` (unique rule + slot). The claim,
the new states, the history and the outbox rows are ONE transaction: an evaluator killed
mid-run leaves nothing behind, and the next one evaluates the slot again — no transition lost,
none told twice.

Right after an ingestion (:mod:`pilotis.accounts.alert_trigger`), the rules reading the fresh
data are evaluated *at the moment itself* (``at_once=True``): the claimed "slot" is then ``now``
to the microsecond, not ``now`` rounded down to ``every``. The clock only moves forward, so the
guarantee stays: no moment evaluated twice, no older moment evaluated after a newer one (the
periodic run of a slot already evaluated later by an ingestion is skipped, the next slot is
evaluated as usual). Every duration of the state machine is computed from timestamps, so an
extra evaluation changes none of them.

The values are read before the transaction (a slow source does not hold the database lock);
the states are read inside it, after the claim, so each step starts from what the previous
slot wrote.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection
from dataclasses import dataclass, field, fields

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pilotis.accounts.alert_notify import AlertOptions, Outbox, muted
from pilotis.accounts.db import Database
from pilotis.accounts.models import AlertClock, AlertRun, AlertState, AlertTransition
from pilotis.core.alert_rules import AlertRule
from pilotis.core.alert_states import Event, InstanceState, Reading, StepResult, due_at, step
from pilotis.core.alert_values import ALL, AlertReadError, read_rule
from pilotis.core.cache import TTLCache
from pilotis.core.data import DataService
from pilotis.core.registry import Registry
from pilotis.core.settings import Settings
from pilotis.core.territory import TerritoryIndex

log = logging.getLogger(__name__)
_STATE_FIELDS = [f.name for f in fields(InstanceState)]


@dataclass
class RunReport:
    """What one claimed evaluation did."""

    rule: str
    due_at: dt.datetime
    events: list[tuple[str, Event]] = field(default_factory=list)
    messages: int = 0
    error: str | None = None


def naive_utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` as stored: UTC without tzinfo (a naive ``moment`` is taken as UTC already)."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def territory_index(registry: Registry, data: DataService) -> TerritoryIndex:
    """The commune/EPCI reference of the portal (what a restricted recipient's scope is read against)."""
    portal = registry.portal
    return TerritoryIndex.of_portal(data, portal)


def evaluate_due_rules(
    db: Database,
    registry: Registry,
    now: dt.datetime,
    *,
    options: AlertOptions | None = None,
    data: DataService | None = None,
    territories: TerritoryIndex | None = None,
    rules: Collection[str] | None = None,
    at_once: bool = False,
) -> list[RunReport]:
    """Evaluate every rule whose current slot nobody evaluated yet; returns the runs done here.

    ``rules``: only these rule ids (None: all); ``at_once``: claim ``now`` itself rather than its
    slot (an evaluation asked by an ingestion, see the module docstring).
    ``options`` default: from the environment (the portal's secret key, PILOTIS_BASE_URL…);
    ``data`` and ``territories``: pass the worker's own to share their caches between calls.
    Then deliver with :func:`pilotis.accounts.alert_outbox.drain_outbox`.
    """
    now = naive_utc(now)
    options = options or AlertOptions.from_env(Settings.from_env().secret_key)
    data = data or DataService(registry.datasets, TTLCache())
    territories = territories or territory_index(registry, data)
    reports = []
    for rule in registry.alerts.values():
        if rules is not None and rule.id not in rules:
            continue
        due = now if at_once else due_at(now, rule.every)
        if not _ensure_clock(db, rule.id, due):
            continue  # already evaluated for this slot: do not even read the data
        try:
            readings, error = read_rule(rule, registry, data, territories, now), None
        except AlertReadError as exc:
            readings, error = {}, str(exc)
            log.warning("alerte %s : évaluation en erreur : %s", rule.id, exc)
        with db.session() as session:
            if not _claim(session, rule.id, due):
                continue
            report = _apply(session, rule, readings, error, now, due, registry, territories, options)
            session.add(
                AlertRun(
                    rule=rule.id,
                    due_at=due,
                    worker=options.worker[:100],
                    ran_at=now,
                    instances=len(readings),
                    events=len(report.events),
                    error=error,
                )
            )
        reports.append(report)
    return reports


def _ensure_clock(db: Database, rule_id: str, due: dt.datetime) -> bool:
    """Create the rule's clock row if needed; False when ``due`` was claimed already."""
    rows = db.read(select(AlertClock.last_due_at).where(AlertClock.rule == rule_id))
    if rows:
        last = rows[0][0]
        return last is None or last < due
    try:
        with db.session() as session:
            session.add(AlertClock(rule=rule_id, last_due_at=None))
    except IntegrityError:
        pass  # another evaluator created it at the same moment
    return True


def _claim(session: Session, rule_id: str, due: dt.datetime) -> bool:
    """The slot ``due`` of the rule, for this transaction only (see the module docstring)."""
    result = session.execute(
        update(AlertClock)
        .where(AlertClock.rule == rule_id)
        .where(or_(AlertClock.last_due_at.is_(None), AlertClock.last_due_at < due))
        .values(last_due_at=due)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _rule_error_over(session: Session, row: AlertState) -> StepResult:
    """The rule as a whole (instance ``*``, written when an evaluation failed before any
    instance was known) reads again, instance by instance: its error is over. One recovery is
    told (the error was) and the row goes, instead of staying in error, then « sans données »,
    for ever on /alertes."""
    session.delete(row)
    if row.state == "normal":
        return StepResult(InstanceState())
    event = Event("recovered", row.state, "normal", None, None, row.since, "évaluation rétablie")
    return StepResult(InstanceState(territory=row.territory, episode=row.episode), [event])


def _as_state(row: AlertState | None) -> InstanceState:
    if row is None:
        return InstanceState()
    return InstanceState(**{name: getattr(row, name) for name in _STATE_FIELDS})


def _apply(
    session: Session,
    rule: AlertRule,
    readings: dict[str, Reading],
    error: str | None,
    now: dt.datetime,
    due: dt.datetime,
    registry: Registry,
    territories: TerritoryIndex,
    options: AlertOptions,
) -> RunReport:
    """Step every instance, write states, history and outbox; all in the caller's transaction."""
    report = RunReport(rule.id, due, error=error)
    rows = {row.instance: row for row in session.scalars(select(AlertState).where(AlertState.rule == rule.id))}
    names = set(rows) | set(readings)
    if error is not None and not names:
        names = {ALL}
    outbox = Outbox(session, rule, registry, territories, options, now)
    told = []
    for name in sorted(names):
        gone = name == ALL and error is None and ALL not in readings  # the rule reads again, per instance
        if gone:
            result = _rule_error_over(session, rows[ALL])
        else:
            reading = Reading(error=error) if error is not None else readings.get(name, Reading())
            result = step(rule, _as_state(rows.get(name)), reading, now)
        if not gone and (result.changed or name not in rows):
            row = rows.get(name) or AlertState(rule=rule.id, instance=name)
            for key in _STATE_FIELDS:
                setattr(row, key, getattr(result.state, key))
            session.add(row)
        for event in result.events:
            reason = muted(session, rule, name, now)
            session.add(
                AlertTransition(
                    rule=rule.id,
                    instance=name,
                    at=now,
                    kind=event.kind,
                    before=event.before,
                    after=event.after,
                    level=event.level,
                    value=event.value,
                    territory=result.state.territory,
                    muted=reason,
                    detail=event.detail[:2000],
                )
            )
            report.events.append((name, event))
            if reason is None:
                notice = outbox.notice(name, event, result.state.territory, result.state.episode)
                told.append((notice, result.state.territory))
    if told:
        report.messages = outbox.write(told)
    return report
