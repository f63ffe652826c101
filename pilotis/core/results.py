"""What a KPI card shows, computed once: its value, the comparisons declared for it (previous
period or year, territorial positions, target, another indicator), its sparkline and status.

:func:`kpi_result` assembles them from an :class:`~pilotis.core.evaluator.Evaluator` (the time
comparisons are its own, the positions are in :mod:`pilotis.core.positions`, targets and
thresholds in :mod:`pilotis.core.targets`). The card's text is written by the widget.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pilotis.core.partials import number
from pilotis.core.secrecy import masked_rows, rule_of

if TYPE_CHECKING:
    from pilotis.core.evaluator import Evaluator
    from pilotis.core.indicators import Indicator

POSITIONS = ("departement", "epci", "comparables", "rank")
"""Comparisons with other territories (withheld from a viewer restricted to some rows)."""


@dataclass
class Comparison:
    """One comparison line of a KPI card (the text is written by the widget)."""

    kind: str
    """`previous_period`, `previous_year`, `departement`, `epci`, `comparables`, `rank`,
    `target` or `indicator`."""
    reference: float | None = None
    """The value compared with (previous value, average, target…)."""
    value: float | None = None
    """The value it is compared to (usually the card's value)."""
    period: dt.date | None = None
    """The period of ``value`` (changes)."""
    reference_period: dt.date | None = None
    """The period of ``reference`` (changes)."""
    start: dt.date | None = None
    """First period of a cumulated window (flows), for both values."""
    label: str = ""
    """Name of the reference (territory, set of communes, other indicator, target source)."""
    average: bool = False
    """True when ``reference`` is an average per territory (volumes)."""
    count: int | None = None
    """How many territories the average, or the rank, is taken over."""
    rank: int | None = None
    """The rank (1 = highest value)."""
    level: str = ""
    """Territory level of a rank or an average (`commune`, `epci`, `departement`)."""
    share: float | None = None
    """For a volume: share of the département total."""


@dataclass
class KpiResult:
    """Everything a KPI card shows, computed once."""

    value: float | None = None
    end: dt.date | None = None
    start: dt.date | None = None
    grain: str = "year"
    exact: bool = True
    comparisons: list[Comparison] = field(default_factory=list)
    sparkline: list[tuple[dt.date, float | None]] = field(default_factory=list)
    status: str | None = None
    """`ok`, `warning` or `alert` (thresholds); None without thresholds or when they do not
    apply."""
    positions_withheld: bool = False
    """True when territorial comparisons were asked but the user's rows are restricted."""
    secret: str = ""
    """What the card shows instead of a value masked by statistical secrecy (« < 5 »), else ``""``."""


def kpi_result(evaluator: Evaluator, compare: Iterable[Any], sparkline: int | None = None) -> KpiResult:
    """Value, comparisons, sparkline and status for a KPI card (``compare``: the widget's
    ``compare`` items; ``sparkline``: how many periods)."""
    evaluator.sparkline_length = max(evaluator.sparkline_length, sparkline or 0)
    window = evaluator.window()
    result = KpiResult(grain=evaluator.grain())
    if evaluator.anchor is not None and window is None:
        result.exact = evaluator.exact
        return result  # no data for these filters
    result.value = evaluator.value(window)
    result.secret = secret_label(evaluator, window) if result.value is None else ""
    result.end, result.start = (window.end, window.start) if window else (None, None)
    for item in compare:
        kind = item if isinstance(item, str) else "indicator"
        found: Comparison | None = None
        if kind in ("previous_year", "previous_period") and window is not None:
            found = getattr(evaluator, kind)(window)
        elif kind in POSITIONS:
            if not evaluator.exact:
                continue  # the data does not go down to the selected territory
            if not evaluator.positions.allowed():
                result.positions_withheld = True
                continue
            found = evaluator.positions.position(kind, window, result.value)
        elif kind == "target":
            found = evaluator.targets.target(window, result.value)
        elif kind == "indicator":
            found = reference(evaluator, item, result.value)
        if found is not None:
            if found.value is None and kind not in ("previous_period",):
                found.value = result.value
            result.comparisons.append(found)
    if sparkline and window is not None:
        series = evaluator.series()  # the last `sparkline` periods up to the window's end
        series = series[[p <= window.end for p in series.index]]
        result.sparkline = [(p, number(v)) for p, v in series.tail(sparkline).items()]
    result.status = evaluator.targets.status(result.value)
    result.exact = evaluator.exact
    return result


def reference(evaluator: Evaluator, item: Any, value: float | None) -> Comparison | None:
    """The comparison with another indicator (``compare: [{indicator: …}]``), same filters."""
    other = evaluator.lookup(item.indicator)
    sibling = sibling_of(evaluator, other)
    window = sibling.window()
    if sibling.anchor is not None and window is None:
        return None
    evaluator.exact = evaluator.exact and sibling.exact
    return Comparison(
        "indicator",
        value=value,
        reference=sibling.value(window),
        label=item.label or other.label,
        reference_period=window.end if window else None,
    )


def sibling_of(evaluator: Evaluator, indicator: Indicator) -> Evaluator:
    """An evaluator of another indicator with the same scope, options and page."""
    found = type(evaluator)(
        evaluator.scope,
        indicator,
        territory_all=evaluator.territory_all,
        period={"year": "filter", "latest": "latest", "all": "all", "none": "filter"}[evaluator.mode],
        batch=evaluator.batch,
        page=evaluator.page,
        lookup=evaluator.lookup,
    )
    found.sparkline_length = evaluator.sparkline_length
    return found


def secret_label(evaluator: Evaluator, window: Any) -> str:
    """« < 5 » when the value over ``window`` is masked by statistical secrecy, else ``""``."""
    if window not in evaluator.masked_windows:
        return ""
    return _shown(evaluator)


def _shown(evaluator: Evaluator) -> str:
    rules = [rule_of(evaluator.dataset(leaf)) for leaf in evaluator.leaves]
    return next((rule.shown() for rule in rules if rule is not None), "")


def masked_periods(evaluator: Evaluator) -> tuple[set[dt.date], str]:
    """The periods of ``evaluator.series()`` that are gaps because statistical secrecy masked
    them (not for want of data), and what such a cell shows (« < 5 »)."""
    found: set[dt.date] = set()
    for leaf in evaluator.leaves:
        if evaluator.dataset(leaf).period is None:
            continue
        frame = evaluator.period_frame(leaf)
        found.update(period for period, masked in zip(frame.index, masked_rows(frame), strict=True) if masked)
    return found, _shown(evaluator) if found else ""
