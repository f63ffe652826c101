"""Targets and thresholds of an indicator: the « objectif » line of a KPI card (a fixed value or
one read from a goals table) and its status (`ok`, `warning`, `alert`)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd

from pilotis.core.access import RowsDenied
from pilotis.core.partials import number
from pilotis.core.query import Query
from pilotis.core.results import Comparison
from pilotis.core.windows import Window

if TYPE_CHECKING:
    from pilotis.core.evaluator import Evaluator


class Targets:
    """The target and status of one evaluation."""

    def __init__(self, evaluator: Evaluator) -> None:
        self.ev = evaluator

    def target(self, window: Window | None, value: float | None) -> Comparison | None:
        target = self.ev.indicator.spec.target
        if target is None or value is None or not self.applies_to_whole():
            return None
        if target.value is not None:
            return Comparison(
                "target",
                value=value,
                reference=target.value,
                label=target.label,
                reference_period=dt.date(target.year, 1, 1) if target.year else None,
            )
        year = window.end.year if window else None
        assert target.dataset is not None and target.measure is not None
        node = self.ev.scope.measure(target.dataset, target.measure)
        keys = tuple(sorted(target.where)) + ((target.year_column,) if target.year_column else ())
        wanted = {**target.where, **({target.year_column: year} if target.year_column else {})}
        grouped = bool(keys) and not any(isinstance(v, list) for v in target.where.values()) and year is not None
        where = () if grouped else tuple((k, v) for k, v in wanted.items() if v is not None)
        try:  # the viewer's row rules apply to the goals table too
            filters, _ = self.ev.scope.dataset_filters(target.dataset, territory=None, where=where)
        except RowsDenied:
            return None
        if grouped:
            # one query for every target of the goals table, grouped by its keys (shared, cached)
            frame = self.ev.scope.data.query(
                Query(
                    dataset=target.dataset,
                    measures=(("cible", node),),
                    group_by=keys,
                    filters=filters,
                    unmasked=self.ev.scope.unmasked(target.dataset),
                )
            )
            for column, expected in wanted.items():
                if isinstance(expected, int | float) and not isinstance(expected, bool):
                    frame = frame[pd.to_numeric(frame[column], errors="coerce") == expected]
                else:
                    frame = frame[frame[column].astype(str) == str(expected)]
        else:
            frame = self.ev.scope.data.query(
                Query(
                    dataset=target.dataset,
                    measures=(("cible", node),),
                    filters=filters,
                    unmasked=self.ev.scope.unmasked(target.dataset),
                )
            )
        reference = None if frame.empty else number(frame.iloc[0]["cible"])
        if reference is None:
            return None
        return Comparison(
            "target",
            value=value,
            reference=reference,
            label=target.label,
            reference_period=dt.date(year, 1, 1) if year else None,
        )

    def applies_to_whole(self) -> bool:
        """Targets and thresholds of a volume are the département's: shown for it only."""
        return (
            not self.ev.indicator.additive
            or self.ev.territory_all
            or self.ev.scope.territory.level == "departement"
            or not any(self.ev.columns(leaf) for leaf in self.ev.leaves)
        )

    def status(self, value: float | None) -> str | None:
        thresholds = self.ev.indicator.spec.thresholds
        if thresholds is None or value is None or not self.applies_to_whole():
            return None
        down = self.ev.indicator.spec.better == "down"

        def beyond(limit: float | None) -> bool:
            return limit is not None and (value >= limit if down else value <= limit)

        if beyond(thresholds.alert):
            return "alert"
        if beyond(thresholds.warning):
            return "warning"
        return "ok"
