"""Where a territory stands among others: the département, EPCI and comparable-communes averages
and the rank of a KPI card, from **one** query per dataset grouped by territory (commune and EPCI
columns) at the current window — for every territory at once, never one query per territory.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from pilotis.core.freshness import Observation, observe, observing
from pilotis.core.partials import Leaf, Shared, combine, grouped_by, leaf_key, measure_value, number, scope_key
from pilotis.core.query import Filter
from pilotis.core.results import Comparison
from pilotis.core.secrecy import any_masked
from pilotis.core.windows import Window, band_of

if TYPE_CHECKING:
    from pilotis.core.evaluator import Evaluator


@dataclass(frozen=True)
class Ranking:
    """The rank of every territory unit of a level with a value (1 = highest, ties share the
    lowest rank) and how many units have one."""

    ranks: dict[str, int]
    count: int


RANKINGS = Shared()
"""Rankings shared by every card, territory and viewer whose key is the same
(:meth:`Positions.ranking_key`): the first change of a year ranks every commune once, the next
ones look their commune up (the pandas groupby of every commune is no longer paid per change)."""


class Positions:
    """The territorial comparisons of one evaluation (its grouped results kept per window)."""

    def __init__(self, evaluator: Evaluator) -> None:
        self.ev = evaluator
        # Per evaluation (one widget for one principal, one request), never shared between users.
        self._frames: dict[tuple[Leaf, Window | None], pd.DataFrame] = {}
        self._levels: dict[tuple[Leaf, Window | None, str], pd.DataFrame] = {}
        self._seen: dict[tuple[Any, ...], list[Observation]] = {}  # what each frame's query observed
        self._reading: list[Observation] | None = None  # observations of the frames read (ranking)

    def space_frame(self, leaf: Leaf, window: Window | None) -> pd.DataFrame:
        """Partial aggregates of ``leaf`` per territory unit at ``window`` (one query)."""
        key = (leaf, window if self.ev.dataset(leaf).period is not None else None)
        if key not in self._frames:
            columns = tuple(self.ev.columns(leaf).values())
            with observing() as seen:
                if leaf.splittable:
                    filters = self.ev.filters(leaf, None, where=False) + self.ev.window_filters(leaf, key[1])
                    self._frames[key] = self.ev.fetch(leaf, columns, filters)
                else:
                    filters = self.ev.filters(leaf, None) + self.ev.window_filters(leaf, key[1])
                    self._frames[key] = self.ev.run(leaf, self.ev.measures(leaf), columns, filters)
            self._observed(key, seen)
        return self._read(key, self._frames[key])

    def level_frame(self, leaf: Leaf, window: Window | None, column: str) -> pd.DataFrame:
        """Partial aggregates of ``leaf`` grouped by one territory column: under statistical
        secrecy, each unit's own total (masked by its own count), never a sum of masked parts."""
        key = (leaf, window if self.ev.dataset(leaf).period is not None else None, column)
        if key not in self._levels:
            filters = self.ev.filters(leaf, None, where=False) + self.ev.window_filters(leaf, key[1])
            with observing() as seen:
                self._levels[key] = self.ev.fetch(leaf, (column,), filters)
            self._observed(key, seen)
        return self._read(key, self._levels[key])

    def _observed(self, key: tuple[Any, ...], seen: list[Observation]) -> None:
        """Keep what a frame's query observed, and report it to the rendering as usual."""
        self._seen[key] = seen
        for observation in seen:
            observe(observation)

    def _read(self, key: tuple[Any, ...], frame: pd.DataFrame) -> pd.DataFrame:
        if self._reading is not None:
            self._reading.extend(self._seen[key])
        return frame

    def leaf_units(self, leaf: Leaf, window: Window | None, level: str) -> pd.Series | None:
        """``leaf`` per territory unit of ``level`` (commune, epci, departement), or None."""
        columns = self.ev.columns(leaf)
        frame = self.space_frame(leaf, window)
        if level in columns:
            by = columns[level]
            if level != "commune" and leaf.splittable and any_masked(frame):
                frame = self.level_frame(leaf, window, by)
        elif level == "epci" and "commune" in columns:
            frame = frame.assign(
                _epci=frame[columns["commune"]].astype(str).map(self.ev.scope.territories.commune_epci)
            )
            by = "_epci"
        else:
            return None
        if not leaf.splittable:
            if level not in columns or len(columns) > 1 and frame[by].duplicated().any():
                return None
            return pd.to_numeric(frame.set_index(frame[by].astype(str))["m"], errors="coerce")
        aliases = self.ev.aliases(leaf)
        grouped = grouped_by(frame, by, aliases)
        return measure_value(leaf.node, lambda a: grouped[aliases[a]])

    def leaf_set(
        self, leaf: Leaf, window: Window | None, level: str | None, codes: Iterable[str] | None
    ) -> float | None:
        """``leaf`` over a set of territory units (``level`` None: every row)."""
        columns = self.ev.columns(leaf)
        if level is not None and level not in columns and not (level == "epci" and "commune" in columns):
            return None
        if not leaf.splittable:
            return self.direct_set(leaf, window, level, codes)
        frame = self.space_frame(leaf, window)
        if level is not None:
            chosen = set(codes or ())
            if level in columns:
                frame = frame[frame[columns[level]].astype(str).isin(chosen)]
            else:
                communes = {c for e in chosen for c in self.ev.scope.territories.communes_of(e)}
                frame = frame[frame[columns["commune"]].astype(str).isin(communes)]
        if any_masked(frame):
            # statistical secrecy: an EPCI's or the département's own total (the communes masked in
            # it are at least two, secrecy.py); a set of communes (comparables) is not a published
            # margin, its total minus the visible ones would give a masked commune: not shown
            return None if level == "commune" else self.direct_set(leaf, window, level, codes)
        totals = combine(frame, self.ev.aliases(leaf))
        return number(measure_value(leaf.node, lambda a: totals[a]))

    def direct_set(
        self, leaf: Leaf, window: Window | None, level: str | None, codes: Iterable[str] | None
    ) -> float | None:
        """``leaf`` over a set of territory units asked to the database as one aggregate."""
        columns = self.ev.columns(leaf)
        extra: tuple[Filter, ...] = ()
        if level is not None:
            column = columns.get(level) or columns["commune"]
            wanted = tuple(codes or ())
            if level == "epci" and level not in columns:
                wanted = tuple(c for e in wanted for c in self.ev.scope.territories.communes_of(e))
            extra = (Filter(column, "in", wanted),)
        base = self.ev.filters(leaf, None) + self.ev.window_filters(leaf, window) + extra
        frame = self.ev.run(leaf, (("m", leaf.node),), (), base)
        return None if frame.empty else number(frame.iloc[0]["m"])

    def ranking(self, window: Window | None, level: str) -> Ranking | None:
        """The rank of every unit of ``level`` with a value (:meth:`units`), computed once per
        :meth:`ranking_key` for the whole process (:data:`RANKINGS`)."""
        ev = self.ev
        key = self.ranking_key(window, level)
        if key is not None:
            found, ranking = RANKINGS.get(ev.scope, key)
            if found:
                return cast(Ranking, ranking)
        self._reading = []
        try:
            units = self.units(window, level)
        finally:
            seen, self._reading = self._reading, None
        if units is None:
            return None
        units = units.dropna()
        ranks = units.rank(ascending=False, method="min")
        result = Ranking({code: int(rank) for code, rank in ranks.items()}, len(units))
        if key is not None:
            RANKINGS.set(ev.scope, key, result, seen)  # a hit reports the frames' observations again
        return result

    def ranking_key(self, window: Window | None, level: str) -> Hashable | None:
        """What a ranking depends on, or None when it is not shared (an indicator made of a table
        without territory columns takes that part at the selected territory; a formula resolved
        by another lookup than the registry's).

        Safe to share between viewers: besides the indicator (its id and formula in this registry,
        its leaves), the window and the level, the key holds for each leaf everything that
        decides what the viewer may see of its rows (:func:`~pilotis.core.partials.leaf_key`: the
        viewer's row-level rules, their exemption from statistical secrecy, the data version). A
        viewer restricted to some rows gets no rank at all (:meth:`allowed`, decided before)."""
        ev = self.ev
        indicators = getattr(ev.lookup, "__self__", None)
        if indicators is not ev.scope.registry.indicators or not all(ev.dataset(leaf).territory for leaf in ev.leaves):
            return None
        leaves = tuple(leaf_key(ev, leaf) for leaf in ev.leaves)
        return ("ranking", scope_key(ev.scope), ev.indicator.id, ev.indicator.formula, ev.batch, window, level, leaves)

    def units(self, window: Window | None, level: str) -> pd.Series | None:
        """The indicator for every territory unit of ``level`` (for ranks and averages)."""
        parts = {
            leaf: self.leaf_units(leaf, window, level) if self.ev.dataset(leaf).territory else None
            for leaf in self.ev.leaves
        }
        if any(self.ev.columns(leaf) and parts[leaf] is None for leaf in self.ev.leaves):
            return None

        def value_of(leaf: Leaf) -> Any:
            return parts[leaf] if parts[leaf] is not None else self.ev.leaf_value(leaf, window)

        result = self.ev.formula(value_of)
        return result if isinstance(result, pd.Series) else None

    def set_value(self, window: Window | None, level: str | None, codes: Iterable[str] | None) -> float | None:
        codes = list(codes) if codes is not None else None
        return self.ev.formula(lambda leaf: self.leaf_set(leaf, window, level, codes))

    def allowed(self) -> bool:
        """Territorial comparisons need every row: not for a user restricted to a territory."""
        return not any(self.ev.scope.row_filters(leaf.dataset) for leaf in self.ev.leaves)

    def position(self, kind: str, window: Window | None, value: float | None) -> Comparison | None:
        index = self.ev.scope.territories
        territory = self.ev.scope.territory
        level = territory.level
        if self.ev.territory_all or value is None:
            return None
        average = self.ev.indicator.additive
        if kind == "rank":
            ranking = self.ranking(window, level)
            if ranking is None or territory.code not in ranking.ranks:
                return None
            return Comparison("rank", value=value, rank=ranking.ranks[territory.code], count=ranking.count, level=level)
        if level == "departement":
            return None
        if kind == "departement":
            count = len(index.communes) if level == "commune" else len(index.epcis)
            total = self.set_value(window, None, None)
            label = index.departement_name
            return self._average("departement", value, total, count, average, label, level)
        if kind == "epci":
            if level != "commune" or territory.code not in index.commune_epci:
                return None
            epci = index.commune_epci[territory.code]
            total = self.set_value(window, "epci", [epci])
            return self._average(
                "epci",
                value,
                total,
                len(index.communes_of(epci)),
                average,
                index.epcis.get(epci, epci),
                level,
            )
        if kind == "comparables":
            if level != "commune" or territory.code not in index.population:
                return None
            band = band_of(index.population[territory.code])
            codes = [c for c, p in index.population.items() if band_of(p) == band]
            total = self.set_value(window, "commune", codes)
            result = self._average("comparables", value, total, len(codes), average, "", level)
            if result is not None:
                result.label = f"{band[0]}|{band[1] if band[1] is not None else ''}"
            return result
        return None

    def _average(
        self,
        kind: str,
        value: float,
        total: float | None,
        count: int,
        average: bool,
        label: str,
        level: str,
    ) -> Comparison | None:
        if total is None:
            return None
        if average:
            return Comparison(
                kind,
                value=value,
                reference=total / count if count else None,
                label=label,
                average=True,
                count=count,
                level=level,
                share=value / total if kind == "departement" and total else None,
            )
        return Comparison(kind, value=value, reference=total, label=label, level=level)
