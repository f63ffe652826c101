"""Statistical secrecy: small counts masked in every query result, after aggregation.

A dataset declares a rule (``sensitivity: {statistical_secrecy: {columns, threshold, …}}``,
:class:`~pilotis.core.schema_catalogue.SecrecyRule`). Every :class:`~pilotis.core.query.Query`
on it that reads a protected column is masked by :class:`~pilotis.core.data.DataService` right
after the source answered and before the result is cached, unless the query says ``unmasked``
(its builder, ``Scope``, found an exempt role). Nothing downstream sees the exact value.

- **Primary suppression**: a row whose protected count (``sum`` of the column over the rows of
  the group, asked in the same pushed-down SELECT) is below the threshold (and not zero, unless
  ``zeros: true``) has every measure reading a protected column set to NaN and ``_secret`` True.
- **Secondary suppression**: along each dimension of the grouping, within the group of cells
  sharing the other dimensions (communes of one EPCI at one period: the EPCI column is added to
  the grouping of a commune query), a group with a masked cell keeps at least two masked cells
  whose counts add up to the threshold or more, by masking its smallest other cells. A total
  minus the visible cells then never gives one masked cell.
- **Same cells in every view**: a query filtered on one commune (or EPCI), or on a list of
  communes it groups by, is asked for *every* commune (the filter dropped, the column grouped)
  so the cells masked are those of the full grid; the rows asked for are then picked out.
- Ordering and ``limit``/``offset`` are applied after masking (masked rows last, in code order):
  a masked cell is never placed by its hidden value.

What is not guaranteed (docs/secret-statistique.md): differences between periods of a *flow*
summed over several years, between different fixed filters (``where``), or with data published
elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from pilotis.core.indicators import leaves
from pilotis.core.measures import Agg, Node
from pilotis.core.query import Filter, Query
from pilotis.core.schema_catalogue import SecrecyRule
from pilotis.core.secrecy_secondary import secondary

SECRET = "_secret"
"""Column of a masked result: True on rows whose protected measures are masked (NaN)."""


def rule_of(config: Any) -> SecrecyRule | None:
    """The secrecy rule of a dataset's configuration, if it declares one."""
    sensitivity = getattr(config, "sensitivity", None)
    rule = getattr(sensitivity, "statistical_secrecy", None)
    return rule if isinstance(rule, SecrecyRule) else None


def is_exempt(config: Any, principal: Any) -> bool:
    """True when ``principal`` holds a role the dataset's rule exempts (sees exact small counts)."""
    rule = rule_of(config)
    roles = getattr(principal, "roles", None) or frozenset()
    return rule is not None and bool(set(rule.exempt_roles) & set(roles))


def exemptions(datasets: dict[str, Any], principal: Any) -> str:
    """The datasets whose small counts ``principal`` may see exactly (``-``: none), for the keys
    of caches shared between viewers that are not keyed by the roles themselves."""
    return ",".join(sorted(d for d, source in datasets.items() if is_exempt(source.config, principal))) or "-"


def exact_datasets(registry: Any, dashboards: Iterable[str], principal: Any) -> list[str]:
    """The datasets under a secrecy rule read by ``dashboards`` (widgets and their indicators)
    whose small counts ``principal`` sees exactly: kept with a snapshot they freeze, whoever opens
    it must be exempt for them too (:func:`pilotis.accounts.snapshots.refusal`)."""
    indicators = getattr(registry, "indicators", {})
    used: set[str] = set()
    for dashboard in (registry.dashboards[d] for d in dashboards if d in registry.dashboards):
        used |= {w.dataset for w in dashboard.widgets if getattr(w, "dataset", None)}
        for ids in dashboard.widget_indicators.values():
            for found in (indicators[i] for i in ids if i in indicators):
                used |= {leaf.spec.dataset for leaf in leaves(found, indicators.__getitem__) if leaf.spec.dataset}
    return sorted(d for d in used if d in registry.datasets and is_exempt(registry.datasets[d].config, principal))


def reads(node: Node, columns: set[str]) -> bool:
    """True when the measure reads one of ``columns`` (``*``: ``count(*)``)."""
    if isinstance(node, Agg):
        return node.column in columns
    left, right = getattr(node, "left", None), getattr(node, "right", None)
    return any(reads(child, columns) for child in (left, right) if child is not None)


def masked_rows(frame: pd.DataFrame) -> pd.Series:
    """Rows of a query result that are masked (all False for an unprotected result); the column
    itself when it is already boolean (callers only read it)."""
    if SECRET in frame.columns:
        column = frame[SECRET]
        return column if column.dtype == bool else column.fillna(False).astype(bool)
    return pd.Series(False, index=frame.index)


