"""KPI card: a value with its unit and its change against the same period a year earlier."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, Literal

import pandas as pd
from dash import html

from pilotis.formatting import format_period, format_value
from pilotis.i18n import t
from pilotis.query import Filter
from pilotis.schema import DataWidgetBase
from pilotis.widgets import RenderContext, WidgetType, register_widget


class KpiConfig(DataWidgetBase):
    """A key figure."""

    type: Literal["kpi"] = "kpi"
    """Type de widget : `kpi`."""
    measure: str
    """Mesure : nom déclaré sur le jeu de données ou expression (`sum(foyers)`)."""
    unit: str = ""
    """Unité affichée après la valeur (`foyers`, `agents`)."""
    format: Literal["number", "percent", "euro"] = "number"
    """Format : `number`, `percent` (valeur entre 0 et 1) ou `euro`."""
    decimals: int = 0
    """Nombre de décimales affichées."""
    better: Literal["up", "down", "neutral"] = "neutral"
    """Sens favorable d'une hausse : `up`, `down` ou `neutral` (une hausse n'est pas toujours une bonne nouvelle)."""
    compare: Literal["previous_year", "none"] = "previous_year"
    """Comparaison affichée : même période de l'année précédente (`previous_year`) ou aucune."""


def _first(frame: pd.DataFrame, column: str) -> float | None:
    """The single value of an aggregate result (None when empty or NULL)."""
    if frame.empty or pd.isna(frame.iloc[0][column]):
        return None
    return float(frame.iloc[0][column])


def _shift_year(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@register_widget
class Kpi(WidgetType):
    """KPI card widget."""

    type_names = ("kpi",)
    Config = KpiConfig

    @classmethod
    def measures_used(cls, widget: KpiConfig) -> Iterator[tuple[tuple[str | int, ...], str]]:  # type: ignore[override]
        yield ("measure",), widget.measure

    @classmethod
    def values(cls, widget: KpiConfig, ctx: RenderContext) -> dict[str, Any]:
        """Current value, comparison value and their dates.

        Each value is the measure computed by the database over the right rows (a ratio of sums
        stays a ratio of sums): a stock at the last period of the selection and one year before;
        a flow over the selected year up to its last period, and over the same months a year before.
        """
        dataset = ctx.dataset(widget.dataset)
        measures = {"valeur": widget.measure}
        result: dict[str, Any] = {"value": None, "previous": None, "date": None, "start": None,
                                  "previous_date": None, "exact": True}
        if dataset.period is None:
            frame, result["exact"] = ctx.query(widget, measures)
            result["value"] = _first(frame, "valeur")
            return result
        column = dataset.period.column
        filters, result["exact"] = ctx.filters(widget)
        latest = ctx.latest_period(widget.dataset, filters)
        if not latest:
            return result
        last = latest[0].value
        assert isinstance(last, dt.date)
        result["date"] = result["previous_date"] = last
        if dataset.period.kind == "stock":
            frame, _ = ctx.query(widget, measures, extra=(Filter(column, "=", last),))
            result["value"] = _first(frame, "valeur")
            previous_date = _shift_year(last, -1)
            frame, _ = ctx.query(widget, measures, period=False, extra=(Filter(column, "=", previous_date),))
            result["previous"], result["previous_date"] = _first(frame, "valeur"), previous_date
            return result
        if not (widget.period == "filter" and ctx.year):
            frame, _ = ctx.query(widget, measures, period=False)
            first = ctx.data.period_bounds(widget.dataset)
            result["value"], result["start"] = _first(frame, "valeur"), first[0] if first else None
            return result
        start = dt.date(ctx.year, 1, 1)
        counted = {**measures, "periodes": f"count_distinct({column})"}
        frame, _ = ctx.query(widget, counted, extra=(Filter(column, "<=", last),))
        result["value"], result["start"] = _first(frame, "valeur"), start
        before, _ = ctx.query(widget, counted, period=False, extra=(
            Filter(column, ">=", _shift_year(start, -1)), Filter(column, "<=", _shift_year(last, -1))))
        if _first(before, "periodes") == _first(frame, "periodes"):  # compare like with like
            result["previous"], result["previous_date"] = _first(before, "valeur"), _shift_year(last, -1)
        return result

    @classmethod
    def render(cls, widget: KpiConfig, ctx: RenderContext) -> list:  # type: ignore[override]
        lang = ctx.lang
        result = cls.values(widget, ctx)
        value, previous = result["value"], result["previous"]
        grain = ctx.dataset(widget.dataset).period.grain if ctx.dataset(widget.dataset).period else "year"
        children: list = []
        if not result["exact"]:
            from layouts.common import notice

            children.append(notice(t("not_at_level", lang), "info"))
        children.append(html.P(format_value(value, widget.format, widget.decimals, widget.unit, lang),  # type: ignore[arg-type]
                               className="pilotis-kpi-value mb-1"))
        if result["date"] is not None:
            end = format_period(result["date"], grain, lang)
            label = (t("cumul", lang, start=format_period(result["start"], grain, lang), end=end)
                     if result["start"] and result["start"] != result["date"] else t("as_of", lang, period=end))
            children.append(html.P(label, className="pilotis-kpi-date small text-muted mb-1"))
        if widget.compare != "none" and previous not in (None, 0) and value is not None:
            children.append(cls.change(widget, float(value), float(previous), result["previous_date"], grain, lang))  # type: ignore[arg-type]
        return children

    @classmethod
    def change(cls, widget: KpiConfig, value: float, previous: float, previous_date: dt.date,
               grain: str, lang: str) -> html.P:
        """The change line: arrow, signed % and the meaning in words (never colour alone)."""
        delta = value - previous
        pct = delta / abs(previous)
        if abs(pct) < 0.0005:
            arrow, tone, words = "→", "neutral", t("stable", lang)
        else:
            arrow = "▲" if delta > 0 else "▼"
            good = (delta > 0) == (widget.better == "up")
            tone = "neutral" if widget.better == "neutral" else ("good" if good else "bad")
            words = {"good": t("favourable", lang), "bad": t("unfavourable", lang), "neutral": ""}[tone]
        sign = "+" if pct > 0 else ""
        pct_text = f"{sign}{format_value(pct, 'percent', 1, lang=lang)}"
        text = f"{arrow} {pct_text} {t('vs', lang)} {format_period(previous_date, grain, lang)}"
        if words:
            text += f" ({words})"
        return html.P(text, className=f"pilotis-kpi-change pilotis-{tone} small mb-0")
