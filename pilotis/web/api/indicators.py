"""Indicators through the API: their description and their value with its comparisons
(:class:`pilotis.core.evaluator.Evaluator`, the engine of the KPI cards)."""

from __future__ import annotations

from typing import Any

from pilotis.core.indicators import Indicator
from pilotis.core.results import KpiResult
from pilotis.core.scope import Scope
from pilotis.web.api.output import plain

COMPARE = ("previous_period", "previous_year", "departement", "epci", "comparables", "rank", "target")
"""Comparisons asked of every indicator (those that do not apply are left out of the answer)."""
SPARKLINE = 12
"""Periods of the series returned with the value."""


def describe(indicator: Indicator) -> dict[str, Any]:
    """What the API says of an indicator."""
    spec = indicator.spec
    return {
        "id": indicator.id,
        "label": spec.label,
        "definition": spec.definition,
        "unit": spec.unit,
        "format": spec.format,
        "decimals": spec.decimals,
        "better": spec.better,
        "dataset": spec.dataset,
        "formula": spec.formula,
    }


def value_body(indicator: Indicator, scope: Scope, result: KpiResult) -> dict[str, Any]:
    """The JSON answer of ``/indicators/<id>``."""
    return {
        "indicator": describe(indicator),
        "territory": scope.territory.value,
        "year": scope.year,
        "value": plain(result.value),
        "secret": result.secret or None,
        "start": plain(result.start),
        "end": plain(result.end),
        "grain": result.grain,
        "exact": result.exact,
        "status": result.status,
        "positions_withheld": result.positions_withheld,
        "comparisons": [
            {
                "kind": c.kind,
                "value": plain(c.value),
                "reference": plain(c.reference),
                "period": plain(c.period),
                "reference_period": plain(c.reference_period),
                "label": c.label,
            }
            for c in result.comparisons
        ],
        "series": [{"period": plain(period), "value": plain(value)} for period, value in result.sparkline],
    }
