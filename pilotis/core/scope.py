"""What a figure is computed for, without drawing it: the ONE place query filters are built.

A :class:`Scope` holds the loaded configuration, the data service, the territory reference, the
territory and period chosen, the viewer's row rules (:func:`pilotis.core.access.row_filters`) and
territory restriction, the principal and the language. A widget's rendering
(:class:`pilotis.core.widgets.RenderContext` is a Scope plus its dashboard), a widget's data
(``WidgetType.data``), an indicator's evaluation (:mod:`pilotis.core.evaluator`), and later the
alerts and the JSON API all build their filters here, so the row rules of a user are in every
query (hence in every cache key) the same way whatever asks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

import pandas as pd

from pilotis.core.access import Principal, clamp_territory, row_filters, territory_scope
from pilotis.core.data import DataService, year_filters
from pilotis.core.measures import Agg, Node, parse_measure
from pilotis.core.partials import Page
from pilotis.core.query import PERIOD, Filter, Query
from pilotis.core.schema import DatasetBase, DataWidgetBase
from pilotis.core.secrecy import is_exempt
from pilotis.core.territory import Territory, TerritoryIndex, territory_filters

if TYPE_CHECKING:
    from pilotis.core.registry import Registry


def no_rules(dataset_id: str) -> tuple[Filter, ...]:
    """No row-level rule (a viewer who sees every row)."""
    return ()


def where_filters(where: Iterable[tuple[str, Any]]) -> tuple[Filter, ...]:
    """Fixed conditions (``where:`` of a widget or an indicator): a list or tuple is « one of »."""
    return tuple(
        Filter(column, "in", tuple(value)) if isinstance(value, list | tuple) else Filter(column, "=", value)
        for column, value in where
    )


@dataclass(kw_only=True)
class Scope:
    """Everything a figure depends on besides its own definition (see the module docstring)."""

    registry: Registry
    data: DataService
    territories: TerritoryIndex
    territory: Territory
    """The territory chosen (already clamped to ``restriction``)."""
    year: int | None
    """The year chosen; None: see ``all_years``."""
    all_years: bool = False
    """What ``year=None`` means: every period (« toute la période » chosen on a page with a
    period filter), or — False — the latest period of the data."""
    lang: str = "fr"
    row_filters: Callable[[str], tuple[Filter, ...]] = no_rules
    """Row-level rules of the viewer (``access.row_filters``), added to every query of a dataset;
    raises :class:`~pilotis.core.access.RowsDenied` for a dataset that cannot be restricted."""
    scope: Territory | None = None
    """The territory the viewer is restricted to (None: every row). With it, even a ``territory:
    all`` query only covers it: never label such a figure « département »."""
    principal: Any = None
    """Who is asking (:class:`pilotis.core.access.Principal`): for links to pages they may open."""
    controls: dict[str, Any] = field(default_factory=dict)
    """Values of a widget's own controls (:meth:`WidgetType.inputs`), by name."""

    @classmethod
    def for_principal(
        cls,
        registry: Registry,
        data: DataService,
        territories: TerritoryIndex,
        principal: Principal | None,
        territory: Territory,
        year: int | None,
        **options: Any,
    ) -> Self:
        """The scope of ``principal``: the territory clamped to their restriction and their
        row-level rules (:func:`pilotis.core.access.row_filters`) on every query. The caller
        decided first that they may see what is computed (``access.can_view…``)."""
        restriction = territory_scope(principal, territories)

        def rules(dataset_id: str) -> tuple[Filter, ...]:
            return row_filters(principal, registry.datasets[dataset_id].config, territories, dataset_id)

        return cls(
            registry=registry,
            data=data,
            territories=territories,
            territory=clamp_territory(restriction, territory, territories),
            year=year,
            row_filters=rules,
            scope=restriction,
            principal=principal,
            **options,
        )

    # ------------------------------------------------------------------ configuration
    def dataset(self, dataset_id: str) -> DatasetBase:
        """The configuration of a dataset."""
        return self.registry.datasets[dataset_id].config

    def measure(self, dataset_id: str, text: str) -> Node:
        """A measure by name (declared on the dataset) or by expression."""
        named = self.dataset(dataset_id).measures.get(text)
        return parse_measure(named or text)

    def page(self) -> Page:
        """The other KPIs computed with this scope's figures, whose queries they share: none for a
        bare scope (a :class:`~pilotis.core.widgets.RenderContext` answers its dashboard's)."""
        return Page()

    def unmasked(self, dataset_id: str) -> bool:
        """True when the viewer may see exact small counts of a dataset under statistical secrecy
        (a role its rule exempts); every query built here carries it (:mod:`pilotis.core.secrecy`)."""
        return is_exempt(self.dataset(dataset_id), self.principal)

    def territory_name(self) -> str:
        """The name of the chosen territory."""
        return self.territories.name(self.territory)

    # ------------------------------------------------------------------ THE filter builder
    def dataset_filters(
        self,
        dataset_id: str,
        *,
        territory: Territory | None,
        year: int | None = None,
        where: Iterable[tuple[str, Any]] = (),
    ) -> tuple[tuple[Filter, ...], bool]:
        """Row rules of the viewer, then ``territory`` (None: no territory condition), ``year``
        (when the dataset has a period) and fixed conditions, for one dataset.

        Returns the filters and whether the data could be cut at ``territory``'s level.
        """
        dataset = self.dataset(dataset_id)
        result: list[Filter] = list(self.row_filters(dataset_id))
        exact = True
        if territory is not None:
            extra, exact = territory_filters(dataset, territory, self.territories)
            result.extend(extra)
        if year and dataset.period:
            result.extend(year_filters(dataset.period.column, year))
        result.extend(where_filters(where))
        return tuple(result), exact

    def filters(self, widget: DataWidgetBase, *, period: bool = True) -> tuple[tuple[Filter, ...], bool]:
        """Territory, period, fixed and row-level filters for ``widget``'s dataset
        (``territory: all`` / ``period: all`` widgets ignore the chosen territory / year)."""
        return self.dataset_filters(
            widget.dataset,
            territory=self.territory if widget.territory == "filter" else None,
            year=self.year if period and widget.period == "filter" else None,
            where=widget.where.items(),
        )

    # ------------------------------------------------------------------ queries
    def rows(self, dataset_id: str, columns: Iterable[str], limit: int = 10) -> pd.DataFrame:
        """The first ``limit`` rows of a dataset as they are stored (the catalogue's preview),
        with the viewer's row rules; raises :class:`~pilotis.core.access.RowsDenied` like any query."""
        filters, _ = self.dataset_filters(dataset_id, territory=None)
        query = Query(
            dataset=dataset_id,
            measures=(),
            raw_columns=tuple(columns),
            filters=filters,
            limit=limit,
            unmasked=self.unmasked(dataset_id),
        )
        return self.data.query(query)

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
            unmasked=self.unmasked(widget.dataset),
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


_GRAINS = ("day", "month", "quarter", "year")


def _coarser(grain: str | None, native: str) -> bool:
    """True when ``grain`` groups several periods of the ``native`` grain."""
    return grain in _GRAINS and native in _GRAINS and _GRAINS.index(grain) > _GRAINS.index(native)
