"""Line, bar, stacked bar, area and pie charts of one measure."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import pandas as pd

from layouts.common import (
    accessible_graph,
    data_details,
    notice,
    period_labels,
    plain_figure,
    wrap_labels,
)
from pilotis.core.i18n import t
from pilotis.core.query import PERIOD
from pilotis.core.schema import DataWidgetBase
from pilotis.core.scope import Scope
from pilotis.core.secrecy import label_of
from pilotis.core.widgets import RenderContext, WidgetType, labelled, register_widget, unit_of


class ChartConfig(DataWidgetBase):
    """A chart of one measure along an axis, optionally split into series."""

    type: Literal["line", "bar", "stacked_bar", "area", "pie"]
    """Type de widget : `line`, `bar`, `stacked_bar`, `area` ou `pie`."""
    measure: str
    """Mesure : nom déclaré sur le jeu de données ou expression (`sum(montant)`)."""
    x: str = PERIOD
    """Axe des abscisses (ou secteurs d'un camembert) : `periode` (la période) ou une colonne."""
    color: str | None = None
    """Colonne qui découpe la mesure en séries (une couleur par valeur)."""
    grain: Literal["month", "quarter", "year"] | None = None
    """Regrouper les périodes par mois, trimestre ou année (par défaut : la granularité des données)."""
    horizontal: bool = False
    """Barres horizontales (pratique pour des libellés longs)."""
    limit: int | None = None
    """Garder les N plus grandes valeurs (barres et camemberts)."""
    format: Literal["number", "percent", "euro"] = "number"
    """Format des valeurs dans le tableau de données."""
    decimals: int = 0
    """Décimales dans le tableau de données."""
    y_title: str = ""
    """Titre de l'axe des valeurs."""


def territory_names(
    frame: pd.DataFrame,
    dataset,
    ctx: Scope,
    columns: tuple[str | None, ...],
) -> pd.DataFrame:
    """Commune / EPCI names instead of their codes on an axis or in a legend."""
    if dataset.territory is None:
        return frame
    index = ctx.territories
    for level, names in (("commune", index.communes), ("epci", index.epcis)):
        column = getattr(dataset.territory, level)
        if column and column in columns and column in frame.columns:
            frame[column] = [names.get(str(code), str(code)) for code in frame[column]]
    return frame


@register_widget
class Chart(WidgetType):
    """Chart widget (``line``, ``bar``, ``stacked_bar``, ``area``, ``pie``)."""

    type_names = ("line", "bar", "stacked_bar", "area", "pie")
    Config = ChartConfig
    graph = True

    @classmethod
    def columns_used(cls, widget: ChartConfig) -> Iterator[tuple[tuple[str | int, ...], str]]:  # type: ignore[override]
        if widget.x != PERIOD:
            yield ("x",), widget.x
        if widget.color:
            yield ("color",), widget.color

    @classmethod
    def measures_used(cls, widget: ChartConfig) -> Iterator[tuple[tuple[str | int, ...], str]]:  # type: ignore[override]
        yield ("measure",), widget.measure

    @classmethod
    def check(cls, widget: ChartConfig, ctx) -> None:  # type: ignore[override]
        dataset = ctx.datasets.get(widget.dataset)
        if dataset is not None and widget.x == PERIOD and dataset.period is None:
            ctx.problem(
                ("x",),
                f"le jeu de données `{widget.dataset}` n'a pas de période",
                "choisissez une colonne pour `x` ou déclarez `period` sur le jeu de données",
            )

    @classmethod
    def data(cls, widget: ChartConfig, scope: Scope) -> pd.DataFrame:  # type: ignore[override]
        """The points drawn: the axis (``periode`` or the ``x`` column, names instead of codes),
        the series column if any, and ``valeur``; sorted as drawn."""
        dataset = scope.dataset(widget.dataset)
        group = (widget.x,) + ((widget.color,) if widget.color else ())
        options: dict = {}
        if widget.grain:
            options["grain"] = widget.grain
        if widget.x != PERIOD:
            options["order_by"] = (("valeur", True),)
            if widget.limit and not widget.color:
                options["limit"] = widget.limit
        frame, exact = scope.query(widget, {"valeur": widget.measure}, group, **options)
        if widget.x == PERIOD and not frame.empty:
            frame = frame.sort_values([PERIOD, *([widget.color] if widget.color else [])])
        frame = territory_names(frame, dataset, scope, (widget.x, widget.color))
        labels = {PERIOD: "Période" if scope.lang == "fr" else "Period", "valeur": widget.title or "Valeur"}
        labels.update({c: dataset.label(c) for c in frame.columns if c not in labels})
        return labelled(frame, labels, exact=exact, units={"valeur": unit_of(widget.format)})

    @classmethod
    def render(cls, widget: ChartConfig, ctx: RenderContext):  # type: ignore[override]
        lang = ctx.lang
        dataset = ctx.dataset(widget.dataset)
        frame = cls.data(widget, ctx)
        if frame.empty:
            return notice(t("no_data", lang))
        exact, labels = frame.attrs["exact"], frame.attrs["labels"]
        grain = widget.grain or (dataset.period.grain if dataset.period else "year")
        figure = cls.figure(widget, frame, grain, lang, ctx)
        details = data_details(
            frame,
            labels,
            {"valeur": (widget.format, widget.decimals)},
            lang,
            caption=widget.title,
            grain=grain,
            caption_from_yaml=True,
        )
        label = t("chart_of", lang, title=widget.title or widget.id)
        if widget.description:
            label += f" — {widget.description}"
        secret = label_of(frame)  # statistical secrecy: masked points are gaps, said under the chart
        note = t("secret_note", lang, label=secret) if secret else ""
        graph = accessible_graph(figure, label, details, lang, note=note)
        return graph if exact else [notice(t("not_at_level", lang)), graph]

    @classmethod
    def figure(cls, widget: ChartConfig, frame: pd.DataFrame, grain: str, lang: str, ctx: RenderContext) -> dict:
        """The plotly figure (aggregated data only: a few kB), as plain values (:func:`plain_figure`)."""
        is_period = widget.x == PERIOD
        xs = (lambda part: pd.to_datetime(part[PERIOD])) if is_period else (lambda part: part[widget.x])
        if widget.type == "pie":
            pie = {
                "type": "pie",
                "labels": frame[widget.x],
                "values": frame["valeur"],
                "hole": 0.45,
                "sort": False,
                "textinfo": "percent",
                "direction": "clockwise",
            }
            return plain_figure([pie], {}, lang)
        traces = []
        series = [(None, frame)] if not widget.color else list(frame.groupby(widget.color, sort=True))
        for name, part in series:
            x, y = xs(part), part["valeur"]
            if widget.horizontal and widget.type in ("bar", "stacked_bar"):
                x, y = y, x
            hover_x = period_labels(part[PERIOD], grain, lang) if is_period else None
            value = f"%{{y:.{widget.decimals}%}}" if widget.format == "percent" else "%{y}"
            template = f"%{{customdata}}<br>{value}<extra>%{{fullData.name}}</extra>" if is_period else None
            trace = {"x": x, "y": y, "hovertemplate": template}
            if widget.type in ("bar", "stacked_bar"):
                trace.update(type="bar", orientation="h" if widget.horizontal else "v")
            else:
                mode = "lines+markers" if len(part) < 40 else "lines"
                trace.update(type="scatter", mode=mode, stackgroup="one" if widget.type == "area" else None)
            name = str(name) if name is not None else widget.title
            traces.append({**trace, "name": name, "customdata": hover_x})
        value_axis: dict = {
            "rangemode": "tozero",
            "tickformat": ".0%" if widget.format == "percent" else None,
            "separatethousands": True,  # « 4 000 » on the value axis (x for horizontal bars)
        }
        if widget.y_title is not None:
            value_axis["title"] = {"text": widget.y_title}
        # A rate reads "25 %" on its axis, not "0,25" (plotly's d3 format; French separators apply).
        layout: dict = {"barmode": "stack" if widget.type == "stacked_bar" else "group", "xaxis": {}, "yaxis": {}}
        if is_period:
            layout["xaxis"]["tickformat"] = {"year": "%Y", "quarter": "%b %Y", "month": "%b %Y"}.get(grain, "%d/%m/%Y")
        layout["xaxis" if widget.horizontal else "yaxis"].update(value_axis)
        height = 320
        if widget.horizontal:
            layout["yaxis"]["autorange"] = "reversed"
            if not is_period:
                # Long names wrapped on the axis only (the data keeps them whole), each bar tall
                # enough for its label: on a phone the bars keep some room.
                names = list(dict.fromkeys(v for trace in traces for v in trace["y"]))
                shown = wrap_labels(names)
                if shown != names:
                    layout["yaxis"].update(tickmode="array", tickvals=names, ticktext=shown)
                lines = max(str(label).count("<br>") + 1 for label in shown) if shown else 1
                height = max(height, 40 + len(names) * (18 + 16 * lines))
        return plain_figure(traces, layout, lang, legend=bool(widget.color), height=height)
