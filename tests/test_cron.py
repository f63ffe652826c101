"""Cron schedules (`refresh: {cron: …}`): each expression is checked against a plain
minute-by-minute scan of the calendar with a hand-written rule, in Paris time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from pilotis.core.cron import PARIS, CronError, parse_cron
from pilotis.core.freshness import window
from pilotis.core.schema import DatasetBase

Rule = Callable[[dt.datetime], bool]
CASES: list[tuple[str, Rule]] = [
    ("30 6 * * 1-5", lambda t: (t.hour, t.minute) == (6, 30) and t.isoweekday() <= 5),
    ("*/15 * * * *", lambda t: t.minute % 15 == 0),
    ("0 8,12,18 * * *", lambda t: t.minute == 0 and t.hour in (8, 12, 18)),
    ("0 */2 * * 0", lambda t: t.minute == 0 and t.hour % 2 == 0 and t.isoweekday() == 7),
    ("0 7 * * 7", lambda t: (t.hour, t.minute) == (7, 0) and t.isoweekday() == 7),
    ("15 3 1 * *", lambda t: (t.hour, t.minute) == (3, 15) and t.day == 1),
    ("0 0 1,15 * 1", lambda t: (t.hour, t.minute) == (0, 0) and (t.day in (1, 15) or t.isoweekday() == 1)),
    ("5-10/5 9-17 * 1,11,12 *", lambda t: t.minute in (5, 10) and 9 <= t.hour <= 17 and t.month in (1, 11, 12)),
]
MOMENTS = [
    dt.datetime(2026, 11, 29, 10, 7, 30, tzinfo=PARIS),  # a Sunday
    dt.datetime(2026, 11, 30, 6, 30, tzinfo=PARIS),  # exactly a firing of the first rule
    dt.datetime(2026, 12, 31, 23, 59, tzinfo=PARIS),
]


def scan(moment: dt.datetime, rule: Rule, step: int) -> dt.datetime:
    """The first minute from ``moment`` (step -1: at or before; +1: strictly after) matching ``rule``."""
    t = moment.replace(second=0, microsecond=0)
    if step > 0:
        t += dt.timedelta(minutes=1)
    for _ in range(40 * 24 * 60):
        if rule(t):
            return t
        t += dt.timedelta(minutes=step)
    raise AssertionError("no firing within 40 days")


@pytest.mark.parametrize("text,rule", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("moment", MOMENTS, ids=lambda m: m.strftime("%Y-%m-%d %H:%M"))
def test_previous_and_next_firing(text: str, rule: Rule, moment: dt.datetime) -> None:
    cron = parse_cron(text)
    assert cron.previous(moment) == scan(moment, rule, -1)
    assert cron.next(moment) == scan(moment, rule, +1)


def test_dataset_window_follows_the_schedule() -> None:
    config = DatasetBase(type="x", title="t", refresh={"cron": "30 6 * * 1-5"})
    saturday = dt.datetime(2026, 11, 28, 10, 0, tzinfo=PARIS)
    lifetime, epoch = window(config, saturday.timestamp())
    monday = dt.datetime(2026, 11, 30, 6, 30, tzinfo=PARIS)
    assert epoch == "2026-11-27T06:30+01:00"  # Friday's reading is still the current one
    assert lifetime == pytest.approx((monday - saturday).total_seconds())


@pytest.mark.parametrize(
    "text,message",
    [
        ("30 6 * *", "5 champs attendus"),
        ("61 * * * *", "minute : « 61 » hors de 0–59"),
        ("0 24 * * *", "heure : « 24 » hors de 0–23"),
        ("0 6 * * lun", "jour de la semaine : « lun » illisible"),
        ("*/0 * * * *", "pas « /0 » invalide"),
        ("0 0 31 2 *", "ne se produit jamais"),
    ],
)
def test_unreadable_schedules_say_why(text: str, message: str) -> None:
    with pytest.raises(CronError, match=message):
        parse_cron(text)


@pytest.mark.parametrize("day", [dt.date(2026, 3, 29), dt.date(2026, 10, 25)], ids=["summer time", "winter time"])
def test_an_hourly_schedule_fires_every_hour_across_the_clock_change(day: dt.date) -> None:
    """On the days the clocks change, « 30 * * * * » still fires once an hour of real time: the
    window of a dataset read hourly never stretches to two hours (nor shrinks to none)."""
    cron = parse_cron("30 * * * *")
    start = dt.datetime.combine(day, dt.time(0, 0), PARIS).astimezone(dt.UTC)
    for quarter in range(4 * 6):
        now = start + dt.timedelta(minutes=15 * quarter)
        last, following = cron.previous(now), cron.next(now)
        # In UTC: Python subtracts two Paris times as wall-clock times, blind to the clock change.
        assert following.astimezone(dt.UTC) - last.astimezone(dt.UTC) == dt.timedelta(hours=1), now
        assert last <= now < following and following.minute == 30
