"""Callbacks of the finances dashboard: what the YAML cannot say on its own.

``depenses_par_habitant`` divides the operating expenditure of the chosen territory by its legal
population (INSEE, from the commune reference — a denominator that the budget data does not
carry) and sets it against the département's figure for the same year.
"""

from __future__ import annotations

import pandas as pd
from dash import html

from layouts.common import notice
from layouts.custom import CustomConfig
from pilotis.core.formatting import format_value
from pilotis.core.i18n import t
from pilotis.core.query import PERIOD
from pilotis.core.territory import Territory
from pilotis.core.widgets import RenderContext

MEASURE = {"montant": "sum(montant)"}


def _by_year(frame: pd.DataFrame) -> dict[int, float]:
    """Amounts keyed by year (one row per period of a yearly flow)."""
    frame = frame.dropna(subset=["montant"])
    return {pd.Timestamp(p).year: float(v) for p, v in zip(frame[PERIOD], frame["montant"], strict=True)}


def depenses_par_habitant(widget: CustomConfig, ctx: RenderContext) -> list[html.P | html.Div]:
    """Euros per inhabitant for the selected territory and year (latest year when « all »)."""
    lang = ctx.lang
    amounts = _by_year(ctx.query(widget, MEASURE, (PERIOD,))[0])
    population = ctx.territories.population_of(ctx.territory)
    if not amounts or not population:
        return [notice(t("no_data", lang))]
    year = max(amounts)
    value = amounts[year] / population
    children: list[html.P | html.Div] = [
        html.P(
            f"{format_value(value, 'euro', 0, lang=lang)} par habitant",
            className="pilotis-kpi-value mb-1",
        ),
        html.P(
            f"Exercice {year} · {format_value(population, lang=lang)} habitants ({ctx.territory_name()})",
            className="pilotis-kpi-date small text-muted mb-1",
        ),
    ]
    if ctx.territory.level != "departement" and ctx.scope is None:  # no département for a scope
        whole = widget.model_copy(update={"territory": "all"})
        dep_amount = _by_year(ctx.query(whole, MEASURE, (PERIOD,))[0]).get(year)
        departement = Territory("departement", ctx.territories.departement_code)
        dep_population = ctx.territories.population_of(departement)
        if dep_amount and dep_population:
            reference = dep_amount / dep_population
            gap = value / reference - 1
            sign = "+" if gap > 0 else ""
            children.append(
                html.P(
                    f"Ensemble du département : {format_value(reference, 'euro', 0, lang=lang)}"
                    f" par habitant (écart {sign}{format_value(gap, 'percent', 1, lang=lang)})",
                    className="pilotis-kpi-change pilotis-neutral small mb-0",
                )
            )
    return children