def any_masked(frame: pd.DataFrame) -> bool:
    """True when a query result has at least one masked row (a KPI card asks it some ten times:
    read on the column's array, not through a new Series)."""
    if SECRET not in frame.columns:
        return False
    values = frame[SECRET].to_numpy()
    if values.dtype == bool:
        return bool(values.any())
    return bool(masked_rows(frame).any())


@dataclass(frozen=True)
class Plan:
    """How a query is asked under a rule and how its answer is masked."""

    query: Query
    asked: Query
    protected: tuple[str, ...]
    counts: tuple[str, ...]
    parents: tuple[str, ...]
    """Columns added as the parent of a dimension (EPCI of communes): a grouping, not a dimension."""
    added: tuple[str, ...]
    """Columns added to the GROUP BY (parents, widened filters), dropped from the answer."""
    picks: tuple[tuple[str, tuple[str, ...]], ...]
    stock: bool


def plan(query: Query, config: Any, rule: SecrecyRule) -> Plan | None:
    """The query to ask the source instead of ``query``, or None when nothing is protected."""
    columns = set(rule.columns)
    if query.raw_columns:
        protected = tuple(c for c in query.raw_columns if c in columns)
        if not protected:
            return None
        return Plan(query, query, protected, protected, (), (), (), False)
    protected = tuple(alias for alias, node in query.measures if reads(node, columns))
    if not protected:
        return None
    used = sorted({c for alias, node in query.measures if alias in protected for c in _columns(node)} & columns)
    counts = tuple(f"__secret_n{i}" for i in range(len(used)))
    hidden = tuple(
        (alias, Agg("count", "*") if column == "*" else Agg("sum", column))
        for alias, column in zip(counts, used, strict=True)
    )
    territory = getattr(config, "territory", None)
    commune = getattr(territory, "commune", None)
    epci = getattr(territory, "epci", None)
    group = list(query.group_by)
    filters = list(query.filters)
    picks: list[tuple[str, tuple[str, ...]]] = []
    for column in (c for c in (commune, epci) if c):
        wanted = _widened(filters, column, column in group)
        if wanted is not None:
            filters = [f for f in filters if f.column != column]
            picks.append((column, wanted))
            if column not in group:
                group.append(column)
    parents: list[str] = []
    if commune and epci and commune in group and epci not in group:
        group.append(epci)  # the communes of one EPCI form a group (its total is shown)
        parents.append(epci)
    added = tuple(c for c in group if c not in query.group_by)
    asked = replace(
        query,
        measures=query.measures + hidden,
        group_by=tuple(group),
        filters=tuple(filters),
        order_by=(),
        limit=None,
        offset=None,
    )
    period = getattr(config, "period", None)
    stock = bool(period and period.kind == "stock")
    return Plan(query, asked, protected, counts, tuple(parents), added, tuple(picks), stock)


def _columns(node: Node) -> set[str]:
    if isinstance(node, Agg):
        return {node.column}
    left, right = getattr(node, "left", None), getattr(node, "right", None)
    return set().union(*(_columns(c) for c in (left, right) if c is not None))


def _widened(filters: list[Filter], column: str, grouped: bool) -> tuple[str, ...] | None:
    """The values of ``column`` to pick when its filters can be dropped from the SQL (one value,
    or a list when the query groups by it), else None."""
    mine = [f for f in filters if f.column == column]
    if not mine:
        return None
    sets = []
    for flt in mine:
        if flt.op == "=":
            sets.append({str(flt.value)})
        elif flt.op == "in":
            values = flt.value if isinstance(flt.value, tuple) else (flt.value,)
            if len(values) > 1 and not grouped:  # a total over several: kept in the SQL
                return None
            sets.append({str(v) for v in values})
        else:
            return None
    return tuple(sorted(set.intersection(*sets)))


def apply(frame: pd.DataFrame, plan: Plan, rule: SecrecyRule) -> pd.DataFrame:
    """The source's answer to ``plan.asked`` masked, picked, ordered and cut like ``plan.query``."""
    return pick(Grid(mask(frame, plan, rule)), plan, rule)


