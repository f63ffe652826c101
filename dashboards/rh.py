"""Callbacks of the HR dashboard: the absenteeism rate, which the YAML cannot express.

Taux d'absentéisme = jours d'absence / (ETP × jours ouvrés). The denominator is computed month by
month (each month's FTE times that month's working days: Monday to Friday, French public holidays
excluded), then summed: a ratio of sums over the selection, never an average of monthly rates.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import html
from dateutil.easter import easter

from layouts.common import notice
from layouts.custom import CustomConfig
from pilotis.core.formatting import format_period, format_value
from pilotis.core.i18n import t
from pilotis.core.query import PERIOD
from pilotis.core.widgets import RenderContext


@cache
def jours_feries(year: int) -> tuple[dt.date, ...]:
    """French (metropolitan) public holidays of ``year``."""
    paques = easter(year)
    fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    moving = [paques + dt.timedelta(days=n) for n in (1, 39, 50)]  # lundi de Pâques, Ascension, Pentecôte
    return tuple(sorted([dt.date(year, m, d) for m, d in fixed] + moving))


def jours_ouvres(month: dt.date) -> int:
    """Working days (Monday to Friday, public holidays excluded) of the month ``month``."""
    end = (pd.Timestamp(month) + pd.offsets.MonthBegin(1)).date()
    return int(np.busday_count(month, end, holidays=list(jours_feries(month.year))))


def absences_par_mois(widget: CustomConfig, ctx: RenderContext, *, period: bool = True) -> pd.DataFrame:
    """Absence days, FTE and working days per month (all filters and row rules applied)."""
    frame, _ = ctx.query(widget, {"absences": "sum(jours_absence)", "etp": "sum(etp)"}, (PERIOD,), period=period)
    frame = frame.dropna(subset=["absences", "etp"]).sort_values(PERIOD, ignore_index=True)
    frame[PERIOD] = [pd.Timestamp(p).date() for p in frame[PERIOD]]
    frame["jours_ouvres"] = [jours_ouvres(p) for p in frame[PERIOD]]
    return frame


def taux(frame: pd.DataFrame) -> float | None:
    """Σ absences / Σ (ETP × jours ouvrés) over the rows of ``frame``."""
    denominator = float((frame["etp"] * frame["jours_ouvres"]).sum())
    return float(frame["absences"].sum()) / denominator if denominator else None


def _span(months: pd.Series, lang: str) -> str:
    """« mars 2026 » or « janvier 2026 – octobre 2026 »."""
    first, last = (format_period(months.iloc[i], "month", lang) for i in (0, -1))
    return first if first == last else f"{first} – {last}"


def taux_absenteisme(widget: CustomConfig, ctx: RenderContext) -> list[html.P | html.Div]:
    """KPI card: the rate over the selected year, compared with the same months a year earlier."""
    lang = ctx.lang
    months = absences_par_mois(widget, ctx, period=False)
    if ctx.year and widget.period == "filter":
        current = months[[p.year == ctx.year for p in months[PERIOD]]]
    else:
        current = months
    value = taux(current) if not current.empty else None
    if value is None:
        return [notice(t("no_data", lang))]
    children: list[html.P | html.Div] = [
        html.P(format_value(value, "percent", 1, lang=lang), className="pilotis-kpi-value mb-1"),
        html.P(
            t("as_of", lang, period=_span(current[PERIOD], lang)),
            className="pilotis-kpi-date small text-muted mb-1",
        ),
    ]
    wanted = {p.replace(year=p.year - 1) for p in current[PERIOD]}
    before = months[[p in wanted for p in months[PERIOD]]]
    previous = taux(before) if ctx.year and len(before) == len(current) else None
    if previous is not None:
        points = (value - previous) * 100
        arrow, tone = ("→", "neutral") if abs(points) < 0.05 else ("▲", "bad") if points > 0 else ("▼", "good")
        words = {
            "bad": t("unfavourable", lang),
            "good": t("favourable", lang),
            "neutral": t("stable", lang),
        }
        sign = "+" if points > 0 else ""
        children.append(
            html.P(
                f"{arrow} {sign}{format_value(points, 'number', 1, lang=lang)} "
                f"{'points' if abs(points) >= 2 else 'point'} {t('vs', lang)} "
                f"{_span(before[PERIOD], lang)} "
                f"({words[tone]})",
                className=f"pilotis-kpi-change pilotis-{tone} small mb-0",
            )
        )
    return children


def absenteisme_mensuel(widget: CustomConfig, ctx: RenderContext) -> tuple[go.Figure, pd.DataFrame] | html.Div:
    """Line of the monthly rate, with its data table (month, absences, FTE, working days, rate)."""
    lang = ctx.lang
    months = absences_par_mois(widget, ctx)
    if months.empty:
        return notice(t("no_data", lang))
    rates = [taux(months.iloc[[i]]) for i in range(len(months))]
    figure = go.Figure(
        go.Scatter(
            x=pd.to_datetime(months[PERIOD]),
            y=rates,
            mode="lines",
            name=widget.title,
            customdata=[format_period(p, "month", lang) for p in months[PERIOD]],
            hovertemplate="%{customdata}<br>%{y:.1%}<extra></extra>",
        )
    )
    figure.update_yaxes(tickformat=".0%", rangemode="tozero")
    figure.update_xaxes(tickformat="%b %Y")
    figure.update_layout(showlegend=False)
    table = pd.DataFrame(
        {
            "Mois": [format_period(p, "month", lang) for p in months[PERIOD]],
            "Jours d'absence": months["absences"].round(1),
            "ETP": months["etp"].round(1),
            "Jours ouvrés": months["jours_ouvres"],
            "Taux d'absentéisme": [format_value(r, "percent", 1, lang=lang) for r in rates],
        }
    )
    return figure, table
