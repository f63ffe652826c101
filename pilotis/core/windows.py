"""Periods and windows of an indicator's value: moving a date by periods, the first day of a
period, the window of periods a value covers (its last period, and its first for a flow)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from pilotis.core.data import as_date

PER_YEAR = {"day": 365, "month": 12, "quarter": 4, "year": 1}
"""Periods of each grain in a year."""
BANDS = ((0, 500), (500, 2_000), (2_000, 5_000), (5_000, 20_000), (20_000, None))
"""Population bands of comparable communes (population municipale légale)."""


def shift(day: dt.date, grain: str, periods: int) -> dt.date:
    """``day`` moved by ``periods`` periods of ``grain`` (29 February becomes 28)."""
    if grain == "day":
        return day + dt.timedelta(days=periods)
    months = {"month": 1, "quarter": 3, "year": 12}[grain] * periods
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    try:
        return day.replace(year=year, month=month + 1)
    except ValueError:
        return day.replace(year=year, month=month + 1, day=28)


def truncate(day: dt.date, grain: str) -> dt.date:
    """The first day of the ``grain`` period containing ``day``."""
    if grain == "year":
        return dt.date(day.year, 1, 1)
    if grain == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if grain == "month":
        return dt.date(day.year, day.month, 1)
    return day


def as_dates(values: pd.Series) -> list[dt.date]:
    """The period column of a query result as ``date`` objects (vectorised for datetimes)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.to_numpy().astype("datetime64[D]").tolist()
    return [as_date(v) for v in values]


def band_of(population: int) -> tuple[int, int | None]:
    """The population band of a commune."""
    return next(b for b in BANDS if population >= b[0] and (b[1] is None or population < b[1]))


@dataclass(frozen=True)
class Window:
    """The periods a value covers: ``end`` (first day of the last period) and, for amounts
    added over time (flows), ``start`` (None: from the first period available)."""

    end: dt.date
    start: dt.date | None = None

    def shifted(self, grain: str, periods: int) -> Window:
        """The same window ``periods`` periods of ``grain`` later (earlier if negative)."""
        return Window(
            shift(self.end, grain, periods),
            shift(self.start, grain, periods) if self.start else None,
        )
