"""What a KPI card compares its value with, computed by the query layer.

Everything is asked to the database as a few **grouped** aggregate queries, never as a loop
over rows in Python:

- one query per dataset grouped by **period** (for the selected territory) gives the current
  value, the previous period, the same period a year earlier and the sparkline;
- one query per dataset grouped by **territory** (commune and EPCI columns, or département)
  at the current period gives the département, EPCI and comparable-territory positions and the
  rank, for every territory at once.

To answer any set of periods or territories from those two results, a measure is split into
its *partial aggregates*: ``sum(a) / sum(b)`` is queried as ``sum(a)`` and ``sum(b)`` per group,
then summed over the groups wanted and divided (a ratio of sums stays a ratio of sums). Sums,
counts, minimums and maximums split this way; ``avg`` and ``count_distinct`` do not, and are
asked again to the database for each window or set of territories (still one aggregate query
each). pandas only adds up these small aggregated results (a few hundred rows at most).

**Batching.** All the KPIs of a dashboard that read the same dataset with the same fixed
filters ask the same two queries, carrying the partial aggregates of all of them: the first KPI
callback runs them, the others are answered by the shared result cache.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from pilotis.core.access import RowsDenied
from pilotis.core.data import as_date
from pilotis.core.indicators import Indicator, evaluate, leaves, refs_of, widget_indicator
from pilotis.core.measures import Agg, BinOp, Node, Num, parse_measure
from pilotis.core.query import PERIOD, Filter, Query
from pilotis.core.territory import Territory, territory_filters

if TYPE_CHECKING:
    from pilotis.core.schema import DatasetBase
    from pilotis.core.widgets import RenderContext

SPLITTABLE = ("sum", "count", "min", "max")
PER_YEAR = {"day": 365, "month": 12, "quarter": 4, "year": 1}
"""Periods of each grain in a year."""
BANDS = ((0, 500), (500, 2_000), (2_000, 5_000), (5_000, 20_000), (20_000, None))
"""Population bands of comparable communes (population municipale légale)."""
POSITIONS = ("departement", "epci", "comparables", "rank")

Mode = Literal["year", "latest", "all", "none"]


# --------------------------------------------------------------------------- periods


def shift(day: dt.date, grain: str, periods: int) -> dt.date:
    """``day`` moved by ``periods`` periods of ``grain`` (29 February becomes 28)."""
    if grain == "day":
        return day + dt.timedelta(days=periods)
    months = {"month": 1, "quarter": 3, "year": 12}[grain] * periods
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    try:
        return day.replace(year=year, month=month + 1)
    except ValueError:
        return day.replace(year=year, month=month + 1, day=28)


def truncate(day: dt.date, grain: str) -> dt.date:
    """The first day of the ``grain`` period containing ``day``."""
    if grain == "year":
        return dt.date(day.year, 1, 1)
    if grain == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if grain == "month":
        return dt.date(day.year, day.month, 1)
    return day


def as_dates(values: pd.Series) -> list[dt.date]:
    """The period column of a query result as ``date`` objects (vectorised for datetimes)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.to_numpy().astype("datetime64[D]").tolist()
    return [as_date(v) for v in values]


def band_of(population: int) -> tuple[int, int | None]:
    """The population band of a commune."""
    return next(b for b in BANDS if population >= b[0] and (b[1] is None or population < b[1]))


@dataclass(frozen=True)
class Window:
    """The periods a value covers: ``end`` (first day of the last period) and, for amounts
    added over time (flows), ``start`` (None: from the first period available)."""

    end: dt.date
    start: dt.date | None = None

    def shifted(self, grain: str, periods: int) -> Window:
        """The same window ``periods`` periods of ``grain`` later (earlier if negative)."""
        return Window(
            shift(self.end, grain, periods),
            shift(self.start, grain, periods) if self.start else None,
        )


# --------------------------------------------------------------------------- leaves


@dataclass(frozen=True)
class Leaf:
    """A measured indicator as the engine queries it: dataset, measure tree, fixed filters."""

    indicator: Indicator = field(compare=False)
    dataset: str
    node: Node
    where: tuple[tuple[str, Any], ...] = ()

    @property
    def aggs(self) -> tuple[Agg, ...]:
        """The aggregates of the measure, in order, without duplicates."""
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

    @property
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


def _where(items: Iterable[tuple[str, Any]]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in items))


