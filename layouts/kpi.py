"""KPI card: a value with its unit and its change against the same period a year earlier."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Literal

import pandas as pd
from dash import html

from pilotis.formatting import format_period, format_value
from pilotis.i18n import t
from pilotis.query import PERIOD
from pilotis.schema import DataWidgetBase
from pilotis.widgets import RenderContext, WidgetType, register_widget


class KpiConfig(DataWidgetBase):
    """A key figure."""

    type: Literal["kpi"] = "kpi"
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
    def values(cls, widget: KpiConfig, ctx: RenderContext) -> dict[str, object]:
        """Current value, comparison value and their dates (computed from one grouped query)."""
        dataset = ctx.dataset(widget.dataset)
        if dataset.period is None:
            frame, exact = ctx.query(widget, {"valeur": widget.measure})
            value = None if frame.empty else frame.iloc[0]["valeur"]
            return {"value": value, "previous": None, "date": None, "previous_date": None, "exact": exact}
        # Current year and the one before, by native period, in one pushed-down query.
        filters_year = ctx.year
        frame, exact = ctx.query(widget, {"valeur": widget.measure}, (PERIOD,), period=False)
        frame = frame.dropna(subset=["valeur"])
        if frame.empty:
            return {"value": None, "previous": None, "date": None, "previous_date": None, "exact": exact}
        frame[PERIOD] = pd.to_datetime(frame[PERIOD]).dt.date
        if widget.period == "filter" and filters_year:
            current = frame[[d.year == filters_year for d in frame[PERIOD]]]
        else:
            current = frame
        if current.empty:
            return {"value": None, "previous": None, "date": None, "previous_date": None, "exact": exact}
        last = max(current[PERIOD])
        if dataset.period.kind == "stock" or not (widget.period == "filter" and filters_year):
            value = current.loc[current[PERIOD] == last, "valeur"].sum()
            previous_date = _shift_year(last, -1)
            prev_rows = frame.loc[frame[PERIOD] == previous_date, "valeur"]
            previous = prev_rows.sum() if not prev_rows.empty else None
            if dataset.period.kind == "flow" and not filters_year:
                value = current["valeur"].sum()
                previous = None
        else:
            dates = set(current[PERIOD])
            value = current["valeur"].sum()
            shifted = {_shift_year(d, -1) for d in dates}
            prev_rows = frame[[d in shifted for d in frame[PERIOD]]]
            previous = prev_rows["valeur"].sum() if len(prev_rows) == len(dates) else None
            previous_date = _shift_year(last, -1)
        return {"value": value, "previous": previous, "date": last, "previous_date": previous_date,
                "exact": exact}

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
            children.append(html.P(t("as_of", lang, period=format_period(result["date"], grain, lang)),  # type: ignore[arg-type]
                                   className="pilotis-kpi-date small text-muted mb-1"))
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
