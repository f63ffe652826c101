"""Charts of a PDF report as vector SVG, drawn here without a browser (plotly's static export
needs Chrome): a line for a series over time, horizontal bars for a comparison.

Each chart carries ``role="img"``, a ``<title>`` and a ``<desc>`` (its text alternative); the
report prints its data table right after it, so no figure is only in the picture. Texts use the
report's embedded font (``font-family`` is inherited from the page's CSS).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from pilotis.core.formatting import format_number

WIDTH = 640
"""Width of every chart (CSS pixels; the page scales it to the text width)."""
INK = "#1f2937"
GRID = "#d1d5db"
FONT = "Pilotis Sans"
"""The report's embedded font (``@font-face`` of report.css): never a system font."""
MARK = "#1d4ed8"
"""Dark blue on white: contrast 8.6:1, readable printed in grey."""


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round values spanning ``low``–``high`` for the value axis."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    step = max(magnitude * round(raw / magnitude), magnitude) if raw >= 1 else raw
    start = (low // step) * step
    ticks = []
    value = start
    while value <= high + step / 2:
        ticks.append(value)
        value += step
    return ticks


def _decimals(values: Sequence[float]) -> int:
    return 0 if all(float(v).is_integer() for v in values) else 1


def _open(title: str, desc: str, height: int, ident: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" font-family="{FONT}" aria-labelledby="{ident}-t {ident}-d">',
        f'<title id="{ident}-t">{escape(title)}. {escape(desc)}</title>',
        f'<desc id="{ident}-d">{escape(desc)}</desc>',
    ]


def line_chart(labels: Sequence[str], values: Sequence[float], *, title: str, desc: str, ident: str, lang: str) -> str:
    """A line over ``labels`` (periods, in order), with a value axis starting at zero."""
    height, left, right, top, bottom = 300, 70, 16, 14, 46
    present = [v for v in values if v == v]
    high = max(present, default=1.0)
    ticks = _ticks(0.0, high)
    top_value = ticks[-1] or 1.0
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    digits = _decimals(ticks)
    parts = _open(title, desc, height, ident)
    parts.append(f'<g font-family="Pilotis Sans" font-size="11" fill="{INK}">')
    for tick in ticks:
        y = top + plot_h - tick / top_value * plot_h
        parts.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{format_number(tick, digits, lang)}</text>'
        )
    count = max(len(values) - 1, 1)
    points = []
    for index, value in enumerate(values):
        if value != value:  # NaN: a gap
            continue
        x = left + index / count * plot_w
        y = top + plot_h - value / top_value * plot_h
        points.append(f"{x:.1f},{y:.1f}")
    every = max(1, len(labels) // 8)
    for index, label in enumerate(labels):
        if index % every == 0 or index == len(labels) - 1:
            x = left + index / count * plot_w
            parts.append(f'<text x="{x:.1f}" y="{height - bottom + 18}" text-anchor="middle">{escape(label)}</text>')
    parts.append("</g>")
    parts.append(f'<polyline fill="none" stroke="{MARK}" stroke-width="2.5" points="{" ".join(points)}"/>')
    parts.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{INK}"/>')
    parts.append("</svg>")
    return "\n".join(parts)


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, desc: str, ident: str, lang: str) -> str:
    """Horizontal bars, one per label (in the order given), with the value written at the end."""
    row, left, right, top = 26, 170, 90, 8
    height = top * 2 + row * max(len(labels), 1)
    high = max((v for v in values if v == v), default=1.0) or 1.0
    plot_w = WIDTH - left - right
    digits = _decimals([v for v in values if v == v])
    parts = _open(title, desc, height, ident)
    parts.append(f'<g font-family="Pilotis Sans" font-size="12" fill="{INK}">')
    for index, (label, value) in enumerate(zip(labels, values, strict=False)):
        y = top + index * row
        shown = label if len(label) <= 26 else label[:25] + "…"
        parts.append(f'<text x="{left - 8}" y="{y + row / 2 + 4:.1f}" text-anchor="end">{escape(shown)}</text>')
        if value == value:
            width = max(value, 0) / high * plot_w
            written = format_number(value, digits, lang)
            parts.append(
                f'<rect x="{left}" y="{y + 4}" width="{width:.1f}" height="{row - 8}" fill="{MARK}"/>'
                f'<text x="{left + width + 6:.1f}" y="{y + row / 2 + 4:.1f}">{written}</text>'
            )
    parts.append("</g></svg>")
    return "\n".join(parts)
