"""Shared building blocks of widgets: plot styling, accessible graphs, data tables, notices."""

from __future__ import annotations

import copy
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from _plotly_utils.utils import convert_to_base64
from dash import dcc, html

from layouts.html_table import Fmt, data_table
from pilotis.core.formatting import NNBSP, format_period
from pilotis.core.i18n import t
from pilotis.ui.components import aria
from pilotis.ui.components import graph_config as graph_config

# Re-exported: widget modules and dashboards take them from here.
from pilotis.ui.components import notice as notice
from pilotis.ui.components import scroll_region as scroll_region
from pilotis.ui.static_html import Tag, static

PALETTE = ["#1d4e89", "#e07a1f", "#2a9d8f", "#8d5ba8", "#c4423b", "#6b8e23", "#5c677d", "#b07aa1"]
"""Colour-blind-friendly qualitative palette (contrast ≥ 3:1 on white for marks)."""


_WHITE: dict[str, Any] = pio.templates["plotly_white"].to_plotly_json()
"""plotly's ``plotly_white`` template as JSON, read once per process (plotly validates it)."""


def light_template(fig: go.Figure) -> dict[str, Any]:
    """``plotly_white`` for ``fig``: its whole layout part, and the trace defaults of the trace
    types ``fig`` draws only (a line chart does not carry the heatmap's colour scale).

    The full template is 7 kB of the 8 kB of a small chart's JSON, sent with every callback; the
    browser draws the same figure with this one (plotly.js reads only the defaults of the trace
    types it draws). A fresh copy: the shared one is never handed out.
    """
    types = {trace.type for trace in fig.data}
    data = {kind: defaults for kind, defaults in _WHITE["data"].items() if kind in types}
    return copy.deepcopy({"layout": _WHITE["layout"], "data": data})


def set_unchecked(obj: Any, prop: str, value: Any) -> None:
    """``obj[prop] = value`` without plotly validating and deep-copying ``value``: for values
    valid by construction (a registered template, GeoJSON outlines read from the portal's files),
    where that copy was the largest cost of a widget callback (a département's outlines: 240k
    objects copied per map). plotly does the same for its default template
    (``_initialize_layout_template``). ``value`` is shared: never change it afterwards."""
    obj._validate = False
    try:
        obj[prop] = value
    finally:
        obj._validate = True


def set_template(fig: go.Figure) -> None:
    """Give ``fig`` :func:`light_template` (:func:`set_unchecked`: a few ms per figure)."""
    set_unchecked(fig.layout, "template", light_template(fig))


def _style(lang: str, legend: bool, height: int) -> dict[str, Any]:
    """The portal's sober style, French separators (layout properties, fresh dicts)."""
    return {
        "separators": f",{NNBSP}" if lang == "fr" else ".,",
        "font": {
            "family": "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
            "size": 13,
            "color": "#1f2933",
        },
        "colorway": PALETTE,
        "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
        "height": height,
        "showlegend": legend,
        "legend": {"orientation": "h", "y": -0.18},
        "hoverlabel": {"font": {"size": 13}},
        # "10 000", not plotly's "10k" (SI suffixes read as English and puzzle non-specialists).
        "xaxis": {"exponentformat": "none"},
        "yaxis": {"exponentformat": "none"},
    }


def figure_layout(fig: go.Figure, lang: str, *, legend: bool = True, height: int = 320) -> go.Figure:
    """Apply the portal's sober style, French separators and a small payload."""
    set_template(fig)
    fig.update_layout(**_style(lang, legend, height))
    # « 4 000 », not « 4000 »: plotly leaves 4-digit ticks unseparated unless told. Value axes
    # only (every y axis of small multiples too): an x axis may hold years (« 2 019 »).
    fig.update_yaxes(separatethousands=True)
    return fig


def plain_figure(
    traces: list[dict[str, Any]], layout: dict[str, Any], lang: str, *, legend: bool = True, height: int = 320
) -> dict[str, Any]:
    """A figure as plain JSON-ready values, styled as :func:`figure_layout` styles a ``go.Figure``
    (same JSON for the browser): ``traces`` each with their ``type``, ``layout`` the figure's own
    properties (an axis given here is merged into the style's one). For the shipped widgets, whose
    properties are valid by construction: plotly's validation of every property took a third of
    the drawing time of a chart (≈ 8 ms of 13, most of an uncached filter change's charts).
    Properties set to None are left out, as plotly does."""
    data = {kind: defaults for kind, defaults in _WHITE["data"].items() if kind in {t["type"] for t in traces}}
    full = _style(lang, legend, height)
    for key, value in layout.items():
        full[key] = {**full[key], **value} if isinstance(full.get(key), dict) and isinstance(value, dict) else value
    for axis in [k for k in full if k.startswith("yaxis")]:
        full[axis] = {**full[axis], "separatethousands": True}  # see figure_layout
    full = _without_none(full)
    full["template"] = {"layout": _WHITE["layout"], "data": data}  # shared: serialised, never changed
    shown = [_without_none(t) for t in traces]
    convert_to_base64(shown)  # numeric arrays as typed arrays, as plotly sends a go.Figure's
    return {"data": shown, "layout": full}


