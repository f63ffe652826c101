"""Cron schedules for ``refresh: {cron: "30 6 * * 1-5"}``, in Paris time.

Five fields: minute (0–59), hour (0–23), day of the month (1–31), month (1–12), day of the week
(0–7, 0 and 7 = Sunday). Each field is ``*``, a number, a range ``a-b``, a step ``*/n`` or
``a-b/n``, or a comma-separated list of those. As in cron, when both the day of the month and the
day of the week are restricted, a day matching either one fires.

The calendar arithmetic (firings before and after a moment, summer time) is croniter's. This
module is our layer on top: only the five numeric fields above (croniter also takes seconds,
years and names such as ``mon``), every mistake reported in French naming the field, before
croniter sees the text.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from croniter import CroniterError, croniter

PARIS = ZoneInfo("Europe/Paris")
FIELDS = (
    ("minute", 0, 59),
    ("heure", 0, 23),
    ("jour du mois", 1, 31),
    ("mois", 1, 12),
    ("jour de la semaine", 0, 7),
)
MINUTE = dt.timedelta(minutes=1)


class CronError(ValueError):
    """A cron expression that cannot be read, with a French message."""


@dataclass(frozen=True)
class Cron:
    """A checked cron expression (see :func:`parse_cron`)."""

    text: str

    def previous(self, moment: dt.datetime) -> dt.datetime:
        """The last time the schedule fired at or before ``moment`` (aware, Paris time)."""
        # Firings fall on whole minutes: « at or before moment » is « strictly before the next minute ».
        return self._firing(_next_minute(moment), forward=False)

    def next(self, moment: dt.datetime) -> dt.datetime:
        """The first time the schedule fires strictly after ``moment`` (aware, Paris time)."""
        return self._firing(moment.astimezone(PARIS), forward=True)

    def _firing(self, start: dt.datetime, *, forward: bool) -> dt.datetime:
        try:
            schedule = croniter(self.text, start)
            found = schedule.get_next(dt.datetime) if forward else schedule.get_prev(dt.datetime)
        except CroniterError:  # croniter searches a few decades, then gives up
            raise CronError(f"« {self.text} » ne se produit jamais") from None
        return found.astimezone(PARIS)


def _next_minute(moment: dt.datetime) -> dt.datetime:
    """The whole minute after ``moment``, in Paris time (computed in UTC: no summer-time jump)."""
    utc = moment.astimezone(dt.UTC).replace(second=0, microsecond=0)
    return (utc + MINUTE).astimezone(PARIS)


def _check_field(text: str, name: str, low: int, high: int) -> None:
    """French message for a field croniter would refuse (or read otherwise than documented above)."""
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
        except ValueError:
            raise CronError(f"{name} : « {part} » illisible (nombre, `*`, `a-b`, `*/n` ou liste `a,b`)") from None
        if step < 1:
            raise CronError(f"{name} : pas « /{step_text} » invalide (au moins 1)")
        if not low <= first <= last <= high:
            raise CronError(f"{name} : « {part} » hors de {low}–{high}")


# Memoised per process on a schedule of the configuration (and a minute, below): nothing about a user.
@functools.lru_cache(maxsize=128)
def parse_cron(text: str) -> Cron:
    """The schedule ``text`` (five fields); :class:`CronError` with a French message otherwise."""
    parts = text.split()
    if len(parts) != 5:
        raise CronError(
            f"« {text} » : 5 champs attendus (minute heure jour mois jour-de-la-semaine), {len(parts)} trouvés"
        )
    for part, (name, low, high) in zip(parts, FIELDS, strict=True):
        _check_field(part, name, low, high)
    cron = Cron(" ".join(parts))
    try:
        croniter(cron.text)
    except CroniterError as exc:  # a form the checks above let through: say it rather than crash later
        raise CronError(f"« {text} » illisible ({exc})") from None
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
