"""The state machine of one alert instance: Normal, Pending, Firing, Recovering, NoData, Error.

:func:`step` is pure: the stored state, one reading and ``now`` give the new state and the events
to notify. Every duration (``for``, ``recover_for``, no data, reminders, escalation) is computed
from timestamps kept in the state, never from a timer in memory: an evaluator that restarts, or
another one taking over, resumes where the stored state says (the clock is a parameter, tests
drive it).

Hysteresis: once firing, an instance goes back to normal only when the value crosses the rule's
``recovery`` threshold (and stays there ``recover_for``); a value flapping around the alert
threshold therefore fires once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from pilotis.core.alert_rules import AlertRule, level_rank

STATES = ("normal", "pending", "firing", "recovering", "nodata", "error")
STATE_WORDS = {
    "normal": "normal",
    "pending": "en attente",
    "firing": "en alerte",
    "recovering": "en retour",
    "nodata": "sans données",
    "error": "erreur",
}
"""French words of the states (shown on /alertes and in the messages)."""
EVENT_WORDS = {
    "firing": "Alerte déclenchée",
    "worse": "Alerte aggravée",
    "reminder": "Rappel : alerte toujours en cours",
    "escalation": "Escalade : alerte non acquittée",
    "recovered": "Retour à la normale",
    "nodata": "Plus de données",
    "error": "Erreur d'évaluation",
}
"""French titles of the events notified."""


@dataclass(frozen=True)
class Reading:
    """What one evaluation found for one instance: a value, no value (None), or an error."""

    value: float | None = None
    error: str | None = None
    territory: str | None = None
    """``commune:53130``: where the instance is (who may be told about it); None: unknown."""


@dataclass(frozen=True)
class InstanceState:
    """The stored state of one instance (one row of ``alert_states``); naive UTC timestamps."""

    state: str = "normal"
    since: dt.datetime | None = None
    """When the current state began (Pending: since when the threshold is crossed)."""
    level: str | None = None
    fired_at: dt.datetime | None = None
    """Start of the current alert episode (escalation delay counts from it)."""
    episode: int = 0
    """Number of the current alert episode (an acknowledgement link is valid for one episode)."""
    value: float | None = None
    data_at: dt.datetime | None = None
    """Last time a value was read (no-data delay counts from it)."""
    notified_at: dt.datetime | None = None
    acked_at: dt.datetime | None = None
    escalated_at: dt.datetime | None = None
    territory: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Event:
    """A transition (or a reminder) to record and notify."""

    kind: str
    """Key of :data:`EVENT_WORDS`."""
    before: str
    after: str
    level: str | None
    value: float | None
    since: dt.datetime | None
    """When the alert began (firing), or when the state began."""
    detail: str = ""


@dataclass
class StepResult:
    """The new state and what happened."""

    state: InstanceState
    events: list[Event] = field(default_factory=list)
    changed: bool = False
    """True when the stored row must be written (state or timestamps)."""


def _elapsed(now: dt.datetime, moment: dt.datetime | None) -> float:
    return (now - moment).total_seconds() if moment is not None else 0.0


def step(rule: AlertRule, current: InstanceState, reading: Reading, now: dt.datetime) -> StepResult:
    """The state after ``reading`` at ``now`` (see the module docstring)."""
    result = StepResult(current)
    if reading.territory and reading.territory != current.territory:
        result.state = replace(result.state, territory=reading.territory)
        result.changed = True
    if reading.error is not None:
        return _error(rule, result, reading, now)
    if reading.value is None:
        return _nodata(rule, result, now)
    state = replace(result.state, value=reading.value, data_at=now, error=None)
    result.changed = True
    if state.state in ("nodata", "error"):
        result.events.append(Event("recovered", state.state, "normal", None, reading.value, state.since))
        state = replace(state, state="normal", since=now, level=None)
    result.state = state
    _value(rule, result, reading.value, now)
    _follow_up(rule, result, now)
    return result


def _error(rule: AlertRule, result: StepResult, reading: Reading, now: dt.datetime) -> StepResult:
    state = result.state
    if rule.on_error == "keep" or state.state == "error":
        return result
    result.events.append(Event("error", state.state, "error", state.level, None, now, reading.error or ""))
    result.state = replace(state, state="error", since=now, error=reading.error)
    result.changed = True
    return result


def _nodata(rule: AlertRule, result: StepResult, now: dt.datetime) -> StepResult:
    state = result.state
    if state.state == "nodata" or rule.nodata.action == "keep":
        return result
    if _elapsed(now, state.data_at or state.since) < rule.nodata.after:
        if state.data_at is None and state.since is None:
            result.state = replace(state, since=now)
            result.changed = True
        return result
    result.events.append(Event("nodata", state.state, "nodata", state.level, None, state.data_at))
    result.state = replace(state, state="nodata", since=now, value=None)
    result.changed = True
    return result


def _value(rule: AlertRule, result: StepResult, value: float, now: dt.datetime) -> None:
    state = result.state
    level = rule.level_of(value)
    kind = state.state
    if kind in ("normal", "pending"):
        if level is None:
            result.state = replace(state, state="normal", since=now if kind != "normal" else state.since or now)
            return
        start = state.since if kind == "pending" and state.since else now
        if _elapsed(now, start) >= rule.for_:
            _fire(result, level, value, start, now)
        else:
            result.state = replace(state, state="pending", since=start, level=level)
        return
    if rule.recovered(value):
        start = state.since if kind == "recovering" and state.since else now
        if _elapsed(now, start) >= rule.recover_for:
            result.events.append(Event("recovered", kind, "normal", state.level, value, state.fired_at))
            result.state = replace(state, state="normal", since=now, level=None, escalated_at=None)
        else:
            result.state = replace(state, state="recovering", since=start)
        return
    # still firing (or back to it from recovering: the same episode, nothing new to say)
    if kind == "recovering":
        state = replace(state, state="firing", since=now)
    if level_rank(level) > level_rank(state.level):
        result.events.append(Event("worse", "firing", "firing", level, value, state.fired_at))
        state = replace(state, level=level, notified_at=now)
    result.state = state


def _fire(result: StepResult, level: str, value: float, start: dt.datetime, now: dt.datetime) -> None:
    state = result.state
    result.events.append(Event("firing", state.state, "firing", level, value, start))
    result.state = replace(
        state,
        state="firing",
        since=now,
        level=level,
        fired_at=start,
        episode=state.episode + 1,
        notified_at=now,
        acked_at=None,
        escalated_at=None,
    )


def _follow_up(rule: AlertRule, result: StepResult, now: dt.datetime) -> None:
    """Reminders and escalation of an alert nobody acknowledged (not the minute it fired)."""
    state = result.state
    if state.state not in ("firing", "recovering") or state.acked_at is not None or result.events:
        return
    if rule.escalation and state.escalated_at is None and _elapsed(now, state.fired_at) >= rule.escalation.after:
        result.events.append(Event("escalation", state.state, state.state, state.level, state.value, state.fired_at))
        result.state = replace(state, escalated_at=now, notified_at=now)
        return
    if rule.repeat and _elapsed(now, state.notified_at) >= rule.repeat:
        result.events.append(Event("reminder", state.state, state.state, state.level, state.value, state.fired_at))
        result.state = replace(state, notified_at=now)


def due_at(now: dt.datetime, every: int) -> dt.datetime:
    """The evaluation slot ``now`` falls in: ``now`` rounded down to a multiple of ``every``
    seconds since midnight UTC (every evaluator computes the same slot)."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    seconds = int((now - midnight).total_seconds()) // every * every
    return midnight + dt.timedelta(seconds=seconds)
