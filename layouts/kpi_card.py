"""Drawing a KPI card from a :class:`pilotis.core.comparisons.KpiResult`.

Every comparison is a sentence with its numbers (arrow, signed change, both periods, the
meaning in words): colour only repeats what the text says. The sparkline is an SVG image with
a text alternative that states where the series starts, ends and peaks.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from dash import html

from layouts.common import notice
from pilotis.core.comparisons import Comparison, KpiResult, shift
from pilotis.core.formatting import format_number, format_period, format_value
from pilotis.core.i18n import t
from pilotis.core.indicators import Indicator
from pilotis.core.usage import drill_targets
from pilotis.core.widgets import RenderContext
from pilotis.ui.components import aria

SPARK_WIDTH, SPARK_HEIGHT = 140, 36
STATUS_ICONS = {
    "ok": "bi-check-circle",
    "warning": "bi-exclamation-triangle",
    "alert": "bi-exclamation-octagon",
}


class Formats:
    """How the values of one card are written (its unit, format, decimals, language)."""

    def __init__(self, widget: Any, lang: str) -> None:
        self.widget = widget
        self.lang = lang

    def value(self, value: float | None) -> str:
        w = self.widget
        return format_value(value, w.format, w.decimals, w.unit, self.lang)

    def delta(self, delta: float) -> str:
        """A signed difference: `+590 foyers`, `−1,2 pt` (percent-point for a percentage)."""
        sign = "+" if delta > 0 else ""
        if self.widget.format == "percent":
            points = format_number(delta * 100, max(self.widget.decimals, 1), self.lang)
            return f"{sign}{points}\u202f{t('points', self.lang)}"
        return sign + self.value(delta)

    def relative(self, delta: float, reference: float) -> str | None:
        """A signed relative change `+15,3 %` (None for a percentage, or from zero)."""
        if self.widget.format == "percent" or reference == 0:
            return None
        pct = delta / abs(reference)
        if pct >= 1 and reference > 0:  # « ×46,2 » reads better than « +4 516,0 % »
            return f"×{format_number((reference + delta) / reference, 1, self.lang)}"
        return f"{'+' if pct > 0 else ''}{format_value(pct, 'percent', 1, lang=self.lang)}"

    def gap(self, value: float, reference: float) -> str:
        """« écart : +1,3 (+13 %) »."""
        delta = value - reference
        relative = self.relative(delta, reference)
        return f"{t('gap', self.lang)} {self.delta(delta)}" + (f", {relative}" if relative else "")


def _tone(widget: Any, delta: float, reference: float, lang: str) -> tuple[str, str, str]:
    """Arrow, tone (`good`, `bad`, `neutral`) and words of a change."""
    pct = delta / abs(reference) if reference else (1.0 if delta else 0.0)
    if abs(pct) < 0.0005:
        return "→", "neutral", t("stable", lang)
    arrow = "▲" if delta > 0 else "▼"
    if widget.better == "neutral":
        return arrow, "neutral", ""
    good = (delta > 0) == (widget.better == "up")
    return arrow, "good" if good else "bad", t("favourable" if good else "unfavourable", lang)


def _period(day: dt.date | None, start: dt.date | None, grain: str, lang: str) -> str:
    if day is None:
        return ""
    if start is not None and start != day:
        return f"{format_period(start, grain, lang)} – {format_period(day, grain, lang)}"
    return format_period(day, grain, lang)


def change_line(widget: Any, item: Comparison, grain: str, lang: str) -> html.Li | None:
    """« ▲ +15,3 % (+590 foyers) : octobre 2020 par rapport à octobre 2019 (évolution
    défavorable) »."""
    if item.value is None or item.reference is None:
        return None
    fmt = Formats(widget, lang)
    delta = item.value - item.reference
    arrow, tone, words = _tone(widget, delta, item.reference, lang)
    relative = fmt.relative(delta, item.reference)
    amount = f"{relative} ({fmt.delta(delta)})" if relative else fmt.delta(delta)
    before = shift(item.start, "month", -12) if item.start and item.kind == "previous_year" else None
    text = (
        f"{arrow} {amount} : {_period(item.period, item.start, grain, lang)} {t('vs', lang)} "
        f"{_period(item.reference_period, before, grain, lang)}"
    )
    if words:
        text += f" ({words})"
    return html.Li(text, className=f"pilotis-kpi-change pilotis-{tone}")


def _band(label: str, lang: str) -> str:
    low, _, high = label.partition("|")
    if not high:
        return t("band_above", lang, low=format_number(int(low), 0, lang))
    if int(low) == 0:
        return t("band_below", lang, high=format_number(int(high), 0, lang))
    return t(
        "band",
        lang,
        low=format_number(int(low), 0, lang),
        high=format_number(int(high) - 1, 0, lang),
    )


def position_line(widget: Any, item: Comparison, lang: str) -> html.Li | None:
    """Département / EPCI / comparable communes: the reference value and the gap to it."""
    if item.value is None or item.reference is None:
        return None
    fmt = Formats(widget, lang)
    units = t("units_epci" if item.level == "epci" else "units_commune", lang)
    where = _band(item.label, lang) if item.kind == "comparables" else item.label
    if item.average:
        if item.kind == "comparables":
            name = t("average_of_band", lang, count=item.count, where=where.lower())
        else:
            name = t("average_of", lang, count=item.count, units=units, where=where)
    else:
        name = where
    text = f"{name} : {fmt.value(item.reference)} ({fmt.gap(item.value, item.reference)})"
    if item.share is not None:
        text += " ; " + t(
            "share_of",
            lang,
            share=format_value(item.share, "percent", 1, lang=lang),
            where=item.label,
        )
    return html.Li(text, className="pilotis-kpi-position")


def _ordinal(rank: int, lang: str) -> str:
    if lang == "fr":
        return "1er" if rank == 1 else f"{rank}e"
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return f"{rank}{suffix}"


def rank_line(item: Comparison, lang: str) -> html.Li | None:
    """« Rang : 12e sur 240 communes (1er = valeur la plus élevée) »."""
    if item.rank is None or item.count is None:
        return None
    units = {"commune": "units_commune", "epci": "units_epci", "departement": "units_departement"}[item.level]
    return html.Li(
        t(
            "rank_text",
            lang,
            rank=_ordinal(item.rank, lang),
            count=format_number(item.count, 0, lang),
            units=t(units, lang),
        ),
        className="pilotis-kpi-rank",
    )


def target_line(widget: Any, item: Comparison, lang: str) -> list[Any]:
    """The target, whether it is reached (in words) and, for `better: up`, a progress bar."""
    if item.value is None or item.reference is None:
        return []
    fmt = Formats(widget, lang)
    year = f" {item.reference_period.year}" if item.reference_period else ""
    head = f"{t('target', lang)}{year}"
    if item.label:
        head += f" ({item.label})"
    text = f"{head} : {fmt.value(item.reference)}"
    if widget.better in ("up", "down"):
        reached = item.value >= item.reference if widget.better == "up" else item.value <= item.reference
        text += f" — {t('reached' if reached else 'not_reached', lang)}"
    text += f" ({fmt.gap(item.value, item.reference)})"
    parts: list[Any] = [html.Li(text, className="pilotis-kpi-target")]
    if widget.better == "up" and item.reference > 0:
        share = max(0.0, min(item.value / item.reference, 1.0))
        label = t("progress", lang, pct=format_value(share, "percent", 0, lang=lang))
        parts.append(
            html.Li(
                html.Progress(
                    value=str(round(share * 100)),
                    max="100",
                    title=label,
                    className="pilotis-kpi-progress",
                    **aria(label=label),
                ),
                className="pilotis-kpi-progress-item",
            )
        )
    return parts


def indicator_line(widget: Any, item: Comparison, grain: str, lang: str) -> html.Li | None:
    if item.value is None or item.reference is None:
        return None
    fmt = Formats(widget, lang)
    when = f" ({format_period(item.reference_period, grain, lang)})" if item.reference_period else ""
    return html.Li(
        f"{item.label}{when} : {fmt.value(item.reference)} ({fmt.gap(item.value, item.reference)})",
        className="pilotis-kpi-reference",
    )


def status_badge(widget: Any, indicator: Indicator, status: str, lang: str) -> html.P:
    """Status from the thresholds: icon and words (the colour only repeats them)."""
    thresholds = indicator.spec.thresholds
    assert thresholds is not None
    limit = thresholds.alert if status == "alert" else thresholds.warning
    text = t(f"status_{status}", lang)
    if status != "ok" and limit is not None:
        text += " : " + t("threshold_reached", lang, value=Formats(widget, lang).value(limit))
    return html.P(
        [html.I(className=f"bi {STATUS_ICONS[status]} me-1", **aria(hidden="true")), text],
        className=f"pilotis-status pilotis-status-{status} small mb-1",
    )


def sparkline(widget: Any, points: list[tuple[dt.date, float | None]], grain: str, lang: str) -> html.Img | None:
    """A small SVG line of the last periods, with a text alternative."""
    known = [(d, v) for d, v in points if v is not None]
    if len(known) < 2:
        return None
    values = [v for _, v in known]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (SPARK_WIDTH - 8) / max(len(points) - 1, 1)
    coords: list[str] = []
    segments: list[list[str]] = []
    for i, (_, value) in enumerate(points):
        if value is None:
            if coords:
                segments.append(coords)
            coords = []
            continue
        x = 4 + i * step
        y = SPARK_HEIGHT - 4 - (value - low) / span * (SPARK_HEIGHT - 8)
        coords.append(f"{x:.1f},{y:.1f}")
    if coords:
        segments.append(coords)
    lines = "".join(
        f'<polyline fill="none" stroke="#1d4e89" stroke-width="2" points="{" ".join(c)}"/>' for c in segments
    )
    last = segments[-1][-1].split(",")
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" '
        f'viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}">{lines}'
        f'<circle cx="{last[0]}" cy="{last[1]}" r="3" fill="#1d4e89"/></svg>'
    )
    fmt = Formats(widget, lang)
    first_day, first = known[0]
    last_day, final = known[-1]
    peak_day, peak = max(known, key=lambda p: p[1])
    alt = t(
        "sparkline_alt",
        lang,
        count=len(points),
        first=fmt.value(first),
        start=format_period(first_day, grain, lang),
        last=fmt.value(final),
        end=format_period(last_day, grain, lang),
        peak=fmt.value(peak),
        peak_date=format_period(peak_day, grain, lang),
    )
    source = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return html.Img(
        src=source,
        alt=alt,
        width=str(SPARK_WIDTH),
        height=str(SPARK_HEIGHT),
        className="pilotis-sparkline d-block mt-1",
    )


def links(widget: Any, indicator: Indicator, ctx: RenderContext) -> html.P | None:
    """ⓘ (the indicator's card) and, on a synthesis dashboard, the thematic dashboard."""
    if not widget.kpi:
        return None
    lang = ctx.lang
    parts: list[Any] = [
        html.A(
            [
                html.I(className="bi bi-info-circle me-1", **aria(hidden="true")),
                t("indicator_card", lang),
            ],
            href=f"/indicateurs/{indicator.id}",
            className="pilotis-kpi-info",
            **aria(label=f"{t('indicator_card', lang)} : {indicator.label}"),
        )
    ]
    if ctx.dashboard.spec.overview:
        for target in drill_targets(ctx.principal, ctx.registry, indicator.id)[:1]:
            parts.append(
                html.A(
                    [
                        t("see_dashboard", lang, title=target.spec.title),
                        html.I(className="bi bi-arrow-right ms-1", **aria(hidden="true")),
                    ],
                    href=target.spec.url,
                    className="pilotis-drill ms-3",
                )
            )
    return html.P(parts, className="pilotis-kpi-links small mb-0 mt-2")


def card(widget: Any, indicator: Indicator, result: KpiResult, ctx: RenderContext) -> list[Any]:
    """The children of a KPI card's body."""
    lang = ctx.lang
    children: list[Any] = []
    if not result.exact:
        children.append(notice(t("not_at_level", lang), "info"))
    if result.secret:  # statistical secrecy: « < 5 », never the value, and why
        shown = html.Abbr(result.secret, title=t("secret_title", lang))
        children.append(html.P(shown, className="pilotis-kpi-value pilotis-secret mb-1"))
        children.append(html.P(t("secret_kpi", lang, label=result.secret), className="small text-muted mb-1"))
    else:
        children.append(html.P(Formats(widget, lang).value(result.value), className="pilotis-kpi-value mb-1"))
    if result.end is not None:
        end = format_period(result.end, result.grain, lang)
        label = (
            t("cumul", lang, start=format_period(result.start, result.grain, lang), end=end)
            if result.start and result.start != result.end
            else t("as_of", lang, period=end)
        )
        children.append(html.P(label, className="pilotis-kpi-date small text-muted mb-1"))
    if result.status is not None:
        children.append(status_badge(widget, indicator, result.status, lang))
    lines: list[Any] = []
    for item in result.comparisons:
        if item.kind in ("previous_year", "previous_period"):
            lines.append(change_line(widget, item, result.grain, lang))
        elif item.kind in ("departement", "epci", "comparables"):
            lines.append(position_line(widget, item, lang))
        elif item.kind == "rank":
            lines.append(rank_line(item, lang))
        elif item.kind == "target":
            lines.extend(target_line(widget, item, lang))
        elif item.kind == "indicator":
            lines.append(indicator_line(widget, item, result.grain, lang))
    lines = [line for line in lines if line is not None]
    if lines:
        children.append(html.Ul(lines, className="pilotis-kpi-comparisons list-unstyled small mb-1"))
    if result.positions_withheld:
        children.append(html.P(t("positions_withheld", lang), className="small text-muted mb-1"))
    if result.sparkline:
        image = sparkline(widget, result.sparkline, result.grain, lang)
        if image is not None:
            children.append(image)
    extra = links(widget, indicator, ctx)
    if extra is not None:
        children.append(extra)
    return children