def leaf_of(indicator: Indicator, extra_where: dict[str, Any] | None = None) -> Leaf:
    """The :class:`Leaf` of a measured indicator (``extra_where``: a KPI widget's own filters)."""
    assert indicator.measure is not None and indicator.spec.dataset is not None
    return Leaf(
        indicator,
        indicator.spec.dataset,
        indicator.measure,
        _where({**indicator.spec.where, **(extra_where or {})}.items()),
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
        return None if right == 0 or _missing(right) else left / right
    return {"+": lambda: left + right, "-": lambda: left - right, "*": lambda: left * right}[node.op]()


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, pd.Series):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def _combine(frame: pd.DataFrame, aliases: dict[Agg, str]) -> dict[Agg, Any]:
    """Partial aggregates of several groups combined into those of their union."""
    if frame.empty:
        return {agg: None for agg in aliases}
    result: dict[Agg, Any] = {}
    for agg, alias in aliases.items():
        column = pd.to_numeric(frame[alias], errors="coerce")
        if column.isna().all():
            result[agg] = None
        elif agg.func in ("sum", "count"):
            result[agg] = float(column.sum())
        else:
            result[agg] = float(column.min() if agg.func == "min" else column.max())
    return result


def _regroup(frame: pd.DataFrame, keys: tuple[str, ...], aliases: dict[Agg, str]) -> pd.DataFrame:
    """Partial aggregates added up per ``keys`` (groups with NULL keys kept), or into one row."""
    how = {
        alias: {"sum": "sum", "count": "sum", "min": "min", "max": "max"}[agg.func] for agg, alias in aliases.items()
    }
    if not keys:
        totals = _combine(frame, aliases)
        return (
            pd.DataFrame([{aliases[a]: v for a, v in totals.items()}])
            if not frame.empty
            else pd.DataFrame(columns=list(how))
        )
    numeric = frame.assign(**{a: pd.to_numeric(frame[a], errors="coerce") for a in how})
    grouped = numeric.groupby(list(keys), dropna=False, sort=True)
    parts = [
        grouped[alias].sum(min_count=1) if kind == "sum" else getattr(grouped[alias], kind)()
        for alias, kind in how.items()
    ]  # a sum of NULLs stays NULL, as in SQL
    return pd.concat(parts, axis=1).reset_index()


def _grouped(frame: pd.DataFrame, by: str, aliases: dict[Agg, str], text: bool = True) -> pd.DataFrame:
    """Partial aggregates combined per value of column ``by`` (vectorised groupby)."""
    frame = frame[frame[by].notna()]
    parts = {}
    keys = frame[by].astype(str) if text else frame[by]
    for agg, alias in aliases.items():
        column = pd.to_numeric(frame[alias], errors="coerce").groupby(keys)
        how = {"sum": "sum", "count": "sum", "min": "min", "max": "max"}[agg.func]
        parts[alias] = getattr(column, how)()
    return pd.DataFrame(parts)


# --------------------------------------------------------------------------- results


@dataclass
class Comparison:
    """One comparison line of a KPI card (the text is written by the widget)."""

    kind: str
    """`previous_period`, `previous_year`, `departement`, `epci`, `comparables`, `rank`,
    `target` or `indicator`."""
    reference: float | None = None
    """The value compared with (previous value, average, target…)."""
    value: float | None = None
    """The value it is compared to (usually the card's value)."""
    period: dt.date | None = None
    """The period of ``value`` (changes)."""
    reference_period: dt.date | None = None
    """The period of ``reference`` (changes)."""
    start: dt.date | None = None
    """First period of a cumulated window (flows), for both values."""
    label: str = ""
    """Name of the reference (territory, set of communes, other indicator, target source)."""
    average: bool = False
    """True when ``reference`` is an average per territory (volumes)."""
    count: int | None = None
    """How many territories the average, or the rank, is taken over."""
    rank: int | None = None
    """The rank (1 = highest value)."""
    level: str = ""
    """Territory level of a rank or an average (`commune`, `epci`, `departement`)."""
    share: float | None = None
    """For a volume: share of the département total."""


@dataclass
class KpiResult:
    """Everything a KPI card shows, computed once."""

    value: float | None = None
    end: dt.date | None = None
    start: dt.date | None = None
    grain: str = "year"
    exact: bool = True
    comparisons: list[Comparison] = field(default_factory=list)
    sparkline: list[tuple[dt.date, float | None]] = field(default_factory=list)
    status: str | None = None
    """`ok`, `warning` or `alert` (thresholds); None without thresholds or when they do not
    apply."""
    positions_withheld: bool = False
    """True when territorial comparisons were asked but the user's rows are restricted."""


# --------------------------------------------------------------------------- the engine


