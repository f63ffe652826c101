"""Partial aggregates: an indicator's measure split into aggregates that add up across groups.

A measured indicator is queried as a :class:`Leaf` (dataset, measure tree, fixed filters). To
answer any set of periods or territories from one grouped query, its measure is split into
*partial aggregates*: ``sum(a) / sum(b)`` is asked as ``sum(a)`` and ``sum(b)`` per group, then
added up over the groups wanted and divided (a ratio of sums stays a ratio of sums). Sums,
counts, minimums and maximums split this way; ``avg`` and ``count_distinct`` do not (asked again
to the database for each set). pandas only adds up small aggregated results.

**Batching.** The leaves of the other KPIs of a page (:class:`Page`) that read the same dataset
ride on the same grouped query: the first KPI runs it, the others are answered by the cache.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pilotis.core.cache import TTLCache
from pilotis.core.freshness import Observation, observe
from pilotis.core.indicators import Indicator, leaves, widget_indicator
from pilotis.core.measures import Agg, BinOp, Node, Num, parse_measure
from pilotis.core.schema import DatasetBase
from pilotis.core.secrecy import SECRET, any_masked, masked_rows

if TYPE_CHECKING:
    from pilotis.core.evaluator import Evaluator
    from pilotis.core.registry import Registry
    from pilotis.core.scope import Scope

SPLITTABLE = ("sum", "count", "min", "max")
COMBINE = {"sum": "sum", "count": "sum", "min": "min", "max": "max"}
"""How partial aggregates of several groups add up into those of their union."""


@dataclass(frozen=True)
class Leaf:
    """A measured indicator as the engine queries it: dataset, measure tree, fixed filters."""

    indicator: Indicator = field(compare=False)
    dataset: str
    node: Node
    where: tuple[tuple[str, Any], ...] = ()

    @cached_property
    def aggs(self) -> tuple[Agg, ...]:
        """The aggregates of the measure, in order, without duplicates (walked once per leaf: a
        page change asks it hundreds of times; the leaf is frozen, so it cannot change)."""
        found: list[Agg] = []

        def walk(node: Node) -> None:
            if isinstance(node, Agg):
                if node not in found:
                    found.append(node)
            elif isinstance(node, BinOp):
                walk(node.left)
                walk(node.right)

        walk(self.node)
        return tuple(found)

    @cached_property
    def splittable(self) -> bool:
        """True when partial aggregates per group can be combined into the measure of a set."""
        return all(a.func in SPLITTABLE for a in self.aggs)

    @property
    def key(self) -> str:
        """What KPIs must share to be answered by one batched query: the dataset."""
        return self.dataset

    def matches(self, frame: pd.DataFrame) -> pd.Series:
        """Rows of a batched result that belong to this leaf (its fixed filters)."""
        mask = pd.Series(True, index=frame.index)
        for column, value in self.where:
            values = list(value) if isinstance(value, tuple) else [value]
            mask &= frame[column].isin(values)
        return mask


def where_key(items: Iterable[tuple[str, Any]]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in items))


def leaf_of(indicator: Indicator, extra_where: dict[str, Any] | None = None) -> Leaf:
    """The :class:`Leaf` of a measured indicator (``extra_where``: a KPI widget's own filters)."""
    assert indicator.measure is not None and indicator.spec.dataset is not None
    return Leaf(
        indicator,
        indicator.spec.dataset,
        indicator.measure,
        where_key({**indicator.spec.where, **(extra_where or {})}.items()),
    )


def measure_value(node: Node, get: Callable[[Agg], Any]) -> Any:
    """A measure tree evaluated on partial aggregates (numbers or Series alike)."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Agg):
        return get(node)
    left, right = measure_value(node.left, get), measure_value(node.right, get)
    if left is None or right is None:
        return None
    if node.op == "/":
        if isinstance(right, pd.Series):
            return left / right.where(right != 0)
        return None if right == 0 or missing(right) else left / right
    return {"+": lambda: left + right, "-": lambda: left - right, "*": lambda: left * right}[node.op]()


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: Any) -> float | None:
    if value is None or isinstance(value, pd.Series):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def combine(frame: pd.DataFrame, aliases: dict[Agg, str]) -> dict[Agg, Any]:
    """Partial aggregates of several groups combined into those of their union (None when one
    group is masked by statistical secrecy: a total is never made of masked parts)."""
    if frame.empty or any_masked(frame):
        return {agg: None for agg in aliases}
    result: dict[Agg, Any] = {}
    for agg, alias in aliases.items():  # on the column's array: a card combines some ten small frames
        values = numbers(frame[alias])
        if values.dtype.kind == "f" and np.isnan(values).all():
            result[agg] = None
        elif agg.func in ("sum", "count"):
            result[agg] = float(np.nansum(values))
        else:
            result[agg] = float(np.nanmin(values) if agg.func == "min" else np.nanmax(values))
    return result


def numbers(column: pd.Series) -> np.ndarray:
    """A column's values as numbers (``pd.to_numeric(errors="coerce")``): integers as they are,
    everything else as floats with NaN for what is missing or not a number."""
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "iu":
        return column.to_numpy()
    if column.dtype.kind not in "iufb":
        column = pd.to_numeric(column, errors="coerce")
    return column.to_numpy(dtype=float, na_value=np.nan)


def regroup(frame: pd.DataFrame, keys: tuple[str, ...], aliases: dict[Agg, str]) -> pd.DataFrame:
    """Partial aggregates added up per ``keys`` (groups with NULL keys kept), or into one row."""
    how = {alias: COMBINE[agg.func] for agg, alias in aliases.items()}
    if not keys:
        totals = combine(frame, aliases)
        return (
            pd.DataFrame([{aliases[a]: v for a, v in totals.items()}])
            if not frame.empty
            else pd.DataFrame(columns=list(how))
        )
    numeric = frame.assign(**{a: pd.to_numeric(frame[a], errors="coerce") for a in how})
    grouped = numeric.groupby(list(keys), dropna=False, sort=True)
    parts = [_combined(grouped[alias], kind) for alias, kind in how.items()]
    if SECRET in frame.columns:  # a group with a masked part is masked (never a partial sum)
        masked = masked_rows(numeric).groupby([numeric[k] for k in keys], dropna=False, sort=True).any()
        parts = [part.where(~masked) for part in parts] + [masked.rename(SECRET)]
    return pd.concat(parts, axis=1).reset_index()


def _combined(groups: Any, kind: str) -> pd.Series:
    """Partial aggregates of each group combined by ``kind`` (sum, min, max). A sum of NULLs
    stays NULL, as in SQL: a territory without data has no value, not 0 (ranks, comparisons)."""
    return groups.sum(min_count=1) if kind == "sum" else getattr(groups, kind)()


def grouped_by(frame: pd.DataFrame, by: str, aliases: dict[Agg, str], text: bool = True) -> pd.DataFrame:
    """Partial aggregates combined per value of column ``by`` (vectorised groupby: the groups are
    found once for all the columns, which costs more than adding them up)."""
    frame = frame[frame[by].notna()]
    keys = frame[by].astype(str) if text else frame[by]
    secret = SECRET in frame.columns
    converted = {  # numbers (``pd.to_numeric``: already so for numpy's numbers)
        alias: pd.to_numeric(frame[alias], errors="coerce")
        for alias in aliases.values()
        if not (isinstance(frame[alias].dtype, np.dtype) and frame[alias].dtype.kind in "iuf")
    }
    if secret and frame[SECRET].dtype != bool:
        converted[SECRET] = masked_rows(frame)
    grouped = (frame.assign(**converted) if converted else frame).groupby(keys)
    parts = {alias: _combined(grouped[alias], COMBINE[agg.func]) for agg, alias in aliases.items()}
    if secret:  # a group with a masked part is masked (never a partial sum)
        masked = grouped[SECRET].any()
        parts = {alias: part.where(~masked) for alias, part in parts.items()}
        parts[SECRET] = masked
    return pd.DataFrame(parts)


def territory_columns(dataset: DatasetBase) -> dict[str, str]:
    """Territory columns of a dataset by level (`commune`, `epci`, `departement`)."""
    cols = dataset.territory
    return {
        level: getattr(cols, level)
        for level in ("commune", "epci", "departement")
        if cols is not None and getattr(cols, level)
    }


# --------------------------------------------------------------------------- shared between requests


class Shared:
    """Figures derived from query results (a ranking of every commune), kept by this process for
    every request whose key is the same: the first change of a year computes them, the next ones
    look them up. The key must hold everything that decides what the viewer may see
    (:func:`leaf_key`); an entry is used only with the very data service, registry and territory
    index it was computed with, and no longer than the results it is made of. A hit reports the
    observations of those results again (:mod:`pilotis.core.freshness`: the widget's « mis à
    jour le », its stale notices and its rendered-widget cache stay those of the queries)."""

    def __init__(self, max_entries: int = 256) -> None:
        self._entries = TTLCache(max_entries=max_entries)

    @property
    def hits(self) -> int:
        """How many look-ups found their entry."""
        return self._entries.hits

    def get(self, scope: Scope, key: Hashable) -> tuple[bool, Any]:
        """``(True, value)`` for a live entry computed with ``scope``'s objects, else ``(False, None)``."""
        found, entry = self._entries.get(key)
        if not found or not all(a is b for a, b in zip(entry[:3], _objects(scope), strict=True)):
            return False, None
        for observation in entry[4]:
            observe(observation)
        return True, entry[3]

    def set(self, scope: Scope, key: Hashable, value: Any, seen: list[Observation]) -> None:
        """Keep ``value``, made of the results observed in ``seen``, while they are all fresh."""
        if not seen or any(o.stale or o.fresh_until is None for o in seen):
            return
        lifetime = min(o.fresh_until for o in seen if o.fresh_until is not None) - scope.data.clock()
        if lifetime > 0:
            self._entries.set(key, (*_objects(scope), value, tuple(seen)), lifetime)


def _objects(scope: Scope) -> tuple[Any, Any, Any]:
    return scope.data, scope.registry, scope.territories


def scope_key(scope: Scope) -> tuple[int, int, int]:
    """The objects a shared figure was computed with (checked again on a hit: :class:`Shared`)."""
    return id(scope.data), id(scope.registry), id(scope.territories)


def leaf_key(ev: Evaluator, leaf: Leaf) -> tuple[Any, ...]:
    """What decides the rows of ``leaf`` a viewer's queries get, besides the territory and the
    period: the leaf (dataset, measure, fixed filters) and the page leaves asked with it, the
    filters of its queries without the territory — the viewer's row-level rules
    (``access.row_filters``) —, whether the viewer is exempt from statistical secrecy
    (``unmasked``: masked and exact figures never share an entry) and the version of the data
    (source fingerprint, refresh epoch, manual-refresh generation: a refresh makes a new key).
    The same parts as the query cache's key (:meth:`pilotis.core.data.DataService.query`)."""
    return (
        leaf,
        tuple(ev.batch_of(leaf)),
        repr(ev.filters(leaf, None, where=False)),
        ev.scope.unmasked(leaf.dataset),
        ev.scope.data.version(leaf.dataset),
    )


# --------------------------------------------------------------------------- the page (batching)


@dataclass(frozen=True)
class Page:
    """What an evaluation shares with the other widgets drawn with it (optional): the leaves of
    their KPIs (asked in the same grouped queries) and their longest sparkline (how many years
    those queries read before the selected one, so that they are the same for all)."""

    leaves: tuple[Leaf, ...] = ()
    sparkline: int = 0

    @classmethod
    def of(cls, registry: Registry, widgets: Sequence[Any]) -> Page:
        """The page made of ``widgets`` (a dashboard's)."""
        return cls(
            tuple(leaf for widget in widgets for leaf in widget_leaves(registry, widget)),
            max((getattr(w, "sparkline", None) or 0 for w in widgets), default=0),
        )


def widget_leaves(registry: Registry, widget: Any) -> list[Leaf]:
    """The leaves a widget queries (KPI by indicator or by measure, compare)."""
    indicators = getattr(registry, "indicators", {})
    found: list[Leaf] = []
    ids: list[str] = []
    if getattr(widget, "kpi", None):
        ids.append(widget.kpi)
        ids += [c.indicator for c in getattr(widget, "compare", ()) or () if not isinstance(c, str)]
    elif widget.type == "kpi" and getattr(widget, "measure", None) and widget.dataset in registry.datasets:
        named = registry.datasets[widget.dataset].config.measures
        node = parse_measure(named.get(widget.measure, widget.measure))
        found.append(leaf_of(widget_indicator(widget, widget.dataset, node), dict(widget.where)))
    ids += list(getattr(widget, "indicators", ()) or ())
    for indicator_id in ids:
        if indicator_id in indicators:
            found += [leaf_of(leaf) for leaf in leaves(indicators[indicator_id], indicators.__getitem__)]
    return found
