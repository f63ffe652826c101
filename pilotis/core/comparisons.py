"""What a KPI card compares its value with: the public names of the indicator engine.

The engine is split by concern; this module gathers its names for the widgets and tests:

- :mod:`pilotis.core.windows` — periods and windows (``shift``, ``truncate``, ``Window``, bands);
- :mod:`pilotis.core.partials` — measures split into partial aggregates (``Leaf``), the page
  whose KPIs share their queries (``Page``);
- :mod:`pilotis.core.evaluator` — ``Evaluator``: an indicator's value over time for a
  :class:`~pilotis.core.scope.Scope` (no dashboard needed);
- :mod:`pilotis.core.positions`, :mod:`pilotis.core.targets`, :mod:`pilotis.core.results` —
  territorial positions, targets and thresholds, the whole card (``KpiResult``);
- :mod:`pilotis.core.territory_comparison` — ``compare_territories`` (several territories).
"""

from __future__ import annotations

from pilotis.core.evaluator import Evaluator
from pilotis.core.indicators import refs_of
from pilotis.core.partials import Leaf, Page, leaf_of
from pilotis.core.results import POSITIONS, Comparison, KpiResult
from pilotis.core.territory_comparison import compare_territories
from pilotis.core.windows import BANDS, Window, band_of, shift, truncate

__all__ = [
    "Evaluator",
    "KpiResult",
    "Comparison",
    "Window",
    "Leaf",
    "Page",
    "leaf_of",
    "shift",
    "truncate",
    "band_of",
    "BANDS",
    "POSITIONS",
    "refs_of",
    "compare_territories",
]
