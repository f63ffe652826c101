"""Several territories side by side (the `compare` widget): one evaluator per territory, all
fed by **one** query per dataset grouped by territory column and period."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd

from pilotis.core.data import as_date
from pilotis.core.evaluator import Evaluator
from pilotis.core.indicators import Indicator
from pilotis.core.partials import Leaf, Page, combine, grouped_by
from pilotis.core.query import PERIOD, Filter
from pilotis.core.scope import Scope
from pilotis.core.secrecy import any_masked
from pilotis.core.territory import Territory


def compare_territories(
    scope: Scope,
    indicator: Indicator,
    territories: list[Territory],
    *,
    period: str = "filter",
    batch: bool = True,
    page: Page | None = None,
) -> list[tuple[Territory, Evaluator]]:
    """One :class:`Evaluator` per territory, fed by **one** query per dataset grouped by
    territory column and period (instead of one query per territory). ``page``: the other KPIs
    drawn with them, whose queries are shared (:class:`~pilotis.core.partials.Page`)."""
    base = Evaluator(scope, indicator, period=period, batch=batch, page=page)
    index = scope.territories
    frames: dict[Leaf, tuple[pd.DataFrame, dict[str, str]]] = {}
    for leaf in base.leaves:
        columns = {k: v for k, v in base.columns(leaf).items() if k in ("commune", "epci")}
        if not leaf.splittable or not columns:
            continue  # asked per territory by its own evaluator
        filters = base.filters(leaf, None, where=False)
        if all(t.level != "departement" for t in territories):
            if "commune" in columns:
                codes = sorted(
                    {c for t in territories for c in ([t.code] if t.level == "commune" else index.communes_of(t.code))}
                )
                filters += (Filter(columns["commune"], "in", tuple(codes)),)
        dataset_period = base.dataset(leaf).period
        group_by = tuple(columns.values())
        if dataset_period is not None:
            group_by += (PERIOD,)
            if base.mode == "year" and scope.year:
                filters += (
                    Filter(dataset_period.column, ">=", dt.date(scope.year - 1, 1, 1)),
                    Filter(dataset_period.column, "<", dt.date(scope.year + 1, 1, 1)),
                )
        frames[leaf] = (base.fetch(leaf, group_by, filters), columns)
    texts: dict[tuple[Leaf, str], pd.Series] = {}

    def as_text(leaf: Leaf, level: str) -> pd.Series:
        """The ``level`` column of ``leaf``'s frame as text, converted once for all territories."""
        if (leaf, level) not in texts:
            frame, columns = frames[leaf]
            texts[leaf, level] = frame[columns[level]].astype(str)
        return texts[leaf, level]

    result = []
    for territory in territories:
        evaluator = Evaluator(
            replace(scope, territory=territory),
            indicator,
            period=period,
            batch=batch,
            page=page,
            lookup=base.lookup,
        )
        for leaf, (frame, columns) in frames.items():
            if territory.level == "departement":
                rows = frame
            elif territory.level in columns:
                rows = frame[as_text(leaf, territory.level) == territory.code]
            elif territory.level == "epci":
                rows = frame[as_text(leaf, "commune").isin(index.communes_of(territory.code))]
            else:
                continue
            if any_masked(rows):
                continue  # statistical secrecy: its own queries, masked by its own counts
            aliases = evaluator.aliases(leaf)
            if PERIOD in frame.columns:
                grouped = grouped_by(rows, PERIOD, aliases, text=False)
                grouped.index = [as_date(v) for v in grouped.index]
                evaluator._period_frames[leaf] = grouped.sort_index()
            else:
                totals = combine(rows, aliases)
                evaluator._period_frames[leaf] = pd.DataFrame([{aliases[a]: v for a, v in totals.items()}])
        result.append((territory, evaluator))
    return result