SPACING = 0.03
"""Horizontal space between two panels of small multiples (a share of the figure's width)."""


def small_multiples(names: list[str], *, percent: bool = False) -> dict[str, Any]:
    """The layout of one row of panels sharing their vertical scale, titled by ``names``: what
    plotly's ``make_subplots(rows=1, cols=len(names), shared_yaxes=True, subplot_titles=names,
    horizontal_spacing=SPACING)`` builds (same domains, to the last digit), as plain values: that
    function and the figure's validation took half the CPU of an uncached filter change on the
    RSA page (≈ 75 ms of 145, for the compare view's two charts)."""
    cols = len(names)
    width = (1.0 - SPACING * (cols - 1)) / cols
    layout: dict[str, Any] = {"margin": {"l": 8, "r": 8, "t": 28, "b": 8}, "annotations": []}
    for c in range(cols):
        start = sum([width] * c) + c * SPACING  # plotly: sum(widths[:c]) + c * spacing
        domain = [start, start + width]
        suffix = "" if c == 0 else str(c + 1)
        layout[f"xaxis{suffix}"] = {"anchor": f"y{suffix}", "domain": domain}
        yaxis: dict[str, Any] = {"anchor": f"x{suffix}", "domain": [0.0, 1.0]}
        if c:
            yaxis.update(matches="y", showticklabels=False)
        if percent:
            yaxis["tickformat"] = ".0%"
        layout[f"yaxis{suffix}"] = yaxis
        layout["annotations"].append(
            {
                "font": {"size": 16},
                "showarrow": False,
                "text": names[c],
                "x": sum(domain) / 2.0,
                "xanchor": "center",
                "xref": "paper",
                "y": 1.0,
                "yanchor": "bottom",
                "yref": "paper",
            }
        )
    return layout


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _without_none(v) if isinstance(v, dict) else v for k, v in values.items() if v is not None}


def wrap_labels(values: Iterable[Any], width: int = 28) -> list[Any]:
    """Long category names broken into lines (``<br>``) of about ``width`` characters.

    On the axis of a horizontal bar chart, a 50-character name would otherwise take the whole
    width of a phone and leave no room for the bars (plotly cuts what does not fit).
    """
    return [
        "<br>".join(textwrap.wrap(v, width, break_on_hyphens=False)) if isinstance(v, str) and len(v) > width else v
        for v in values
    ]


def accessible_graph(
    figure: go.Figure | dict,
    label: str,
    table: html.Div | None,
    lang: str,
    graph_id: str | None = None,
    note: str = "",
) -> html.Div:
    """A graph as one image with an accessible name (``role=img``), its data offered as a table.

    Inside, plotly's SVG would be read as a heap of images named by tick labels: the wrapper's
    ``img`` role makes its content presentational, and assets/pilotis-a11y.js also hides it
    (``aria-hidden``). There is nothing to focus inside (no toolbar: :func:`graph_config`).
    ``note``: a sentence under the figure (« < 5 » : secret statistique).
    """
    props: dict[str, Any] = {"figure": figure, "config": graph_config(lang)}
    if graph_id:
        props["id"] = graph_id
    children: list[Any] = [html.Div(dcc.Graph(**props), role="img", **aria(label=label))]
    if note:  # what the figure leaves out on purpose (statistical secrecy), in words under it
        children.append(html.P(note, className="pilotis-secret-note small text-muted mb-1"))
    if table is not None:
        children.append(table)
    return html.Div(children, className="pilotis-graph")


def period_labels(values: pd.Series, grain: str, lang: str) -> list[str]:
    """Readable labels of a period column."""
    return [format_period(pd.Timestamp(v).date(), grain, lang) for v in values]


def data_details(
    frame: pd.DataFrame,
    labels: dict[str, str],
    formats: dict[str, tuple[Fmt, int]],
    lang: str,
    caption: str,
    grain: str | None = None,
    page_size: int = 20,
    caption_from_yaml: bool = False,
) -> html.Div:
    """A collapsed ``<details>`` with the figure's data as an accessible table
    (:func:`layouts.html_table.data_table`: caption, header scopes, sort buttons, pages), as one
    static block (:mod:`pilotis.ui.static_html`): no callback reads it."""
    table = data_table(
        frame,
        labels,
        formats,
        lang,
        caption or "",
        page_size=page_size,
        grain=grain,
        caption_from_yaml=caption_from_yaml,
        as_tag=True,
    )
    return static(Tag("details", [Tag("summary", t("see_data", lang)), table], className="pilotis-details"))


def column_formats(names: Sequence[str], fmt: Fmt, decimals: int) -> dict[str, tuple[Fmt, int]]:
    """The same format for several columns."""
    return {name: (fmt, decimals) for name in names}
