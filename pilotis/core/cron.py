"""Cron schedules for ``refresh: {cron: "30 6 * * 1-5"}``, in Paris time.

Five fields: minute (0–59), hour (0–23), day of the month (1–31), month (1–12), day of the week
(0–7, 0 and 7 = Sunday). Each field is ``*``, a number, a range ``a-b``, a step ``*/n`` or
``a-b/n``, or a comma-separated list of those. As in cron, when both the day of the month and the
day of the week are restricted, a day matching either one fires.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
FIELDS = (
    ("minute", 0, 59),
    ("heure", 0, 23),
    ("jour du mois", 1, 31),
    ("mois", 1, 12),
    ("jour de la semaine", 0, 7),
)
HORIZON_DAYS = 4 * 366 + 1
"""How far a schedule is searched (29 February comes back within four years)."""


class CronError(ValueError):
    """A cron expression that cannot be read, with a French message."""


@dataclass(frozen=True)
class Cron:
    """A parsed cron expression."""

    text: str
    times: tuple[dt.time, ...]
    """Times of day it fires at, sorted."""
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    """0 = Sunday … 6 = Saturday."""
    any_day: bool
    any_weekday: bool

    def fires_on(self, day: dt.date) -> bool:
        """True when the schedule fires at some time of ``day``."""
        if day.month not in self.months:
            return False
        by_day, by_weekday = day.day in self.days, day.isoweekday() % 7 in self.weekdays
        if self.any_day or self.any_weekday:
            return by_day and by_weekday
        return by_day or by_weekday

    def previous(self, moment: dt.datetime) -> dt.datetime:
        """The last time the schedule fired at or before ``moment`` (aware, Paris time)."""
        local = moment.astimezone(PARIS)
        for offset in range(HORIZON_DAYS):
            day = local.date() - dt.timedelta(days=offset)
            if self.fires_on(day):
                for time in reversed(self.times):
                    candidate = dt.datetime.combine(day, time, PARIS)
                    if candidate <= local:
                        return candidate
        raise CronError(f"« {self.text} » ne s'est jamais produit")

    def next(self, moment: dt.datetime) -> dt.datetime:
        """The first time the schedule fires strictly after ``moment`` (aware, Paris time)."""
        local = moment.astimezone(PARIS)
        for offset in range(HORIZON_DAYS):
            day = local.date() + dt.timedelta(days=offset)
            if self.fires_on(day):
                for time in self.times:
                    candidate = dt.datetime.combine(day, time, PARIS)
                    if candidate > local:
                        return candidate
        raise CronError(f"« {self.text} » ne se produit jamais")


def _field(text: str, name: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if body == "*":
                first, last = low, high
            elif "-" in body:
                first, last = (int(x) for x in body.split("-", 1))
            else:
                first = last = int(body)
                if step_text:
                    last = high
        except ValueError:
            raise CronError(f"{name} : « {part} » illisible (nombre, `*`, `a-b`, `*/n` ou liste `a,b`)") from None
        if step < 1:
            raise CronError(f"{name} : pas « /{step_text} » invalide (au moins 1)")
        if not low <= first <= last <= high:
            raise CronError(f"{name} : « {part} » hors de {low}–{high}")
        values.update(range(first, last + 1, step))
    return frozenset(values)


# Memoised per process on a schedule of the configuration (and a minute, below): nothing about a user.
@functools.lru_cache(maxsize=128)
def parse_cron(text: str) -> Cron:
    """The schedule ``text`` (five fields); :class:`CronError` with a French message otherwise."""
    parts = text.split()
    if len(parts) != 5:
        raise CronError(
            f"« {text} » : 5 champs attendus (minute heure jour mois jour-de-la-semaine), {len(parts)} trouvés"
        )
    minutes, hours, days, months, weekdays = (
        _field(part, name, low, high) for part, (name, low, high) in zip(parts, FIELDS, strict=True)
    )
    cron = Cron(
        text=text,
        times=tuple(dt.time(h, m) for h in sorted(hours) for m in sorted(minutes)),
        days=days,
        months=months,
        weekdays=frozenset(d % 7 for d in weekdays),
        any_day=parts[2] == "*",
        any_weekday=parts[4] == "*",
    )
    cron.next(dt.datetime(2000, 1, 1, tzinfo=PARIS))  # a day that never comes (31 February) is an error now
    return cron


@functools.lru_cache(maxsize=256)
def _bounds(text: str, minute: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    cron = parse_cron(text)
    return cron.previous(minute), cron.next(minute)


def window_bounds(text: str, now: float) -> tuple[dt.datetime, dt.datetime]:
    """``(last firing ≤ now, next firing > now)`` of the schedule (memoised per minute)."""
    minute = dt.datetime.fromtimestamp(now, PARIS).replace(second=0, microsecond=0)
    return _bounds(text, minute)
