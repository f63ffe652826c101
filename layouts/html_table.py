"""The portal's accessible data table: a real ``<table>`` with a caption, header scopes, sort
buttons that announce their state and a pager that says « Page 2 sur 5 ».

It replaces ``dash_table.DataTable``, whose document-level key handling cancelled Tab: on every
dashboard with a table, keyboard users were stuck on its first sort button (issue 12).

Shape: the rows are one escaped HTML string in a ``dcc.Markdown`` (dash-renderer walks every
component of a callback answer; one component per cell made a map's 240-row table cost ~8 s of
renderer CPU). Every row is sent; the ones beyond the first page carry ``hidden``. Sorting and
paging happen in the browser (``assets/pilotis-table.js``), without a round trip: the focus
stays on the button pressed, the state is announced in a polite live region. Cells carry their
sort key (``data-sort``): the raw number, an ISO date, or the name folded for French collation
(« Mée » before « Moulay »). Tables are bounded by their widget's ``limit`` (500 rows by default).
"""

from __future__ import annotations

import hashlib
import math
from html import escape
from typing import Any, Literal

import pandas as pd
from dash import dcc, html

from pilotis.core.formatting import format_period, format_value, french_fold
from pilotis.core.i18n import t
from pilotis.core.query import PERIOD
from pilotis.ui.components import scroll_region

Fmt = Literal["number", "percent", "euro"]


def _esc(value: object) -> str:
    """Escaped, on one line (a blank line would end the HTML block of the Markdown)."""
    return escape(str(value)).replace("\r", " ").replace("\n", " ")  # keeps U+202F


def _row_header(columns: list[str]) -> int:
    """The column that names a row: a name beside a code (``code_insee_nom``, ``nom``), else the first."""
    for index, column in enumerate(columns):
        if column == "nom" or column.endswith("_nom"):
            return index
    return 0


def _cell(column: str, value: Any, formats: dict[str, tuple[Fmt, int]], lang: str, grain: str | None) -> tuple:
    """(text shown, sort key, is a number) of one cell."""
    if column == PERIOD and grain and not pd.isna(value):
        day = pd.Timestamp(value).date()
        return format_period(day, grain, lang), day.isoformat(), False
    if column in formats:
        fmt, decimals = formats[column]
        missing = value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value)
        return format_value(value, fmt, decimals, lang=lang), "" if missing else repr(float(value)), True
    text = "–" if pd.isna(value) else str(value)
    return text, french_fold(text), False


def _split(template: str) -> tuple[str, str]:
    """The text before and after ``{column}`` in a translated template."""
    before, _, after = template.partition("\x00")
    return before, after


def data_table(
    frame: pd.DataFrame,
    labels: dict[str, str],
    formats: dict[str, tuple[Fmt, int]],
    lang: str,
    caption: str,
    *,
    page_size: int = 10,
    grain: str | None = None,
    sorted_by: tuple[str, bool] | None = None,
    table_id: str | None = None,
    caption_from_yaml: bool = False,
) -> html.Div:
    """``frame`` as an accessible, sortable, paged table.

    ``formats``: numeric columns (right-aligned, French numbers); ``grain``: the period column's
    grain; ``sorted_by``: (column, descending) when the rows arrive sorted (the header says so);
    ``caption_from_yaml``: the caption is a title written in YAML (French): ``lang="fr"`` on an
    English page.
    """
    columns = [str(c) for c in frame.columns]
    header_index = _row_header(columns)
    before, after = _split(t("sort_by", lang, column="\x00"))
    heads = []
    for column in columns:
        numeric = column in formats
        state = ""
        if sorted_by and sorted_by[0] == column:
            state = f' aria-sort="{"descending" if sorted_by[1] else "ascending"}"'
        label = _esc(labels.get(column, column))
        kind, align = ("num", ' class="text-end"') if numeric else ("text", "")
        heads.append(
            f'<th scope="col" data-col="{_esc(column)}" data-type="{kind}"{state}{align}>'
            f'<button type="button" class="pilotis-sort" data-action="sort">'
            f'<span class="visually-hidden">{_esc(before)}</span>{label}'
            f'<span class="visually-hidden">{_esc(after)}</span>'
            f'<span class="pilotis-sort-icon" aria-hidden="true"></span></button></th>'
        )
    rows = []
    for number, record in enumerate(frame.itertuples(index=False)):
        cells = []
        for index, (column, value) in enumerate(zip(columns, record, strict=True)):
            text, key, numeric = _cell(column, value, formats, lang, grain)
            tag = "th" if index == header_index else "td"
            scope = ' scope="row"' if tag == "th" else ""
            align = ' class="text-end"' if numeric else ""
            cells.append(f'<{tag}{scope}{align} data-sort="{_esc(key)}">{_esc(text)}</{tag}>')
        hidden = " hidden" if number >= page_size else ""
        rows.append(f"<tr{hidden}>{''.join(cells)}</tr>")
    # The caption names the scrolled region too (aria-labelledby): one id per table content.
    digest = hashlib.sha1(f"{caption}|{columns}|{len(frame)}|{table_id}".encode()).hexdigest()[:12]
    caption_id = f"pilotis-caption-{digest}"
    caption_lang = ' lang="fr"' if caption_from_yaml and lang != "fr" else ""
    table = (
        '<table class="table table-sm table-striped pilotis-data-table">'
        f'<caption id="{caption_id}"{caption_lang}>{_esc(caption)}</caption>'
        f"<thead><tr>{''.join(heads)}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )  # a single line: CommonMark passes an HTML block through untouched
    pages = max(1, math.ceil(len(frame) / page_size))
    status = t("page_of", lang, page=1, pages=pages) if pages > 1 else ""
    pager = ""
    if pages > 1:
        off = ' aria-disabled="true"'
        buttons = "".join(
            f'<button type="button" class="btn btn-sm btn-outline-secondary" data-action="{action}"'
            f"{off if action in ('first', 'previous') else ''}>{_esc(t(key, lang))}</button>"
            for action, key in (
                ("first", "first_page"),
                ("previous", "previous_page"),
                ("next", "next_page"),
                ("last", "last_page"),
            )
        )
        pager = (
            f'<nav class="pilotis-pager" aria-labelledby="{caption_id}-pages {caption_id}">'
            f'<span id="{caption_id}-pages" hidden>{_esc(t("table_pages", lang))}</span>'
            f'<div class="pilotis-pager-buttons">{buttons}</div></nav>'
        )
    live = (
        f'<p class="pilotis-table-status{"" if pages > 1 else " visually-hidden"}" '
        f'aria-live="polite" aria-atomic="true">{_esc(status)}</p>'
    )
    attributes: dict[str, Any] = {
        "data-page-size": str(page_size),
        "data-text-page": t("page_of", lang, page="{page}", pages="{pages}"),
        "data-text-ascending": t("sorted_ascending", lang, column="{column}"),
        "data-text-descending": t("sorted_descending", lang, column="{column}"),
    }
    if table_id:
        attributes["id"] = table_id
    return html.Div(
        [
            scroll_region(dcc.Markdown(table, dangerously_allow_html=True), caption, labelledby=caption_id),
            dcc.Markdown(pager + live, dangerously_allow_html=True, className="pilotis-pager-box"),
        ],
        className="pilotis-table",
        **attributes,
    )
