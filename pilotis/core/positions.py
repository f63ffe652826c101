"""Where a territory stands among others: the département, EPCI and comparable-communes averages
and the rank of a KPI card, from **one** query per dataset grouped by territory (commune and EPCI
columns) at the current window — for every territory at once, never one query per territory.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from pilotis.core.cache import TTLCache
from pilotis.core.partials import Leaf, combine, grouped_by, measure_value, number
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


RANKINGS = TTLCache(max_entries=256)
"""Rankings of this process, shared by every card, territory and viewer whose key is the same
(:meth:`Positions.ranking_key`): the first change of a year ranks every commune once, the next
ones look their commune up (the pandas groupby of every commune is no longer paid per change).
Entries hold ``(data service, registry, territory index, ranking)``: a hit is used only for the
very objects it was computed with (the key holds their ``id``)."""


class Positions:
    """The territorial comparisons of one evaluation (its grouped results kept per window)."""

    def __init__(self, evaluator: Evaluator) -> None:
        self.ev = evaluator
        # Per evaluation (one widget for one principal, one request), never shared between users.
        self._frames: dict[tuple[Leaf, Window | None], pd.DataFrame] = {}
        self._levels: dict[tuple[Leaf, Window | None, str], pd.DataFrame] = {}

    def space_frame(self, leaf: Leaf, window: Window | None) -> pd.DataFrame:
        """Partial aggregates of ``leaf`` per territory unit at ``window`` (one query)."""
        key = (leaf, window if self.ev.dataset(leaf).period is not None else None)
        if key not in self._frames:
            columns = tuple(self.ev.columns(leaf).values())
            if leaf.splittable:
                filters = self.ev.filters(leaf, None, where=False) + self.ev.window_filters(leaf, key[1])
                self._frames[key] = self.ev.fetch(leaf, columns, filters)
            else:
                filters = self.ev.filters(leaf, None) + self.ev.window_filters(leaf, key[1])
                self._frames[key] = self.ev.run(leaf, self.ev.measures(leaf), columns, filters)
        return self._frames[key]

    def level_frame(self, leaf: Leaf, window: Window | None, column: str) -> pd.DataFrame:
        """Partial aggregates of ``leaf`` grouped by one territory column: under statistical
        secrecy, each unit's own total (masked by its own count), never a sum of masked parts."""
        key = (leaf, window if self.ev.dataset(leaf).period is not None else None, column)
        if key not in self._levels:
            filters = self.ev.filters(leaf, None, where=False) + self.ev.window_filters(leaf, key[1])
            self._levels[key] = self.ev.fetch(leaf, (column,), filters)
        return self._levels[key]

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
            found, entry = RANKINGS.get(key)
            if found and all(
                a is b for a, b in zip(entry[:3], (ev.scope.data, ev.scope.registry, ev.scope.territories), strict=True)
            ):
                ranking: Ranking = entry[3]
                return ranking
        units = self.units(window, level)
        if units is None:
            return None
        units = units.dropna()
        ranks = units.rank(ascending=False, method="min")
        ranking = Ranking({code: int(rank) for code, rank in ranks.items()}, len(units))
        lifetime = ev.fresh_until - ev.scope.data.clock()  # no longer than the results it is made of
        if key is not None and lifetime > 0:
            RANKINGS.set(key, (ev.scope.data, ev.scope.registry, ev.scope.territories, ranking), lifetime)
        return ranking

    def ranking_key(self, window: Window | None, level: str) -> Hashable | None:
        """What a ranking depends on, or None when it is not shared (an indicator made of a table
        without territory columns takes that part at the selected territory; a formula resolved
        by another lookup than the registry's).

        Safe to share between viewers: besides the indicator (its id and formula in this registry,
        its leaves with their fixed filters), the window and the level, the key holds for each
        leaf everything that decides what the viewer may see of its rows — the filters of its
        queries without the territory (the viewer's row-level rules, ``access.row_filters``),
        whether the viewer is exempt from statistical secrecy (``unmasked``: a masked ranking and
        an exact one never share an entry) — and the version of the data it reads (source
        fingerprint, refresh epoch and manual-refresh generation: a refresh makes a new key), the
        batch of page leaves its queries are asked with. The rankings computed per viewer are
        thus those of queries that carry that viewer's rules, as in the query cache
        (:meth:`pilotis.core.data.DataService.query`); a restricted viewer gets no rank at all
        (:meth:`allowed`), which is decided before this key is read."""
        ev = self.ev
        indicators = getattr(ev.lookup, "__self__", None)
        if indicators is not ev.scope.registry.indicators or not all(ev.dataset(leaf).territory for leaf in ev.leaves):
            return None
        leaves = tuple(
            (
                leaf,
                tuple(ev.batch_of(leaf)),
                repr(ev.filters(leaf, None, where=False)),
                ev.scope.unmasked(leaf.dataset),
                ev.scope.data.version(leaf.dataset),
            )
            for leaf in ev.leaves
        )
        identity = (id(ev.scope.data), id(ev.scope.registry), id(ev.scope.territories))
        return ("ranking", identity, ev.indicator.id, ev.indicator.formula, ev.batch, window, level, leaves)

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
