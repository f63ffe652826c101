"""Several territories side by side (the `compare` widget): one evaluator per territory, all
fed by **one** query per dataset grouped by territory column and period."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd

from pilotis.core.data import as_date
from pilotis.core.evaluator import Evaluator
from pilotis.core.freshness import observe, observing
from pilotis.core.indicators import Indicator
from pilotis.core.measures import Agg
from pilotis.core.partials import Leaf, Page, Shared, combine, grouped_by, leaf_key, scope_key
from pilotis.core.query import PERIOD, Filter
from pilotis.core.scope import Scope
from pilotis.core.secrecy import any_masked
from pilotis.core.territory import Territory, TerritoryIndex

COMPARED = Shared()
"""The rows of the compared territories, per dataset: the compare view's territories are its own
controls, not the page's filter, so every change of the year asks the same ones."""


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
    prepared: dict[Leaf, dict[Territory, pd.DataFrame]] = {}
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
        # Shared between viewers: the query's own filters (with the viewer's row-level rules) and
        # grouping, and `leaf_key` (rules, secrecy exemption, data version: partials.leaf_key).
        key = ("compare", scope_key(scope), leaf_key(base, leaf), repr(filters), group_by, tuple(territories))
        found, rows = COMPARED.get(scope, key)
        if not found:
            with observing() as seen:
                frame = base.fetch(leaf, group_by, filters)
            for observation in seen:
                observe(observation)
            rows = territory_rows(frame, columns, territories, index, base.aliases(leaf))
            COMPARED.set(scope, key, rows, seen)
        prepared[leaf] = rows
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
        for leaf, rows in prepared.items():
            if territory in rows:  # else (masked, or no column for its level): its own queries
                evaluator._period_frames[leaf] = rows[territory].copy(deep=False)  # the shared one stays as it is
        result.append((territory, evaluator))
    return result


def territory_rows(
    frame: pd.DataFrame,
    columns: dict[str, str],
    territories: list[Territory],
    index: TerritoryIndex,
    aliases: dict[Agg, str],
) -> dict[Territory, pd.DataFrame]:
    """The partial aggregates of each territory (per period when ``frame`` has one), picked from
    ``frame`` grouped by territory column; none for a territory with a masked part (statistical
    secrecy: its own queries, masked by its own counts) or without a column for its level."""
    texts: dict[str, pd.Series] = {}

    def as_text(level: str) -> pd.Series:
        """The ``level`` column of ``frame`` as text, converted once for all territories."""
        if level not in texts:
            texts[level] = frame[columns[level]].astype(str)
        return texts[level]

    found: dict[Territory, pd.DataFrame] = {}
    for territory in territories:
        if territory.level == "departement":
            rows = frame
        elif territory.level in columns:
            rows = frame[as_text(territory.level) == territory.code]
        elif territory.level == "epci":
            rows = frame[as_text("commune").isin(index.communes_of(territory.code))]
        else:
            continue
        if any_masked(rows):
            continue
        if PERIOD in frame.columns:
            grouped = grouped_by(rows, PERIOD, aliases, text=False)
            grouped.index = [as_date(v) for v in grouped.index]
            found[territory] = grouped.sort_index()
        else:
            totals = combine(rows, aliases)
            found[territory] = pd.DataFrame([{aliases[a]: v for a, v in totals.items()}])
    return found
