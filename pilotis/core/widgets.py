"""The widget extension point: a base class, the registry keyed by ``type:``, and the context
a widget receives when it renders.

Built-in widgets (``layouts/``) register through :func:`register_widget`, the same path a
third-party widget takes. A widget type validates its YAML (``Config``), checks references
to columns at load time (``check``), and renders Dash components from query results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from pilotis.core.data import DataService, year_filters
from pilotis.core.measures import Agg, Node, parse_measure
from pilotis.core.query import PERIOD, Filter, Query
from pilotis.core.schema import DatasetBase, DataWidgetBase, WidgetBase
from pilotis.core.territory import Territory, TerritoryIndex, territory_filters

if TYPE_CHECKING:
    from dash.development.base_component import Component

    from pilotis.core.registry import Dashboard, Registry

WIDGET_TYPES: dict[str, type[WidgetType]] = {}
"""Registered widget types, keyed by YAML ``type:`` (filled at import time only)."""


def register_widget(cls: type[WidgetType]) -> type[WidgetType]:
    """Class decorator: make a widget type available as ``type: <name>`` (one or several names)."""
    for name in cls.type_names:
        WIDGET_TYPES[name] = cls
    return cls


@dataclass
class CheckContext:
    """What a widget's load-time check can look at."""

    datasets: dict[str, DatasetBase]
    columns: dict[str, set[str]]
    module: Any
    problems: list[tuple[tuple[str | int, ...], str, str]] = field(default_factory=list)
    module_failed: bool = False
    """True when the dashboard's callbacks module exists but could not be imported (already reported)."""
    indicators: dict[str, Any] = field(default_factory=dict)
    """Valid indicators (``config/indicators/``) by id (:class:`pilotis.core.indicators.Indicator`)."""
    failed_indicators: set[str] = field(default_factory=set)
    """Indicators declared but invalid (already reported: their users are not reported again)."""

    def problem(self, loc: tuple[str | int, ...], message: str, hint: str = "") -> None:
        """Record a problem at ``loc`` (relative to the widget)."""
        self.problems.append((loc, message, hint))


@dataclass
class RenderContext:
    """What a widget sees when it renders: the filters chosen, the data, the language."""

    registry: Registry
    dashboard: Dashboard
    data: DataService
    territories: TerritoryIndex
    territory: Territory
    year: int | None
    lang: str = "fr"
    row_filters: Callable[[str], tuple[Filter, ...]] = lambda dataset: ()
    """Row-level rules of the user (``access.row_filters``), added to every query of a dataset."""
    scope: Territory | None = None
    """The territory the user is restricted to (None: every row). With a scope, even a
    ``territory: all`` query only covers it: never label such a figure « département »."""
    principal: Any = None
    """Who is asking (:class:`pilotis.core.access.Principal`): for links to pages they may open."""
    controls: dict[str, Any] = field(default_factory=dict)
    """Values of the widget's own controls (:meth:`WidgetType.inputs`), by name."""

    def dataset(self, dataset_id: str) -> DatasetBase:
        """The configuration of a dataset."""
        return self.registry.datasets[dataset_id].config

    def measure(self, dataset_id: str, text: str) -> Node:
        """A measure by name (declared on the dataset) or by expression."""
        named = self.dataset(dataset_id).measures.get(text)
        return parse_measure(named or text)

    def filters(self, widget: DataWidgetBase, *, period: bool = True) -> tuple[tuple[Filter, ...], bool]:
        """Territory, period, fixed and row-level filters for ``widget``'s dataset.

        Returns the filters and whether the data could be cut at the chosen territory level.
        """
        dataset = self.dataset(widget.dataset)
        result: list[Filter] = list(self.row_filters(widget.dataset))
        exact = True
        if widget.territory == "filter":
            extra, exact = territory_filters(dataset, self.territory, self.territories)
            result.extend(extra)
        if period and widget.period == "filter" and self.year and dataset.period:
            result.extend(year_filters(dataset.period.column, self.year))
        for column, value in widget.where.items():
            if isinstance(value, list):
                result.append(Filter(column, "in", tuple(value)))
            else:
                result.append(Filter(column, "=", value))
        return tuple(result), exact

    def query(
        self,
        widget: DataWidgetBase,
        measures: dict[str, str],
        group_by: tuple[str, ...] = (),
        *,
        period: bool = True,
        extra: tuple[Filter, ...] = (),
        **options: Any,
    ) -> tuple[pd.DataFrame, bool]:
        """Run an aggregate on the widget's dataset with all its filters (and ``extra``) applied."""
        dataset = self.dataset(widget.dataset)
        filters, exact = self.filters(widget, period=period)
        filters += extra
        if dataset.period and dataset.period.kind == "stock":
            if PERIOD not in group_by and dataset.period.column not in group_by:
                filters += self.latest_period(widget.dataset, filters)
            elif PERIOD in group_by and _coarser(options.get("grain"), dataset.period.grain):
                filters += self.last_periods(widget.dataset, filters, options["grain"])
        query = Query(
            dataset=widget.dataset,
            measures=tuple((alias, self.measure(widget.dataset, text)) for alias, text in measures.items()),
            group_by=group_by,
            filters=filters,
            period_column=dataset.period.column if dataset.period else None,
            period_grain=options.pop("grain", dataset.period.grain if dataset.period else None),
            native_grain=dataset.period.grain if dataset.period else None,
            **options,
        )
        return self.data.query(query), exact

    def latest_period(self, dataset_id: str, filters: tuple[Filter, ...]) -> tuple[Filter, ...]:
        """A stock (a headcount) is read at the last period of the selection, never summed over time."""
        column = self.dataset(dataset_id).period.column  # type: ignore[union-attr]
        frame = self.data.query(Query(dataset=dataset_id, measures=(("fin", Agg("max", column)),), filters=filters))
        if frame.empty or pd.isna(frame.iloc[0]["fin"]):
            return ()
        return (Filter(column, "=", pd.Timestamp(frame.iloc[0]["fin"]).date()),)

    def last_periods(self, dataset_id: str, filters: tuple[Filter, ...], grain: str) -> tuple[Filter, ...]:
        """A stock grouped by a coarser grain (months shown by year) is read at the last native
        period of each group (December, or the last month available), never summed."""
        period = self.dataset(dataset_id).period
        assert period is not None
        frame = self.data.query(
            Query(
                dataset=dataset_id,
                measures=(("fin", Agg("max", period.column)),),
                group_by=(PERIOD,),
                filters=filters,
                period_column=period.column,
                period_grain=grain,
                native_grain=period.grain,
            )
        )
        ends = tuple(pd.Timestamp(v).date() for v in frame["fin"].dropna())
        return (Filter(period.column, "in", ends),) if ends else ()

    def territory_name(self) -> str:
        """The name of the chosen territory."""
        return self.territories.name(self.territory)


