"""The value of an indicator for a :class:`~pilotis.core.scope.Scope`, over time.

Everything is asked to the database as a few **grouped** aggregate queries, never as a loop over
rows in Python: one query per dataset grouped by **period** (for the chosen territory) gives the
current value, the previous period, the same period a year earlier and the sparkline (on the
partial aggregates of :mod:`pilotis.core.partials`). The territorial positions
(:mod:`pilotis.core.positions`), targets and thresholds (:mod:`pilotis.core.targets`) and the
whole card (:mod:`pilotis.core.results`) are computed on the same evaluator.

The evaluator needs a Scope only (alerts and the JSON API build one without any dashboard); a
page may hand in a :class:`~pilotis.core.partials.Page` so that its KPIs share their queries.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import Any, Literal

import pandas as pd

from pilotis.core.indicators import Indicator, evaluate, leaves
from pilotis.core.measures import Agg, Node
from pilotis.core.partials import Leaf, Page, combine, leaf_of, measure_value, number, regroup, territory_columns
from pilotis.core.positions import Positions
from pilotis.core.query import PERIOD, Filter, Query
from pilotis.core.results import Comparison, KpiResult, kpi_result
from pilotis.core.schema import DatasetBase
from pilotis.core.scope import Scope, where_filters
from pilotis.core.secrecy import any_masked
from pilotis.core.targets import Targets
from pilotis.core.territory import Territory
from pilotis.core.windows import PER_YEAR, Window, as_dates, truncate

Mode = Literal["year", "latest", "all", "none"]


class Evaluator:
    """Values of one indicator for one :class:`~pilotis.core.scope.Scope` (territory and period
    chosen, access rules).

    ``territory_all``: ignore the territory chosen (the widget says `territory: all`).
    ``period``: `filter` (the year of the scope; without one, every period when
    ``scope.all_years``, else the latest year), `latest` or `all` (cumulated over every period).
    ``page``: the other KPIs drawn with this one (:class:`~pilotis.core.partials.Page`), whose
    queries this one shares; ``batch=False`` turns the sharing off (only to measure what it saves).
    """

    def __init__(
        self,
        scope: Scope,
        indicator: Indicator,
        *,
        territory_all: bool = False,
        period: str = "filter",
        extra_where: dict[str, Any] | None = None,
        batch: bool = True,
        page: Page | None = None,
        lookup: Callable[[str], Indicator] | None = None,
    ) -> None:
        self.scope = scope
        self.indicator = indicator
        self.lookup = lookup or scope.registry.indicators.__getitem__
        self.territory_all = territory_all
        self.extra_where = extra_where or {}
        self.batch = batch
        self.page = page or Page()
        self.sparkline_length = 0
        """Periods of the sparkline asked of this evaluation (:meth:`result`)."""
        self.leaves = [leaf_of(i, self.extra_where if i is indicator else None) for i in leaves(indicator, self.lookup)]
        periodic = [leaf for leaf in self.leaves if self.dataset(leaf).period is not None]
        self.anchor = periodic[0] if periodic else None
        self._by_id = {leaf.indicator.id: leaf for leaf in self.leaves}
        self.mode: Mode = self._mode(period)
        # Per evaluation (one widget for one principal, one request), never shared between users.
        self._period_frames: dict[Leaf, pd.DataFrame] = {}
        self._window: Window | None | bool = False
        self._aliases: dict[Leaf, dict[Agg, str]] = {}
        self._batches: dict[Leaf, list[Leaf]] = {}
        self._periods: dict[Leaf, list[dt.date]] = {}
        self._values: dict[tuple[Leaf, Window | None], float | None] = {}
        self.exact = True
        self.masked_windows: set[Window | None] = set()  # values masked by statistical secrecy

    # ------------------------------------------------------------------ basics
    def dataset(self, leaf: Leaf) -> DatasetBase:
        return self.scope.dataset(leaf.dataset)

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
        if self.scope.year:
            return "year"
        return "all" if self.scope.all_years else "latest"

    def filters(self, leaf: Leaf, territory: Territory | None, *, where: bool = True) -> tuple[Filter, ...]:
        """Access rules, territory (None: every territory) and fixed filters of ``leaf``
        (``where=False``: without them, for a batched query), built by the scope."""
        if territory is not None and self.territory_all:
            # `territory: all` is the collectivité's whole territory, not every département of a
            # national file (DREES, ARCEP publish them all)
            territory = Territory("departement", self.scope.territories.departement_code)
        found, exact = self.scope.dataset_filters(leaf.dataset, territory=territory, where=leaf.where if where else ())
        if not self.territory_all:
            self.exact = self.exact and exact
        return found

    def batch_of(self, leaf: Leaf) -> list[Leaf]:
        """The splittable leaves of the page answered by the same queries as ``leaf``."""
        if leaf not in self._batches:  # the page's leaves are fixed: scanned once per leaf
            shared = self.batch and leaf.splittable
            others = [o for o in self.page.leaves if o.key == leaf.key and o.splittable] if shared else []
            self._batches[leaf] = [leaf, *(o for o in others if o != leaf)]
        return self._batches[leaf]

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
            return self.run(leaf, self.measures(leaf), group_by, filters + where_filters(leaf.where))
        shared: list[Filter] = []  # a condition every leaf of the batch has: the union of values
        for column in columns:
            values = [dict(other.where).get(column) for other in batch]
            if all(v is not None for v in values):
                flat = sorted({x for v in values for x in (v if isinstance(v, tuple) else (v,))}, key=str)
                shared.append(Filter(column, "in", tuple(flat)))
        frame = self.run(leaf, self.measures(leaf), group_by + tuple(columns), filters + tuple(shared))
        return regroup(frame[leaf.matches(frame)], group_by, self.aliases(leaf))

    def run(
        self,
        leaf: Leaf,
        measures: tuple[tuple[str, Node], ...],
        group_by: tuple[str, ...],
        filters: tuple[Filter, ...],
    ) -> pd.DataFrame:
        period = self.dataset(leaf).period
        frame = self.scope.data.query(
            Query(
                dataset=leaf.dataset,
                measures=measures,
                group_by=group_by,
                filters=filters,
                period_column=period.column if period else None,
                period_grain=period.grain if period else None,
                native_grain=period.grain if period else None,
                unmasked=self.scope.unmasked(leaf.dataset),
            )
        )
        frame.attrs = {}  # read by nothing here (freshness: observed); pandas copies them into all it derives
        return frame

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
        filters = self.filters(leaf, self.scope.territory, where=not leaf.splittable)
        fetch = self.fetch if leaf.splittable else (lambda lf, by, flt: self.run(lf, self.measures(lf), by, flt))
        period = self.dataset(leaf).period
        if period is None:
            frame = fetch(leaf, (), filters)
        else:
            if self.mode == "year" and self.scope.year:
                first = dt.date(self.scope.year - self.span_years(period.grain), 1, 1)
                filters += (
                    Filter(period.column, ">=", first),
                    Filter(period.column, "<", dt.date(self.scope.year + 1, 1, 1)),
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
        longest sparkline of the page needs (the same for all its KPIs: shared queries)."""
        longest = max(self.page.sparkline, self.sparkline_length)
        return max(1, -(-longest // PER_YEAR.get(grain, 12)))

    def window(self) -> Window | None:
        """The current window: the last period of the selection (and its first, for flows)."""
        if self._window is not False:
            return self._window  # type: ignore[return-value]
        window: Window | None = None
        if self.anchor is not None:
            periods = self.periods(self.anchor)
            if self.mode == "year" and self.scope.year:
                periods = [p for p in periods if p.year == self.scope.year]
            elif self.mode == "latest" and periods:
                periods = [p for p in periods if p.year == periods[-1].year]
            if periods:
                start: dt.date | None = None
                if self.kind(self.anchor) == "flow":
                    start = dt.date(periods[-1].year, 1, 1) if self.mode in ("year", "latest") else periods[0]
                window = Window(periods[-1], start)
        self._window = window
        return window

    def periods(self, leaf: Leaf) -> list[dt.date]:
        """The periods of ``leaf``'s :meth:`period_frame` (its index, sorted), as a list."""
        if leaf not in self._periods:
            self._periods[leaf] = list(self.period_frame(leaf).index)
        return self._periods[leaf]

    def periods_in(self, leaf: Leaf, window: Window) -> pd.DataFrame:
        """The rows of ``leaf``'s :meth:`period_frame` in ``window`` (stock: its last period): one
        slice of the sorted index, found by bisection."""
        periods, grain = self.periods(leaf), self.grain(leaf)
        end = truncate(window.end, grain)
        if self.kind(leaf) == "stock":
            first = bisect_left(periods, end)
        else:
            first = bisect_left(periods, truncate(window.start, grain)) if window.start else 0
        return self.period_frame(leaf).iloc[first : bisect_right(periods, end)]

    def leaf_value(self, leaf: Leaf, window: Window | None) -> float | None:
        """``leaf``'s value over ``window`` for the selected territory (once per window)."""
        key = (leaf, window)
        if key not in self._values:
            self._values[key] = self._leaf_value(leaf, window)
        return self._values[key]

    def _leaf_value(self, leaf: Leaf, window: Window | None) -> float | None:
        if self.dataset(leaf).period is None:  # a reference table (populations): one row
            frame = self.period_frame(leaf)
            if frame.empty:
                return None
            if leaf.splittable:
                totals = combine(frame, self.aliases(leaf))
                return number(measure_value(leaf.node, lambda a: totals[a]))
            return number(frame.iloc[0]["m"])
        if window is None:
            return None
        rows = self.periods_in(leaf, window)
        if rows.empty:
            return None
        if any_masked(rows):  # statistical secrecy: the window's own total, masked by its own count
            direct = self._direct(leaf, window)
            if direct.empty or any_masked(direct):
                self.masked_windows.add(window)
                return None
            return number(direct.iloc[0]["m"])
        if leaf.splittable:
            totals = combine(rows, self.aliases(leaf))
            return number(measure_value(leaf.node, lambda a: totals[a]))
        if self.kind(leaf) == "stock":
            return number(rows.iloc[0]["m"])
        return number(self._direct(leaf, window).iloc[0]["m"])

    def _direct(
        self,
        leaf: Leaf,
        window: Window | None,
        territory: Territory | None = None,
        extra: tuple[Filter, ...] = (),
    ) -> pd.DataFrame:
        """One aggregate of a measure that does not split (``avg``, ``count_distinct``)."""
        base = self.filters(leaf, territory if territory is not None else self.scope.territory)
        return self.run(leaf, (("m", leaf.node),), (), base + self.window_filters(leaf, window) + extra)

    def value(self, window: Window | None) -> float | None:
        """The indicator's value over ``window`` for the selected territory."""
        return self.formula(lambda leaf: self.leaf_value(leaf, window))

    def formula(self, leaf_value: Callable[[Leaf], Any], indicator: Indicator | None = None) -> Any:
        indicator = indicator or self.indicator
        by_id = self._by_id
        if indicator.formula is None:
            return leaf_value(by_id[indicator.id] if indicator.id in by_id else self.leaves[0])

        def value_of(ref: str) -> Any:
            target = self.lookup(ref)
            if target.formula is not None:
                return self.formula(leaf_value, target)
            return leaf_value(by_id[ref])

        result = evaluate(indicator.formula, value_of)
        return result if isinstance(result, pd.Series) else number(result)

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

        result = self.formula(leaf_series)
        if not isinstance(result, pd.Series):
            return pd.Series(dtype=float)
        return result.astype(float)

    # ------------------------------------------------------------------ territories, targets, card
    def columns(self, leaf: Leaf) -> dict[str, str]:
        """Territory columns of ``leaf``'s dataset by level (`commune`, `epci`, `departement`)."""
        return territory_columns(self.dataset(leaf))

    @cached_property
    def positions(self) -> Positions:
        """Département, EPCI, comparable communes and rank (:mod:`pilotis.core.positions`)."""
        return Positions(self)

    @cached_property
    def targets(self) -> Targets:
        """Target and thresholds (:mod:`pilotis.core.targets`)."""
        return Targets(self)

    def result(self, compare: Iterable[Any], sparkline: int | None = None) -> KpiResult:
        """Value, comparisons, sparkline and status for a KPI card (:func:`pilotis.core.results.kpi_result`)."""
        return kpi_result(self, compare, sparkline)
