"""Sortable, paged table of grouped measures (an accessible HTML table, ``layouts/html_table.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import pandas as pd
from pydantic import Field

from layouts.common import notice
from layouts.html_table import data_table
from pilotis.core.i18n import t
from pilotis.core.schema import DataWidgetBase, Strict
from pilotis.core.scope import Scope
from pilotis.core.widgets import RenderContext, WidgetType, labelled, register_widget, unit_of


class TableMeasure(Strict):
    """A measured column of a table."""

    measure: str
    """Mesure (nom déclaré ou expression)."""
    label: str
    """En-tête de colonne."""
    format: Literal["number", "percent", "euro"] = "number"
    """Format : `number`, `percent` ou `euro`."""
    decimals: int = 0
    """Décimales affichées."""


class TableConfig(DataWidgetBase):
    """A table: one row per combination of `group_by` values, one column per measure."""

    type: Literal["table"] = "table"
    """Type de widget : `table`."""
    group_by: list[str] = Field(min_length=1)
    """Colonnes qui définissent les lignes."""
    measures: list[TableMeasure] = Field(min_length=1)
    """Colonnes calculées."""
    page_size: int = Field(default=10, ge=5, le=100)
    """Lignes par page."""
    limit: int = Field(default=500, ge=1, le=5000)
    """Nombre maximal de lignes renvoyées (les plus grandes valeurs de la première mesure)."""


def add_territory_names(frame, dataset, ctx: Scope, labels: dict[str, str]):
    """Insert the commune / EPCI name after a territory code column."""
    if dataset.territory is None:
        return frame
    index = ctx.territories
    for level, names in (("commune", index.communes), ("epci", index.epcis)):
        column = getattr(dataset.territory, level)
        if column in frame.columns:
            name_column = f"{column}_nom"
            frame.insert(
                list(frame.columns).index(column) + 1, name_column, [names.get(code, "") for code in frame[column]]
            )
            labels[name_column] = t(f"level_{level}", ctx.lang).capitalize()
    return frame


@register_widget
class Table(WidgetType):
    """Table widget."""

    type_names = ("table",)
    Config = TableConfig
    projected = False  # unreadable from 5 m away: a séance shows it only when an item lists it

    @classmethod
    def columns_used(cls, widget: TableConfig) -> Iterator[tuple[tuple[str | int, ...], str]]:  # type: ignore[override]
        for index, column in enumerate(widget.group_by):
            yield ("group_by", index), column

    @classmethod
    def measures_used(cls, widget: TableConfig) -> Iterator[tuple[tuple[str | int, ...], str]]:  # type: ignore[override]
        for index, measure in enumerate(widget.measures):
            yield ("measures", index, "measure"), measure.measure

    @classmethod
    def data(cls, widget: TableConfig, scope: Scope) -> pd.DataFrame:  # type: ignore[override]
        """The rows shown: the ``group_by`` columns (as text, commune / EPCI names added after
        their codes) and one column ``m0``, ``m1``… per measure (labelled with its header)."""
        dataset = scope.dataset(widget.dataset)
        aliases = {f"m{i}": m for i, m in enumerate(widget.measures)}
        frame, exact = scope.query(
            widget,
            {a: m.measure for a, m in aliases.items()},
            tuple(widget.group_by),
            order_by=(("m0", True),),
            limit=widget.limit,
        )
        labels = {c: dataset.label(c) for c in widget.group_by}
        labels.update({a: m.label for a, m in aliases.items()})
        for column in widget.group_by:
            frame[column] = frame[column].astype(str)
        frame = add_territory_names(frame, dataset, scope, labels)
        units = {a: unit_of(m.format) for a, m in aliases.items()}
        return labelled(frame, labels, exact=exact, units=units)

    @classmethod
    def render(cls, widget: TableConfig, ctx: RenderContext):  # type: ignore[override]
        lang = ctx.lang
        frame = cls.data(widget, ctx)
        if frame.empty:
            return notice(t("no_data", lang))
        exact, labels = frame.attrs["exact"], frame.attrs["labels"]
        formats = {f"m{i}": (m.format, m.decimals) for i, m in enumerate(widget.measures)}
        table = data_table(
            frame,
            labels,
            formats,
            lang,
            widget.title or widget.id,
            page_size=widget.page_size,
            sorted_by=("m0", True),  # the query's order: largest values of the first measure first
            table_id=ctx.dashboard.dom_id(f"{widget.id}-table"),
            caption_from_yaml=bool(widget.title),
        )
        return table if exact else [notice(t("not_at_level", lang)), table]
