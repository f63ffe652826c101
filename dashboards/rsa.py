"""Callbacks of the RSA observatory: what the YAML cannot say on its own.

``taux_pour_1000`` divides the households receiving RSA by the legal population of the chosen
territory (département, EPCI or commune) — a ratio whose denominator comes from another
dataset, computed on two pushed-down aggregates.
"""

from __future__ import annotations

from dash import html

from pilotis.core.formatting import format_value
from pilotis.core.i18n import t
from pilotis.core.secrecy import label_of
from pilotis.core.widgets import RenderContext


def taux_pour_1000(widget, ctx: RenderContext) -> list:
    """Households per 1,000 inhabitants, for the selected territory and year."""
    frame, _ = ctx.query(widget, {"foyers": "sum(foyers_allocataires)"})
    value = None if frame.empty else frame.iloc[0]["foyers"]
    foyers = None if value is None or value != value else float(value)
    index = ctx.territories
    if ctx.territory.level == "commune":
        population = index.population.get(ctx.territory.code, 0)
    elif ctx.territory.level == "epci":
        population = sum(index.population[c] for c in index.communes_of(ctx.territory.code))
    else:
        population = sum(index.population.values())
    rate = foyers * 1000 / population if foyers is not None and population else None
    secret = label_of(frame)  # statistical secrecy: a masked count masks its rate (it would give it back)
    shown = (
        html.Abbr(secret, title=t("secret_title", ctx.lang))
        if secret
        else format_value(rate, "number", 1, lang=ctx.lang)
    )
    return [
        html.P(shown, className="pilotis-kpi-value mb-1"),
        html.P(
            f"{format_value(population, lang=ctx.lang)} habitants ({ctx.territory_name()})",
            className="small text-muted mb-0",
        ),
    ]
