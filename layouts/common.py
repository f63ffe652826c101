"""Shared building blocks of widgets: plot styling, accessible graphs, data tables, notices."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any, Literal

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html
from dash.dash_table.DataTable import DataTable
from dash.dash_table.Format import Format, Group, Scheme, Symbol

from pilotis.core.formatting import NNBSP, format_period, format_value
from pilotis.core.i18n import t
from pilotis.core.query import PERIOD
from pilotis.ui.components import aria

# Re-exported: widget modules and dashboards take them from here.
from pilotis.ui.components import notice as notice
from pilotis.ui.components import scroll_region as scroll_region

Fmt = Literal["number", "percent", "euro"]
PALETTE = ["#1d4e89", "#e07a1f", "#2a9d8f", "#8d5ba8", "#c4423b", "#6b8e23", "#5c677d", "#b07aa1"]
"""Colour-blind-friendly qualitative palette (contrast ≥ 3:1 on white for marks)."""


def figure_layout(fig: go.Figure, lang: str, *, legend: bool = True, height: int = 320) -> go.Figure:
    """Apply the portal's sober style, French separators and a small payload."""
    fig.update_layout(
        template="plotly_white",
        separators=f",{NNBSP}" if lang == "fr" else ".,",
        font={
            "family": "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
            "size": 13,
            "color": "#1f2933",
        },
        colorway=PALETTE,
        margin={"l": 8, "r": 8, "t": 8, "b": 8},
        height=height,
        showlegend=legend,
        legend={"orientation": "h", "y": -0.18},
        hoverlabel={"font": {"size": 13}},
        # "10 000", not plotly's "10k" (SI suffixes read as English and puzzle non-specialists).
        xaxis={"exponentformat": "none"},
        yaxis={"exponentformat": "none"},
    )
    return fig


def wrap_labels(values: Iterable[Any], width: int = 28) -> list[Any]:
    """Long category names broken into lines (``<br>``) of about ``width`` characters.

    On the axis of a horizontal bar chart, a 50-character name would otherwise take the whole
    width of a phone and leave no room for the bars (plotly cuts what does not fit).
    """
    return [
        "<br>".join(textwrap.wrap(v, width, break_on_hyphens=False)) if isinstance(v, str) and len(v) > width else v
        for v in values
    ]


def graph_config(lang: str) -> dict[str, Any]:
    """dcc.Graph config: French locale, no plotly logo, no external links."""
    return {
        "locale": lang,
        "displaylogo": False,
        "responsive": True,
        # plotly.js 4 adds "Share chart..." (sendChartToCloud): it uploads the figure's data to
        # Plotly Cloud. Never on an internal portal of confidential data.
        "modeBarButtonsToRemove": ["lasso2d", "select2d", "sendDataToCloud", "sendChartToCloud", "editInChartStudio"],
        "showSendToCloud": False,
        # Geo plots load a base map (topojson) even when it is hidden; by default from a CDN,
        # which an air-gapped intranet cannot reach (the map then stays blank).
        "topojsonURL": "/assets/vendor/plotly-topojson/",
        "toImageButtonOptions": {"format": "png", "scale": 2},
    }


def accessible_graph(
    figure: go.Figure, label: str, table: html.Details | None, lang: str, graph_id: str | None = None
) -> html.Div:
    """A graph with an accessible name (``role=figure``) and its data offered as a table."""
    props: dict[str, Any] = {"figure": figure, "config": graph_config(lang)}
    if graph_id:
        props["id"] = graph_id
    # role="figure", not "img": the plotly toolbar inside holds real buttons
    # (an img's children are presentational: axe nested-interactive, serious).
    children: list[Any] = [html.Div(dcc.Graph(**props), role="figure", **aria(label=label))]
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
) -> html.Details:
    """A collapsed ``<details>`` with the figure's data as a plain, accessible HTML table.

    The table is one escaped HTML string in a ``dcc.Markdown``, not one Dash component per cell:
    dash-renderer walks every component of every callback answer, and a map's 240 rows × 3 cells
    made a dashboard take ~4× longer to become ready (8 s of dash-renderer CPU on /rh).
    """

    def esc(value: object) -> str:  # escaped, on one line (a blank line would end the HTML block)
        return escape(str(value)).replace("\r", " ").replace("\n", " ")  # keeps U+202F

    head = "".join(f'<th scope="col">{esc(labels.get(c, c))}</th>' for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record, strict=True):
            if column == PERIOD and grain:
                text, align = format_period(pd.Timestamp(value).date(), grain, lang), ""
            elif column in formats:
                fmt, decimals = formats[column]
                text, align = format_value(value, fmt, decimals, lang=lang), ' class="text-end"'
            else:
                text, align = "–" if pd.isna(value) else str(value), ""
            cells.append(f"<td{align}>{esc(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    table = (
        '<table class="table table-sm table-striped pilotis-data-table">'
        f"<caption>{esc(caption or '')}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )  # a single line: CommonMark passes an HTML block through untouched
    scroller = scroll_region(dcc.Markdown(table, dangerously_allow_html=True), caption or "")
    return html.Details([html.Summary(t("see_data", lang)), scroller], className="pilotis-details")


def datatable(
    table_id: str,
    frame: pd.DataFrame,
    labels: dict[str, str],
    formats: dict[str, tuple[Fmt, int]],
    lang: str,
    page_size: int = 10,
) -> DataTable:
    """A sortable, paginated table with French number formats."""
    columns: list[Any] = []  # dash_table's `Columns` TypedDict cannot hold a `Format` object
    for name in frame.columns:
        spec: dict[str, Any] = {"name": labels.get(name, name), "id": name}
        if name in formats:
            fmt, decimals = formats[name]
            scheme = Scheme.percentage if fmt == "percent" else Scheme.fixed
            spec["type"] = "numeric"
            spec["format"] = Format(
                precision=decimals, scheme=scheme, group=Group.yes, symbol_suffix=f"{NNBSP}€" if fmt == "euro" else ""
            )
            if fmt == "euro":
                spec["format"] = spec["format"].symbol(Symbol.yes)  # shows the " €" suffix
        else:
            spec["type"] = "text"  # codes and names: left-aligned (numbers stay right-aligned)
        columns.append(spec)
    return DataTable(
        id=table_id,
        data=frame.to_dict("records"),
        columns=columns,
        sort_action="native",
        page_action="native",
        page_size=page_size,
        locale_format={"decimal": ",", "group": NNBSP} if lang == "fr" else {},
        style_as_list_view=True,
        style_table={"overflowX": "auto"},
        style_cell={"fontFamily": "inherit", "fontSize": "0.9rem", "padding": "6px"},
        style_header={"fontWeight": "600", "backgroundColor": "#f1f3f5", "color": "#1f2933"},
        style_cell_conditional=[{"if": {"column_type": "text"}, "textAlign": "left"}],
        style_header_conditional=[{"if": {"column_type": "text"}, "textAlign": "left"}],
    )


def column_formats(names: Sequence[str], fmt: Fmt, decimals: int) -> dict[str, tuple[Fmt, int]]:
    """The same format for several columns."""
    return {name: (fmt, decimals) for name in names}