class Evaluator:
    """Values of one indicator for one rendering context (filters, territory, access rules).

    ``territory_all``: ignore the territory filter (the widget says `territory: all`).
    ``period``: `filter` (the year filter; the latest year when the dashboard has none),
    `latest` or `all` (cumulated over every period). ``batch``: share queries with the other
    KPIs of the dashboard (turned off only to measure what it saves).
    """

    def __init__(
        self,
        ctx: RenderContext,
        indicator: Indicator,
        *,
        territory_all: bool = False,
        period: str = "filter",
        extra_where: dict[str, Any] | None = None,
        batch: bool = True,
        lookup: Callable[[str], Indicator] | None = None,
    ) -> None:
        self.ctx = ctx
        self.indicator = indicator
        self.lookup = lookup or ctx.registry.indicators.__getitem__
        self.territory_all = territory_all
        self.extra_where = extra_where or {}
        self.batch = batch
        self.leaves = [leaf_of(i, self.extra_where if i is indicator else None) for i in leaves(indicator, self.lookup)]
        periodic = [leaf for leaf in self.leaves if self.dataset(leaf).period is not None]
        self.anchor = periodic[0] if periodic else None
        self.mode: Mode = self._mode(period)
        # Per evaluation (one widget for one principal, one request), never shared between users.
        self._period_frames: dict[Leaf, pd.DataFrame] = {}
        self._space_frames: dict[tuple[Leaf, Window | None], pd.DataFrame] = {}
        self._window: Window | None | bool = False
        self._aliases: dict[Leaf, dict[Agg, str]] = {}
        self._batch: list[Leaf] | None = None
        self.exact = True

    # ------------------------------------------------------------------ basics
    def dataset(self, leaf: Leaf) -> DatasetBase:
        return self.ctx.dataset(leaf.dataset)

    def grain(self, leaf: Leaf | None = None) -> str:
        leaf = leaf or self.anchor
        period = self.dataset(leaf).period if leaf else None
        return period.grain if period else "year"

    def kind(self, leaf: Leaf) -> str | None:
        period = self.dataset(leaf).period
        return period.kind if period else None

    def _mode(self, period: str) -> Mode:
        if self.anchor is None:
            return "none"
        if period == "all":
            return "all"
        if period == "latest":
            return "latest"
        if self.ctx.year:
            return "year"
        has_filter = self.ctx.dashboard.spec.filters.period is not None
        return "all" if has_filter else "latest"

    def filters(self, leaf: Leaf, territory: Territory | None, *, where: bool = True) -> tuple[Filter, ...]:
        """Access rules, territory (None: every territory) and fixed filters of ``leaf``
        (``where=False``: without them, for a batched query)."""
        result = list(self.ctx.row_filters(leaf.dataset))
        if territory is not None and self.territory_all:
            # `territory: all` is the collectivité's whole territory, not every département of a
            # national file (DREES, ARCEP publish them all)
            whole = Territory("departement", self.ctx.territories.departement_code)
            result.extend(territory_filters(self.dataset(leaf), whole, self.ctx.territories)[0])
        elif territory is not None:
            extra, exact = territory_filters(self.dataset(leaf), territory, self.ctx.territories)
            result.extend(extra)
            self.exact = self.exact and exact
        for column, value in leaf.where if where else ():
            result.append(Filter(column, "in", value) if isinstance(value, tuple) else Filter(column, "=", value))
        return tuple(result)

    def batch_of(self, leaf: Leaf) -> list[Leaf]:
        """The splittable leaves of the dashboard answered by the same queries as ``leaf``."""
        if not self.batch or not leaf.splittable:
            return [leaf]
        if self._batch is None:
            self._batch = batch_leaves(self.ctx)
        others = [o for o in self._batch if o.key == leaf.key and o.splittable]
        return [leaf, *(o for o in others if o != leaf)]

    def aliases(self, leaf: Leaf) -> dict[Agg, str]:
        """Partial aggregates to ask for ``leaf``: its own, or those of its whole batch."""
        if leaf not in self._aliases:
            aggs = {a for other in self.batch_of(leaf) for a in other.aggs}
            ordered = sorted(aggs, key=lambda a: (a.func, a.column))
            self._aliases[leaf] = {agg: f"p{i}" for i, agg in enumerate(ordered)}
        return self._aliases[leaf]

    def fetch(self, leaf: Leaf, group_by: tuple[str, ...], filters: tuple[Filter, ...]) -> pd.DataFrame:
        """Partial aggregates of ``leaf`` grouped by ``group_by`` (``filters``: without its fixed
        ones). The leaves of a batch with different fixed filters share **one** query grouped
        by their filter columns too; this leaf's rows are then picked and added up."""
        batch = self.batch_of(leaf)
        columns = sorted({c for other in batch for c, _ in other.where})
        if not columns or all(other.where == leaf.where for other in batch):
            where = tuple(Filter(c, "in", v) if isinstance(v, tuple) else Filter(c, "=", v) for c, v in leaf.where)
            return self.run(leaf, self.measures(leaf), group_by, filters + where)
        shared: list[Filter] = []  # a condition every leaf of the batch has: the union of values
        for column in columns:
            values = [dict(other.where).get(column) for other in batch]
            if all(v is not None for v in values):
                flat = sorted({x for v in values for x in (v if isinstance(v, tuple) else (v,))}, key=str)
                shared.append(Filter(column, "in", tuple(flat)))
        frame = self.run(leaf, self.measures(leaf), group_by + tuple(columns), filters + tuple(shared))
        return _regroup(frame[leaf.matches(frame)], group_by, self.aliases(leaf))

    def run(
        self,
        leaf: Leaf,
        measures: tuple[tuple[str, Node], ...],
        group_by: tuple[str, ...],
        filters: tuple[Filter, ...],
    ) -> pd.DataFrame:
        period = self.dataset(leaf).period
        return self.ctx.data.query(
            Query(
                dataset=leaf.dataset,
                measures=measures,
                group_by=group_by,
                filters=filters,
                period_column=period.column if period else None,
                period_grain=period.grain if period else None,
                native_grain=period.grain if period else None,
            )
        )

    def measures(self, leaf: Leaf) -> tuple[tuple[str, Node], ...]:
        if leaf.splittable:
            return tuple((alias, agg) for agg, alias in self.aliases(leaf).items())
        return (("m", leaf.node),)

    def window_filters(self, leaf: Leaf, window: Window | None) -> tuple[Filter, ...]:
        """Conditions selecting ``window`` on ``leaf``'s period column (stock: its last period)."""
        period = self.dataset(leaf).period
        if period is None or window is None:
            return ()
        end = truncate(window.end, period.grain)
        if period.kind == "stock":
            return (Filter(period.column, "=", end),)
        if window.start is None:
            return (Filter(period.column, "<=", end),)
        return (
            Filter(period.column, ">=", truncate(window.start, period.grain)),
            Filter(period.column, "<=", end),
        )

    # ------------------------------------------------------------------ time: one query per leaf
    def period_frame(self, leaf: Leaf) -> pd.DataFrame:
        """Partial aggregates of ``leaf`` per period for the selected territory (one query)."""
        if leaf in self._period_frames:
            return self._period_frames[leaf]
        filters = self.filters(leaf, self.ctx.territory, where=not leaf.splittable)
        fetch = self.fetch if leaf.splittable else (lambda lf, by, flt: self.run(lf, self.measures(lf), by, flt))
        period = self.dataset(leaf).period
        if period is None:
            frame = fetch(leaf, (), filters)
        else:
            if self.mode == "year" and self.ctx.year:
                first = dt.date(self.ctx.year - self.span_years(period.grain), 1, 1)
                filters += (
                    Filter(period.column, ">=", first),
                    Filter(period.column, "<", dt.date(self.ctx.year + 1, 1, 1)),
                )
            frame = fetch(leaf, (PERIOD,), filters)  # a frame of our own (the data service copies)
            frame.index = pd.Index(as_dates(frame[PERIOD]), name=PERIOD, dtype=object)
            del frame[PERIOD]
            if not frame.index.is_monotonic_increasing:
                frame = frame.sort_index()
        self._period_frames[leaf] = frame
        return frame

    def span_years(self, grain: str) -> int:
        """Years read before the selected one: the year before (comparisons), and as many as the
        longest sparkline of the dashboard needs (the same for all its KPIs: shared queries)."""
        longest = max((getattr(w, "sparkline", None) or 0 for w in self.ctx.dashboard.widgets), default=0)
        return max(1, -(-longest // PER_YEAR.get(grain, 12)))

    def window(self) -> Window | None:
        """The current window: the last period of the selection (and its first, for flows)."""
        if self._window is not False:
            return self._window  # type: ignore[return-value]
        window: Window | None = None
        if self.anchor is not None:
            periods = list(self.period_frame(self.anchor).index)
            if self.mode == "year" and self.ctx.year:
                periods = [p for p in periods if p.year == self.ctx.year]
            elif self.mode == "latest" and periods:
                periods = [p for p in periods if p.year == periods[-1].year]
            if periods:
                start: dt.date | None = None
                if self.kind(self.anchor) == "flow":
                    start = dt.date(periods[-1].year, 1, 1) if self.mode in ("year", "latest") else periods[0]
                window = Window(periods[-1], start)
        self._window = window
        return window

    def periods_in(self, leaf: Leaf, window: Window) -> pd.DataFrame:
        frame = self.period_frame(leaf)
        grain = self.grain(leaf)
        end = truncate(window.end, grain)
        if self.kind(leaf) == "stock":
            return frame[np.fromiter((p == end for p in frame.index), bool, len(frame))]
        start = truncate(window.start, grain) if window.start else None
        keep = (p <= end and (start is None or p >= start) for p in frame.index)
        return frame[np.fromiter(keep, bool, len(frame))]

    def leaf_value(self, leaf: Leaf, window: Window | None) -> float | None:
        """``leaf``'s value over ``window`` for the selected territory."""
        if self.dataset(leaf).period is None:  # a reference table (populations): one row
            frame = self.period_frame(leaf)
            if frame.empty:
                return None
            if leaf.splittable:
                totals = _combine(frame, self.aliases(leaf))
                return _number(measure_value(leaf.node, lambda a: totals[a]))
            return _number(frame.iloc[0]["m"])
        if window is None:
            return None
        rows = self.periods_in(leaf, window)
        if rows.empty:
            return None
        if leaf.splittable:
            totals = _combine(rows, self.aliases(leaf))
            return _number(measure_value(leaf.node, lambda a: totals[a]))
        if self.kind(leaf) == "stock":
            return _number(rows.iloc[0]["m"])
        return _number(self._direct(leaf, window).iloc[0]["m"]) if not rows.empty else None

    def _direct(
        self,
        leaf: Leaf,
        window: Window | None,
        territory: Territory | None = None,
        extra: tuple[Filter, ...] = (),
    ) -> pd.DataFrame:
        """One aggregate of a measure that does not split (``avg``, ``count_distinct``)."""
        base = self.filters(leaf, territory if territory is not None else self.ctx.territory)
        return self.run(leaf, (("m", leaf.node),), (), base + self.window_filters(leaf, window) + extra)

    def value(self, window: Window | None) -> float | None:
        """The indicator's value over ``window`` for the selected territory."""
        return self._formula(lambda leaf: self.leaf_value(leaf, window))

    def _formula(self, leaf_value: Callable[[Leaf], Any], indicator: Indicator | None = None) -> Any:
        indicator = indicator or self.indicator
        by_id = {leaf.indicator.id: leaf for leaf in self.leaves}
        if indicator.formula is None:
            return leaf_value(by_id[indicator.id] if indicator.id in by_id else self.leaves[0])

        def value_of(ref: str) -> Any:
            target = self.lookup(ref)
            if target.formula is not None:
                return self._formula(leaf_value, target)
            return leaf_value(by_id[ref])

        result = evaluate(indicator.formula, value_of)
        return result if isinstance(result, pd.Series) else _number(result)

    def periods_count(self, window: Window) -> int:
        assert self.anchor is not None
        return len(self.periods_in(self.anchor, window))

    # ------------------------------------------------------------------ time comparisons
    def previous_year(self, window: Window) -> Comparison | None:
        assert self.anchor is not None
        before = window.shifted("month", -12)
        flow = self.kind(self.anchor) == "flow"
        if self.mode == "all" and flow:
            return None
        if flow and self.periods_count(before) != self.periods_count(window):
            return None  # compare like with like: as many months on both sides
        return Comparison(
            "previous_year",
            reference=self.value(before),
            period=window.end,
            reference_period=before.end,
            start=window.start,
        )

    def previous_period(self, window: Window) -> Comparison | None:
        grain = self.grain()
        last = Window(window.end, window.end if self.kind(self.anchor) == "flow" else None)  # type: ignore[arg-type]
        before = last.shifted(grain, -1)
        return Comparison(
            "previous_period",
            value=self.value(last),
            reference=self.value(before),
            period=last.end,
            reference_period=before.end,
        )

    def series(self) -> pd.Series:
        """The indicator per period (anchor's grain) for the selected territory."""

        def leaf_series(leaf: Leaf) -> Any:
            frame = self.period_frame(leaf)
            if self.dataset(leaf).period is None:
                return self.leaf_value(leaf, None)
            if not leaf.splittable:
                return pd.to_numeric(frame["m"], errors="coerce")
            aliases = self.aliases(leaf)
            return measure_value(leaf.node, lambda a: pd.to_numeric(frame[aliases[a]], errors="coerce"))

        result = self._formula(leaf_series)
        if not isinstance(result, pd.Series):
            return pd.Series(dtype=float)
        return result.astype(float)

    def sparkline(self, window: Window, length: int) -> list[tuple[dt.date, float | None]]:
        """The last ``length`` periods up to the window's end."""
        series = self.series()
        series = series[[p <= window.end for p in series.index]]
        return [(p, _number(v)) for p, v in series.tail(length).items()]

    # ------------------------------------------------------------------ space: one query per leaf
    def columns(self, leaf: Leaf) -> dict[str, str]:
        """Territory columns of ``leaf``'s dataset by level (`commune`, `epci`, `departement`)."""
        cols = self.dataset(leaf).territory
        return {
            level: getattr(cols, level)
            for level in ("commune", "epci", "departement")
            if cols is not None and getattr(cols, level)
        }

    def space_frame(self, leaf: Leaf, window: Window | None) -> pd.DataFrame:
        """Partial aggregates of ``leaf`` per territory unit at ``window`` (one query)."""
        key = (leaf, window if self.dataset(leaf).period is not None else None)
        if key not in self._space_frames:
            columns = tuple(self.columns(leaf).values())
            if leaf.splittable:
                filters = self.filters(leaf, None, where=False) + self.window_filters(leaf, key[1])
                self._space_frames[key] = self.fetch(leaf, columns, filters)
            else:
                filters = self.filters(leaf, None) + self.window_filters(leaf, key[1])
                self._space_frames[key] = self.run(leaf, self.measures(leaf), columns, filters)
        return self._space_frames[key]

    def leaf_units(self, leaf: Leaf, window: Window | None, level: str) -> pd.Series | None:
        """``leaf`` per territory unit of ``level`` (commune, epci, departement), or None."""
        columns = self.columns(leaf)
        frame = self.space_frame(leaf, window)
        if level in columns:
            by = columns[level]
        elif level == "epci" and "commune" in columns:
            frame = frame.assign(_epci=frame[columns["commune"]].astype(str).map(self.ctx.territories.commune_epci))
            by = "_epci"
        else:
            return None
        if not leaf.splittable:
            if level not in columns or len(columns) > 1 and frame[by].duplicated().any():
                return None
            return pd.to_numeric(frame.set_index(frame[by].astype(str))["m"], errors="coerce")
        aliases = self.aliases(leaf)
        grouped = _grouped(frame, by, aliases)
        return measure_value(leaf.node, lambda a: grouped[aliases[a]])

    def leaf_set(
        self, leaf: Leaf, window: Window | None, level: str | None, codes: Iterable[str] | None
    ) -> float | None:
        """``leaf`` over a set of territory units (``level`` None: every row)."""
        columns = self.columns(leaf)
        if level is not None and level not in columns and not (level == "epci" and "commune" in columns):
            return None
        if not leaf.splittable:
            extra: tuple[Filter, ...] = ()
            if level is not None:
                column = columns.get(level) or columns["commune"]
                wanted = tuple(codes or ())
                if level == "epci" and level not in columns:
                    wanted = tuple(c for e in wanted for c in self.ctx.territories.communes_of(e))
                extra = (Filter(column, "in", wanted),)
            base = self.filters(leaf, None) + self.window_filters(leaf, window) + extra
            frame = self.run(leaf, (("m", leaf.node),), (), base)
            return None if frame.empty else _number(frame.iloc[0]["m"])
        frame = self.space_frame(leaf, window)
        if level is not None:
            chosen = set(codes or ())
            if level in columns:
                frame = frame[frame[columns[level]].astype(str).isin(chosen)]
            else:
                communes = {c for e in chosen for c in self.ctx.territories.communes_of(e)}
                frame = frame[frame[columns["commune"]].astype(str).isin(communes)]
        totals = _combine(frame, self.aliases(leaf))
        return _number(measure_value(leaf.node, lambda a: totals[a]))

    def units(self, window: Window | None, level: str) -> pd.Series | None:
        """The indicator for every territory unit of ``level`` (for ranks and averages)."""
        parts = {
            leaf: self.leaf_units(leaf, window, level) if self.dataset(leaf).territory else None for leaf in self.leaves
        }
        if any(self.columns(leaf) and parts[leaf] is None for leaf in self.leaves):
            return None

        def value_of(leaf: Leaf) -> Any:
            return parts[leaf] if parts[leaf] is not None else self.leaf_value(leaf, window)

        result = self._formula(value_of)
        return result if isinstance(result, pd.Series) else None

    def set_value(self, window: Window | None, level: str | None, codes: Iterable[str] | None) -> float | None:
        codes = list(codes) if codes is not None else None
        return self._formula(lambda leaf: self.leaf_set(leaf, window, level, codes))

    # ------------------------------------------------------------------ the card
    def positions_allowed(self) -> bool:
        """Territorial comparisons need every row: not for a user restricted to a territory."""
        return not any(self.ctx.row_filters(leaf.dataset) for leaf in self.leaves)

    def position(self, kind: str, window: Window | None, value: float | None) -> Comparison | None:
        index = self.ctx.territories
        territory = self.ctx.territory
        level = territory.level
        if self.territory_all or value is None:
            return None
        average = self.indicator.additive
        if kind == "rank":
            units = self.units(window, level)
            if units is None or territory.code not in units.index or pd.isna(units[territory.code]):
                return None
            units = units.dropna()
            rank = int(units.rank(ascending=False, method="min")[territory.code])
            return Comparison("rank", value=value, rank=rank, count=len(units), level=level)
        if level == "departement":
            return None
        if kind == "departement":
            count = len(index.communes) if level == "commune" else len(index.epcis)
            total = self.set_value(window, None, None)
            label = index.departement_name
            return self._average("departement", value, total, count, average, label, level)
        if kind == "epci":
            if level != "commune" or territory.code not in index.commune_epci:
                return None
            epci = index.commune_epci[territory.code]
            total = self.set_value(window, "epci", [epci])
            return self._average(
                "epci",
                value,
                total,
                len(index.communes_of(epci)),
                average,
                index.epcis.get(epci, epci),
                level,
            )
        if kind == "comparables":
            if level != "commune" or territory.code not in index.population:
                return None
            band = band_of(index.population[territory.code])
            codes = [c for c, p in index.population.items() if band_of(p) == band]
            total = self.set_value(window, "commune", codes)
            result = self._average("comparables", value, total, len(codes), average, "", level)
            if result is not None:
                result.label = f"{band[0]}|{band[1] if band[1] is not None else ''}"
            return result
        return None

    def _average(
        self,
        kind: str,
        value: float,
        total: float | None,
        count: int,
        average: bool,
        label: str,
        level: str,
    ) -> Comparison | None:
        if total is None:
            return None
        if average:
            return Comparison(
                kind,
                value=value,
                reference=total / count if count else None,
                label=label,
                average=True,
                count=count,
                level=level,
                share=value / total if kind == "departement" and total else None,
            )
        return Comparison(kind, value=value, reference=total, label=label, level=level)

    def target(self, window: Window | None, value: float | None) -> Comparison | None:
        target = self.indicator.spec.target
        if target is None or value is None or not self.applies_to_whole():
            return None
        if target.value is not None:
            return Comparison(
                "target",
                value=value,
                reference=target.value,
                label=target.label,
                reference_period=dt.date(target.year, 1, 1) if target.year else None,
            )
        year = window.end.year if window else None
        assert target.dataset is not None and target.measure is not None
        named = self.ctx.dataset(target.dataset).measures
        node = parse_measure(named.get(target.measure, target.measure))
        try:
            rules = tuple(self.ctx.row_filters(target.dataset))
        except RowsDenied:
            return None
        keys = tuple(sorted(target.where)) + ((target.year_column,) if target.year_column else ())
        wanted = {**target.where, **({target.year_column: year} if target.year_column else {})}
        if keys and not any(isinstance(v, list) for v in target.where.values()) and year is not None:
            # one query for every target of the goals table, grouped by its keys (shared, cached)
            frame = self.ctx.data.query(
                Query(
                    dataset=target.dataset,
                    measures=(("cible", node),),
                    group_by=keys,
                    filters=rules,
                )
            )
            for column, expected in wanted.items():
                if isinstance(expected, int | float) and not isinstance(expected, bool):
                    frame = frame[pd.to_numeric(frame[column], errors="coerce") == expected]
                else:
                    frame = frame[frame[column].astype(str) == str(expected)]
        else:
            filters = [
                Filter(k, "in", tuple(v)) if isinstance(v, list) else Filter(k, "=", v)
                for k, v in wanted.items()
                if v is not None
            ]
            frame = self.ctx.data.query(
                Query(
                    dataset=target.dataset,
                    measures=(("cible", node),),
                    filters=rules + tuple(filters),
                )
            )
        reference = None if frame.empty else _number(frame.iloc[0]["cible"])
        if reference is None:
            return None
        return Comparison(
            "target",
            value=value,
            reference=reference,
            label=target.label,
            reference_period=dt.date(year, 1, 1) if year else None,
        )

    def applies_to_whole(self) -> bool:
        """Targets and thresholds of a volume are the département's: shown for it only."""
        return (
            not self.indicator.additive
            or self.territory_all
            or self.ctx.territory.level == "departement"
            or not any(self.columns(leaf) for leaf in self.leaves)
        )

    def status(self, value: float | None) -> str | None:
        thresholds = self.indicator.spec.thresholds
        if thresholds is None or value is None or not self.applies_to_whole():
            return None
        down = self.indicator.spec.better == "down"

        def beyond(limit: float | None) -> bool:
            return limit is not None and (value >= limit if down else value <= limit)

        if beyond(thresholds.alert):
            return "alert"
        if beyond(thresholds.warning):
            return "warning"
        return "ok"

    def result(self, compare: Iterable[Any], sparkline: int | None = None) -> KpiResult:
        """Value, comparisons, sparkline and status for a KPI card."""
        window = self.window()
        result = KpiResult(grain=self.grain())
        if self.anchor is not None and window is None:
            result.exact = self.exact
            return result  # no data for these filters
        result.value = self.value(window)
        result.end, result.start = (window.end, window.start) if window else (None, None)
        for item in compare:
            kind = item if isinstance(item, str) else "indicator"
            found: Comparison | None = None
            if kind in ("previous_year", "previous_period") and window is not None:
                found = getattr(self, kind)(window)
            elif kind in POSITIONS:
                if not self.exact:
                    continue  # the data does not go down to the selected territory
                if not self.positions_allowed():
                    result.positions_withheld = True
                    continue
                found = self.position(kind, window, result.value)
            elif kind == "target":
                found = self.target(window, result.value)
            elif kind == "indicator":
                found = self.reference(item, result.value)
            if found is not None:
                if found.value is None and kind not in ("previous_period",):
                    found.value = result.value
                result.comparisons.append(found)
        if sparkline and window is not None:
            result.sparkline = self.sparkline(window, sparkline)
        result.status = self.status(result.value)
        result.exact = self.exact
        return result

    def reference(self, item: Any, value: float | None) -> Comparison | None:
        other = self.lookup(item.indicator)
        evaluator = Evaluator(
            self.ctx,
            other,
            territory_all=self.territory_all,
            period=self._period_option(),
            batch=self.batch,
            lookup=self.lookup,
        )
        window = evaluator.window()
        if evaluator.anchor is not None and window is None:
            return None
        self.exact = self.exact and evaluator.exact
        return Comparison(
            "indicator",
            value=value,
            reference=evaluator.value(window),
            label=item.label or other.label,
            reference_period=window.end if window else None,
        )

    def _period_option(self) -> str:
        return {"year": "filter", "latest": "latest", "all": "all", "none": "filter"}[self.mode]


# --------------------------------------------------------------------------- several territories


def compare_territories(
    ctx: RenderContext,
    indicator: Indicator,
    territories: list[Territory],
    *,
    period: str = "filter",
    batch: bool = True,
) -> list[tuple[Territory, Evaluator]]:
    """One :class:`Evaluator` per territory, fed by **one** query per dataset grouped by
    territory column and period (instead of one query per territory)."""
    from dataclasses import replace

    base = Evaluator(ctx, indicator, period=period, batch=batch)
    index = ctx.territories
    frames: dict[Leaf, tuple[pd.DataFrame, dict[str, str]]] = {}
    for leaf in base.leaves:
        columns = {k: v for k, v in base.columns(leaf).items() if k in ("commune", "epci")}
        if not leaf.splittable or not columns:
            continue  # asked per territory by its own evaluator
        filters = base.filters(leaf, None, where=False)
        if all(t.level != "departement" for t in territories):
            if "commune" in columns:
                codes = sorted(
                    {c for t in territories for c in ([t.code] if t.level == "commune" else index.communes_of(t.code))}
                )
                filters += (Filter(columns["commune"], "in", tuple(codes)),)
        dataset_period = base.dataset(leaf).period
        group_by = tuple(columns.values())
        if dataset_period is not None:
            group_by += (PERIOD,)
            if base.mode == "year" and ctx.year:
                filters += (
                    Filter(dataset_period.column, ">=", dt.date(ctx.year - 1, 1, 1)),
                    Filter(dataset_period.column, "<", dt.date(ctx.year + 1, 1, 1)),
                )
        frames[leaf] = (base.fetch(leaf, group_by, filters), columns)
    result = []
    for territory in territories:
        evaluator = Evaluator(
            replace(ctx, territory=territory),
            indicator,
            period=period,
            batch=batch,
            lookup=base.lookup,
        )
        for leaf, (frame, columns) in frames.items():
            if territory.level == "departement":
                rows = frame
            elif territory.level in columns:
                rows = frame[frame[columns[territory.level]].astype(str) == territory.code]
            elif territory.level == "epci":
                rows = frame[frame[columns["commune"]].astype(str).isin(index.communes_of(territory.code))]
            else:
                continue
            aliases = evaluator.aliases(leaf)
            if PERIOD in frame.columns:
                grouped = _grouped(rows, PERIOD, aliases, text=False)
                grouped.index = [as_date(v) for v in grouped.index]
                evaluator._period_frames[leaf] = grouped.sort_index()
            else:
                totals = _combine(rows, aliases)
                evaluator._period_frames[leaf] = pd.DataFrame([{aliases[a]: v for a, v in totals.items()}])
        result.append((territory, evaluator))
    return result


# --------------------------------------------------------------------------- batching


def widget_leaves(ctx: RenderContext, widget: Any) -> list[Leaf]:
    """The leaves a widget of the dashboard queries (KPI by indicator or measure, compare)."""
    registry = ctx.registry
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


def batch_leaves(ctx: RenderContext) -> list[Leaf]:
    """Every leaf queried by the KPIs of the dashboard being rendered."""
    return [leaf for widget in ctx.dashboard.widgets for leaf in widget_leaves(ctx, widget)]


__all__ = [
    "Evaluator",
    "KpiResult",
    "Comparison",
    "Window",
    "Leaf",
    "leaf_of",
    "shift",
    "truncate",
    "band_of",
    "BANDS",
    "POSITIONS",
    "refs_of",
]