_GRAINS = ("day", "month", "quarter", "year")


def _coarser(grain: str | None, native: str) -> bool:
    """True when ``grain`` groups several periods of the ``native`` grain."""
    return grain in _GRAINS and native in _GRAINS and _GRAINS.index(grain) > _GRAINS.index(native)


class WidgetType:
    """Base of every widget type. Subclasses set ``type_names`` and ``Config``."""

    type_names: ClassVar[tuple[str, ...]]
    Config: ClassVar[type[WidgetBase]]

    @classmethod
    def columns_used(cls, widget: WidgetBase) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """(location, column) pairs that must exist in the widget's dataset."""
        return iter(())

    @classmethod
    def measures_used(cls, widget: WidgetBase) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """(location, measure text) pairs to parse and check."""
        return iter(())

    @classmethod
    def check(cls, widget: WidgetBase, ctx: CheckContext) -> None:
        """Extra load-time checks (beyond columns and measures)."""

    @classmethod
    def bind(cls, widget: WidgetBase, ctx: CheckContext) -> WidgetBase | None:
        """The widget completed from what it references (a KPI from its indicator), before it is
        checked; None when a reference is unknown (reported through ``ctx.problem``)."""
        return widget

    @classmethod
    def indicators_used(cls, widget: WidgetBase) -> tuple[str, ...]:
        """Ids of the indicators the widget shows (access: a synthesis dashboard shows a widget
        only to people who may see all of them)."""
        return ()

    @classmethod
    def inputs(cls, widget: WidgetBase) -> tuple[tuple[str, str], ...]:
        """The widget's own controls, as ``(name, property)``: component ``<dashboard>--<widget
        id>-<name>``, drawn by :meth:`controls`; their values reach ``RenderContext.controls``."""
        return ()

    @classmethod
    def controls(cls, widget: WidgetBase, dom_id: Callable[[str], str], options: Any, lang: str) -> Component | None:
        """The components of :meth:`inputs` (above the widget's content); ``dom_id(name)`` gives
        their ids, ``options`` is what the page offers the user (territory choices…)."""
        return None

    @classmethod
    def render(cls, widget: WidgetBase, ctx: RenderContext) -> Component | list[Component]:
        """The widget's content for the current filters."""
        raise NotImplementedError

    @classmethod
    def is_static(cls, widget: WidgetBase) -> bool:
        """True when the content does not depend on filters (rendered once, no callback)."""
        return False
