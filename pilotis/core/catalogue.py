"""What the catalogue computes about a dataset: whether its data is late against the rhythm its
producer promised (``update:`` of the dataset, :mod:`pilotis.core.schema_catalogue`)."""

from __future__ import annotations

from datetime import date, timedelta

from pilotis.core.schema_catalogue import FREQUENCY_DAYS, UpdatePromise


def period_end(start: date, grain: str) -> date:
    """The first day after the period starting ``start`` (``2020-12-01``, month → ``2021-01-01``)."""
    if grain == "day":
        return start + timedelta(days=1)
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    total = start.year * 12 + start.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def expected_by(last_period: date, grain: str, promise: UpdatePromise) -> date | None:
    """The day by which data newer than ``last_period`` should have arrived: the end of that
    period, plus one promised interval, plus the publication delay (None: irregular updates)."""
    interval = FREQUENCY_DAYS.get(promise.frequency)
    if interval is None:
        return None
    return period_end(last_period, grain) + timedelta(days=interval, seconds=promise.delay)


def is_late(last_period: date | None, grain: str, promise: UpdatePromise | None, today: date) -> bool:
    """True when a promised update is overdue (:func:`expected_by` is past). Never late without a promise, with an
    irregular one, or before any data was received."""
    if promise is None or last_period is None:
        return False
    due = expected_by(last_period, grain, promise)
    return due is not None and today > due
