"""The values an alert rule watches, per instance, read through a :class:`~pilotis.core.scope.Scope`.

A rule is evaluated by the system, not for one viewer: its scope is that of :data:`SYSTEM` (a
principal that reads every row, like the president). Who may be *told* about each instance is
decided afterwards, per recipient, by :func:`pilotis.core.access.can_receive_alert`.

- a dataset rule asks one grouped query (one row per instance, with its commune when the rule
  names a ``territory_column``) over the rows of the last ``window`` before ``now``;
- an indicator rule evaluates the indicator with :class:`~pilotis.core.evaluator.Evaluator` for
  each territory of the ``per`` level, exactly as a KPI card would for that territory.

A source that fails (or answers with a stale copy) makes every instance an error reading.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

import pandas as pd

from pilotis.core.access import Principal
from pilotis.core.alert_rules import AlertRule
from pilotis.core.alert_states import Reading
from pilotis.core.data import DataService
from pilotis.core.evaluator import Evaluator
from pilotis.core.query import Filter, Query
from pilotis.core.scope import Scope
from pilotis.core.territory import Territory, TerritoryIndex

if TYPE_CHECKING:
    from pilotis.core.registry import Registry

SYSTEM = Principal("systeme:alertes", roles=frozenset({"president"}))
"""Who evaluates the rules: reads every row (the recipients are filtered afterwards)."""
ALL = "*"
"""Instance name of a rule without ``instance`` column (one series for the whole dataset)."""


class AlertReadError(Exception):
    """The watched values could not be read (French message)."""


def system_scope(registry: Registry, data: DataService, territories: TerritoryIndex, territory: Territory) -> Scope:
    """The scope rules are evaluated in (see :data:`SYSTEM`)."""
    return Scope.for_principal(registry, data, territories, SYSTEM, territory, None)


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def read_rule(
    rule: AlertRule, registry: Registry, data: DataService, territories: TerritoryIndex, now: dt.datetime
) -> dict[str, Reading]:
    """Readings by instance at ``now`` (naive UTC); raises :class:`AlertReadError`."""
    try:
        if rule.indicator is not None:
            return _indicator(rule, registry, data, territories)
        return _dataset(rule, registry, data, territories, now)
    except AlertReadError:
        raise
    except Exception as exc:  # a source error, a row rule, a bad column: the rule is in error
        raise AlertReadError(f"{type(exc).__name__} : {exc}") from exc


def _dataset(
    rule: AlertRule, registry: Registry, data: DataService, territories: TerritoryIndex, now: dt.datetime
) -> dict[str, Reading]:
    assert rule.dataset is not None and rule.measure is not None
    department = Territory("departement", territories.departement_code)
    scope = system_scope(registry, data, territories, department)
    filters, _ = scope.dataset_filters(rule.dataset, territory=None, where=rule.where.items())
    if rule.time_column and rule.window:
        start = now - dt.timedelta(seconds=rule.window)
        filters += (Filter(rule.time_column, ">", start), Filter(rule.time_column, "<=", now))
    group = tuple(column for column in (rule.instance, rule.territory_column) if column)
    query = Query(
        dataset=rule.dataset,
        measures=(("valeur", scope.measure(rule.dataset, rule.measure)),),
        group_by=group,
        filters=filters,
    )
    frame = data.query(query)
    if frame.attrs.get("error"):
        raise AlertReadError(str(frame.attrs["error"]))
    return _readings(rule, frame)


def _readings(rule: AlertRule, frame: pd.DataFrame) -> dict[str, Reading]:
    found: dict[str, Reading] = {}
    for row in frame.to_dict("records"):
        name = str(row[rule.instance]) if rule.instance else ALL
        place = row.get(rule.territory_column) if rule.territory_column else None
        territory = f"commune:{place}" if place is not None and not pd.isna(place) else None
        found[name] = Reading(_number(row["valeur"]), territory=territory)
    return found


def _indicator(
    rule: AlertRule, registry: Registry, data: DataService, territories: TerritoryIndex
) -> dict[str, Reading]:
    assert rule.indicator is not None
    indicator = registry.indicators[rule.indicator]
    found: dict[str, Reading] = {}
    for territory in instances(rule, territories):
        scope = system_scope(registry, data, territories, territory)
        value = Evaluator(scope, indicator).result(()).value
        found[territory.code] = Reading(_number(value), territory=territory.value)
    return found


def instances(rule: AlertRule, territories: TerritoryIndex) -> list[Territory]:
    """The territories an indicator rule watches (``per`` level, or the ones listed)."""
    if rule.per == "departement":
        return [Territory("departement", territories.departement_code)]
    known = territories.communes if rule.per == "commune" else territories.epcis
    codes = rule.territories or sorted(known)
    return [Territory(rule.per, code) for code in codes]
