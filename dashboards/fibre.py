"""Callbacks of the fibre dashboard: the rate set against its target, which YAML cannot draw.

``taux_contre_objectif`` is declared on the target dataset (``objectifs``, the Excel workbook,
filtered by its YAML ``where``), so the widget cites that fictitious source and says « données
simulées ». It reads the targets from there, the rate of premises connectable to fibre (a ratio of
sums, at the last quarter of the selection) from ``fibre_communes`` for the chosen territory and
for the whole département, and draws both in one figure with its data table.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from dash import html

from layouts.common import PALETTE, notice
from layouts.custom import CustomConfig
from pilotis.core.formatting import format_period, format_value
from pilotis.core.i18n import t
from pilotis.core.query import PERIOD
from pilotis.core.widgets import RenderContext

RATES = "fibre_communes"
"""Dataset of the rate; its named measure `taux_raccordables` is a ratio of sums."""


def _latest_rate(widget: CustomConfig, ctx: RenderContext) -> tuple[pd.Timestamp, float] | None:
    """Quarter and rate at the last quarter of the selection for ``widget``'s territory."""
    rates = widget.model_copy(update={"dataset": RATES, "where": {}})
    frame, _ = ctx.query(rates, {"taux": "taux_raccordables"}, (PERIOD,))
    frame = frame.dropna(subset=["taux"]).sort_values(PERIOD)
    if frame.empty:
        return None
    return pd.Timestamp(frame[PERIOD].iloc[-1]), float(frame["taux"].iloc[-1])


def _target(widget: CustomConfig, ctx: RenderContext, year: int) -> tuple[int, float] | None:
    """The target of ``year``, or of the next year that has one, or the last one."""
    frame, _ = ctx.query(widget, {"cible": "max(cible)"}, ("annee",))
    targets = sorted((int(a), float(c)) for a, c in zip(frame["annee"], frame["cible"], strict=True))
    if not targets:
        return None
    return next(((a, c) for a, c in targets if a >= year), targets[-1])


def taux_contre_objectif(widget: CustomConfig, ctx: RenderContext) -> tuple[go.Figure, pd.DataFrame] | html.Div:
    """Bars of the rate (territory, département) with the target drawn as a mark on each bar."""
    lang = ctx.lang
    rows: list[tuple[str, pd.Timestamp, float]] = []
    found = _latest_rate(widget, ctx)
    if found is None:
        return notice(t("no_data", lang))
    rows.append((ctx.territory_name(), *found))
    if ctx.territory.level != "departement" and ctx.scope is None:  # no département for a scope
        whole = _latest_rate(widget.model_copy(update={"territory": "all"}), ctx)
        if whole is not None:
            rows.append((ctx.territories.departement_name, *whole))
    names = [name for name, _, _ in rows]
    rates = [rate for _, _, rate in rows]
    target = _target(widget, ctx, found[0].year)
    figure = go.Figure(
        go.Bar(
            x=rates,
            y=names,
            orientation="h",
            name="Taux de locaux raccordables",
            marker_color=PALETTE[0],
            text=[format_value(r, "percent", 1, lang=lang) for r in rates],
            textposition="auto",
            hovertemplate="%{y}<br>%{x:.1%}<extra></extra>",
        )
    )
    if target is not None:
        year, goal = target
        figure.add_trace(
            go.Scatter(
                x=[goal] * len(names),
                y=names,
                mode="markers",
                name=f"Objectif {year} : {format_value(goal, 'percent', 0, lang=lang)}",
                marker={
                    "symbol": "line-ns-open",
                    "size": 36,
                    "line": {"width": 4, "color": PALETTE[4]},
                },
                hovertemplate=f"Objectif {year}<br>%{{x:.0%}}<extra></extra>",
            )
        )
    figure.update_xaxes(range=[0, max(1.0, *rates) * 1.02], tickformat=".0%")
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(height=120 + 50 * len(names))
    table = pd.DataFrame(
        {
            "Territoire": names,
            "Trimestre": [format_period(when.date(), "quarter", lang) for _, when, _ in rows],
            "Taux de locaux raccordables": [format_value(r, "percent", 1, lang=lang) for r in rates],
            "Objectif": [f"{format_value(target[1], 'percent', 0, lang=lang)} ({target[0]})" if target else "–"]
            * len(rows),
            "Écart (points)": [
                format_value((r - target[1]) * 100, "number", 1, lang=lang) if target else "–" for r in rates
            ],
        }
    )
    return figure, table