class Grid:
    """A masked answer (:func:`mask`) and, built on first use, the positions of its rows by the
    value of each picked column: picking one commune costs a dictionary look-up, not a pass over
    the whole grid as text (kept with the grid by :class:`~pilotis.core.data.DataService`)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._positions: dict[str, dict[str, np.ndarray]] = {}

    def rows(self, column: str, wanted: tuple[str, ...]) -> np.ndarray:
        """Positions of the rows whose ``column`` (as text) is one of ``wanted``, in grid order."""
        index = self._positions.get(column)
        if index is None:
            codes = self.frame[column].astype(str)
            index = {str(k): v for k, v in codes.groupby(codes, sort=False).indices.items()}
            self._positions[column] = index
        found = [index[w] for w in wanted if w in index]
        return np.sort(np.concatenate(found)) if found else np.empty(0, dtype=np.intp)


def mask_key(plan: Plan, rule: SecrecyRule) -> str:
    """What :func:`mask` depends on besides the answer to ``plan.asked`` (whose key the caller
    gives): the rule, which measures are protected, the counts, the parent columns and the kind
    of period. Two plans with the same asked query and the same mask key mask the same cells."""
    return repr((rule, plan.protected, plan.counts, plan.parents, plan.stock, bool(plan.query.raw_columns)))


def mask(frame: pd.DataFrame, plan: Plan, rule: SecrecyRule) -> pd.DataFrame:
    """The source's answer to ``plan.asked`` with its small counts masked (primary and
    secondary suppression, ``_secret`` column), every row kept: the grid :func:`pick` reads.

    It depends only on ``plan.asked`` and :func:`mask_key`, not on the rows asked for: the
    commune and EPCI filters are dropped from ``asked``, so every territory of one grid shares it
    (:class:`~pilotis.core.data.DataService` keeps it per process)."""
    attrs = dict(frame.attrs)
    frame = frame.reset_index(drop=True)
    values = np.fmin.reduce([_numbers(frame[count]) for count in plan.counts])  # the smallest, NaN ignored
    with np.errstate(invalid="ignore"):
        masked = (values < rule.threshold) & ((values > 0) | rule.zeros)
    masked &= ~np.isnan(values)
    secondary(frame, values, masked, plan, rule)
    for alias in plan.protected:
        frame[alias] = np.where(masked, np.nan, _numbers(frame[alias]))
    frame[SECRET] = masked
    frame.attrs.update(attrs)
    return frame


def _numbers(column: pd.Series) -> np.ndarray:
    """A column's values as floats (NaN: missing or not a number)."""
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def pick(grid: Grid, plan: Plan, rule: SecrecyRule) -> pd.DataFrame:
    """``plan.query``'s rows of a masked grid, ordered and cut like it; a new frame (the grid is
    left as it was: it may be shared)."""
    source = grid.frame
    attrs = dict(source.attrs)
    rows: np.ndarray | None = None
    for column, wanted in plan.picks:
        found = grid.rows(column, wanted)
        rows = found if rows is None else np.intersect1d(rows, found)
    dropped = set() if plan.query.raw_columns else {*plan.counts, *plan.added}
    columns = [i for i, name in enumerate(source.columns) if name not in dropped]
    frame = source.iloc[:, columns]
    if rows is not None:
        frame = frame.take(rows)  # a third cheaper than `iloc[rows, columns]`, the same frame
    if not plan.query.raw_columns:  # raw rows: the source already ordered and cut them
        frame = _ordered(frame, plan.query)
    frame = frame.reset_index(drop=True)
    frame.attrs = attrs
    frame.attrs["secret_label"] = rule.shown()
    frame.attrs["secret_columns"] = plan.protected
    return frame


def _ordered(frame: pd.DataFrame, query: Query) -> pd.DataFrame:
    """The query's order (masked values last: never placed by their hidden value), then its page."""
    if query.order_by:
        names = [name for name, _ in query.order_by if name in frame.columns]
        ascending = [not descending for name, descending in query.order_by if name in frame.columns]
        if names:
            frame = frame.sort_values(names, ascending=ascending, na_position="last", kind="stable")
    start = query.offset or 0
    if query.limit:
        return frame.iloc[start : start + query.limit]
    return frame.iloc[start:] if start else frame


def label_of(frame: pd.DataFrame) -> str:
    """What a masked cell of ``frame`` shows (« < 5 »), ``""`` when none is masked."""
    if not any_masked(frame):
        return ""
    return str(frame.attrs.get("secret_label") or "< 5")


def as_text(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """``frame`` for a file or a table: without its ``_secret`` column, each masked cell (a missing
    number on a masked row) written « < 5 »; and that label (``""`` when nothing is masked)."""
    if SECRET not in frame.columns:
        return frame, ""
    label = label_of(frame)
    masked = masked_rows(frame)
    shown = frame.drop(columns=[SECRET])
    if label:
        named = [c for c in frame.attrs.get("secret_columns", ()) if c in shown.columns]
        for column in named or [c for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c])]:
            hit = masked & shown[column].isna()
            if hit.any():
                shown[column] = shown[column].astype(object).where(~hit, label)
    return shown, label
