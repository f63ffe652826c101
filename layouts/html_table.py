"""The portal's accessible data table: a real ``<table>`` with a caption, header scopes, sort
buttons that announce their state and a pager that says « Page 2 sur 5 ».

It replaces ``dash_table.DataTable``, whose document-level key handling cancelled Tab: on every
dashboard with a table, keyboard users were stuck on its first sort button (issue 12).

Shape: the caption, the header (sort buttons) and the pager are static HTML (one Dash component
for the whole box, :mod:`pilotis.ui.static_html`, drawn by ``assets/pilotis-static.js``); the rows
are sent as one compact JSON array in the box's ``data-rows`` (``[[text, sort key], …]`` per row)
and ``assets/pilotis-table.js`` writes them into the (empty) ``<tbody>`` as plain DOM, the ones
beyond the first page ``hidden``. Neither one component per cell (dash-renderer walks every
component of a callback answer: a map's 240-row table cost ~8 s of renderer CPU) nor an HTML
string in ``dcc.Markdown`` (its parser is a 67 kB lazy chunk). Sorting and paging happen in the
browser, without a round trip: the focus stays on the button pressed, the state is announced in
a polite live region. Cells carry their
sort key (``data-sort``): the raw number, an ISO date, or the name folded for French collation
(« Mée » before « Moulay »). Tables are bounded by their widget's ``limit`` (500 rows by default).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from typing import Any, Literal

import pandas as pd
from dash import html

from pilotis.core.formatting import format_period, format_value, french_fold
from pilotis.core.i18n import t
from pilotis.core.query import PERIOD
from pilotis.core.secrecy import SECRET, label_of, masked_rows
from pilotis.ui.components import scroll_region
from pilotis.ui.static_html import Tag, static

Fmt = Literal["number", "percent", "euro"]


def _row_header(columns: list[str]) -> int:
    """The column that names a row: a name beside a code (``code_insee_nom``, ``nom``), else the first."""
    for index, column in enumerate(columns):
        if column == "nom" or column.endswith("_nom"):
            return index
    return 0


def _missing(value: Any) -> bool:
    """``pd.isna`` of one cell, without its cost on the common types (str, int, float)."""
    if value is None:
        return True
    kind = type(value)
    if kind is str or kind is int or kind is bool:
        return False
    if kind is float:
        return value != value  # NaN
    return bool(pd.isna(value))


_fold = functools.lru_cache(maxsize=8192)(french_fold)
""":func:`french_fold` of the names and codes of the tables: the same communes at every request."""


def _cells(column: str, values: list[Any], formats: dict[str, tuple[Fmt, int]], lang: str, grain: str | None) -> list:
    """``[text shown, sort key]`` of each cell of one column (one pass per column: a map's table
    has 1,000 cells and more, the per-cell cost is what counts)."""
    out: list[list[str]] = []
    fmt, decimals = formats.get(column, ("number", 0))
    numeric, dated = column in formats, column == PERIOD and bool(grain)
    for value in values:
        missing = _missing(value)
        if dated and not missing:
            day = pd.Timestamp(value).date()
            out.append([format_period(day, grain or "", lang), day.isoformat()])
        elif numeric:
            out.append([format_value(value, fmt, decimals, lang=lang), "" if missing else repr(float(value))])
        else:
            text = "–" if missing else str(value)
            out.append([text, _fold(text)])
    return out


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
    as_tag: bool = False,
) -> html.Div | Tag:
    """``frame`` as an accessible, sortable, paged table.

    ``formats``: numeric columns (right-aligned, French numbers); ``grain``: the period column's
    grain; ``sorted_by``: (column, descending) when the rows arrive sorted (the header says so);
    ``caption_from_yaml``: the caption is a title written in YAML (French): ``lang="fr"`` on an
    English page. The box is a static block (:mod:`pilotis.ui.static_html`: its caption, sort
    buttons and pager are no Dash components, and are built as :class:`Tag` elements, without
    Dash's constructor); ``as_tag``: the box as a :class:`Tag`, for a caller that puts the table
    inside a static block of its own.
    """
    secret = label_of(frame)
    masked = masked_rows(frame).to_numpy() if secret else None  # rows whose small counts are hidden
    kept = [(str(c), series) for c, series in frame.items() if c != SECRET]  # not frame.drop: a copy
    columns = [column for column, _ in kept]
    header_index = _row_header(columns)
    before, after = _split(t("sort_by", lang, column="\x00"))
    heads = []
    for column in columns:
        numeric = column in formats
        extra: dict[str, Any] = {"data-col": column, "data-type": "num" if numeric else "text"}
        if sorted_by and sorted_by[0] == column:
            extra["aria-sort"] = extra["data-sorted"] = "descending" if sorted_by[1] else "ascending"
        name: list[Any] = [Tag("span", before, className="visually-hidden")] if before else []
        name.append(labels.get(column, column))
        if after:
            name.append(Tag("span", after, className="visually-hidden"))
        name.append(Tag("span", className="pilotis-sort-icon", **{"aria-hidden": "true"}))
        button = Tag("button", name, type="button", className="pilotis-sort", **{"data-action": "sort"})
        heads.append(Tag("th", button, scope="col", className="text-end" if numeric else None, **extra))
    hidden = [secret, "", t("secret_title", lang)]  # « < 5 » as <abbr title="secret statistique">
    by_column = []
    for column, series in kept:
        values = series.tolist()
        cells = _cells(column, values, formats, lang, grain)
        if column in formats and masked is not None:  # « < 5 » where a masked row has no number
            pairs = enumerate(zip(values, cells, strict=True))
            cells = [hidden if masked[i] and _missing(value) else cell for i, (value, cell) in pairs]
        by_column.append(cells)
    rows = [list(row) for row in zip(*by_column, strict=True)] if by_column else [[] for _ in range(len(frame))]
    # The caption names the scrolled region too (aria-labelledby): one id per table content.
    digest = hashlib.sha1(f"{caption}|{columns}|{len(frame)}|{table_id}".encode()).hexdigest()[:12]
    caption_id = f"pilotis-caption-{digest}"
    table = Tag(
        "table",
        [
            Tag("caption", caption, id=caption_id, lang="fr" if caption_from_yaml and lang != "fr" else None),
            Tag("thead", Tag("tr", heads)),
            Tag("tbody"),  # filled by pilotis-table.js from data-rows
        ],
        className="table table-sm table-striped pilotis-data-table",
    )
    pages = max(1, math.ceil(len(frame) / page_size))
    pager: list[Any] = []
    if pages > 1:
        off: dict[str, Any] = {"aria-disabled": "true"}
        buttons = [
            Tag(
                "button",
                t(key, lang),
                type="button",
                className="btn btn-sm btn-outline-secondary",
                **{"data-action": action, **(off if action in ("first", "previous") else {})},
            )
            for action, key in (
                ("first", "first_page"),
                ("previous", "previous_page"),
                ("next", "next_page"),
                ("last", "last_page"),
            )
        ]
        pager.append(
            Tag(
                "nav",
                [
                    Tag("span", t("table_pages", lang), id=f"{caption_id}-pages", hidden="hidden"),
                    Tag("div", buttons, className="pilotis-pager-buttons"),
                ],
                className="pilotis-pager",
                **{"aria-labelledby": f"{caption_id}-pages {caption_id}"},
            )
        )
    pager.append(
        Tag(
            "p",
            t("page_of", lang, page=1, pages=pages) if pages > 1 else "",
            className="pilotis-table-status" + ("" if pages > 1 else " visually-hidden"),
            **{"aria-live": "polite", "aria-atomic": "true"},
        )
    )
    attributes: dict[str, Any] = {
        "data-page-size": str(page_size),
        "data-row-header": str(header_index),
        "data-rows": json.dumps(rows, ensure_ascii=False, separators=(",", ":")),
        "data-text-page": t("page_of", lang, page="{page}", pages="{pages}"),
        "data-text-ascending": t("sorted_ascending", lang, column="{column}"),
        "data-text-descending": t("sorted_descending", lang, column="{column}"),
    }
    if table_id:
        attributes["id"] = table_id
    if secret:
        pager.append(Tag("p", t("secret_note", lang, label=secret), className="pilotis-secret-note small text-muted"))
    # scroll_region's div is the one Dash component of the box (its rules live there); markup()
    # writes the Tag elements inside it.
    inner = [scroll_region(table, caption, labelledby=caption_id), Tag("div", pager, className="pilotis-pager-box")]
    if as_tag:
        return Tag("div", inner, className="pilotis-table", **attributes)
    return static(inner, "pilotis-table", **attributes)
