"""The data service: runs queries on registered sources, through the cache."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import pandas as pd

from pilotis.cache import TTLCache
from pilotis.measures import Agg
from pilotis.query import Filter, Query
from pilotis.sources import DataSource, SourceError

log = logging.getLogger(__name__)


@dataclass
class DataService:
    """Executes :class:`Query` objects against the sources, caching results per source TTL."""

    sources: dict[str, DataSource]
    cache: TTLCache

    def query(self, query: Query) -> pd.DataFrame:
        """The result of ``query``; raises :class:`SourceError` with a French message."""
        source = self.sources.get(query.dataset)
        if source is None:
            raise SourceError(f"jeu de données inconnu : {query.dataset}")
        key = (query, source.fingerprint())
        found, value = self.cache.get(key)
        if found:
            return value
        try:
            result = source.run(query)
        except SourceError:
            log.warning("source %s en échec", query.dataset, exc_info=True)
            raise
        self.cache.set(key, result, source.config.ttl)
        return result

    def period_bounds(self, dataset: str) -> tuple[dt.date, dt.date] | None:
        """First and last period of a dataset (one cheap MIN/MAX query, cached)."""
        period = self.sources[dataset].config.period
        if period is None:
            return None
        frame = self.query(
            Query(
                dataset=dataset,
                measures=(("debut", Agg("min", period.column)), ("fin", Agg("max", period.column))),
            )
        )
        if frame.empty or pd.isna(frame.iloc[0]["debut"]):
            return None
        return _as_date(frame.iloc[0]["debut"]), _as_date(frame.iloc[0]["fin"])

    def years(self, dataset: str) -> list[int]:
        """The years covered by a dataset, most recent first."""
        bounds = self.period_bounds(dataset)
        if not bounds:
            return []
        return list(range(bounds[1].year, bounds[0].year - 1, -1))


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()  # type: ignore[arg-type]


def year_filters(column: str, year: int) -> tuple[Filter, Filter]:
    """Conditions selecting one calendar year on a date column."""
    return (Filter(column, ">=", dt.date(year, 1, 1)), Filter(column, "<", dt.date(year + 1, 1, 1)))
