"""A widget's data written as a file: CSV (French or « outils ») and XLSX, produced in chunks.

No Flask here: :mod:`pilotis.web.exports` hands the chunks to a streaming response, the tests
read them directly.

- **CSV (French convention)**: UTF-8 with a byte order mark (Excel then reads the accents), `;`
  between fields, decimal comma, no thousands separator, dates ``29/11/2026``: what Excel in a
  French locale opens without an import wizard.
- **CSV « outils »**: plain UTF-8, `,` between fields, decimal point, ISO dates: what pandas, R,
  a database's ``COPY`` read without options.
- **XLSX**: typed cells (numbers are numbers, dates are dates, with a French number format), the
  header row in bold and frozen; the « À propos » sheet holds the header block.

Both CSV variants start with the same fixed number of ``# …`` lines (:data:`HEADER_LINES` then
an empty line): ``pandas.read_csv(f, skiprows=HEADER_LINES + 1)`` reads the table.

A text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be run as
a formula by a spreadsheet (CSV injection, OWASP): in CSV it gets a leading apostrophe, in XLSX it
is written as a string cell (never a formula).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from openpyxl.cell import WriteOnlyCell

# openpyxl is imported when a workbook is written, not with this module (0.06 s of every
# worker's start-up otherwise).

Variant = Literal["fr", "outils"]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a text cell as a formula."""
CHUNK_ROWS = 1000
"""Rows written per chunk of a CSV response (the response streams chunk by chunk)."""
XLSX_CHUNK = 64 * 1024
"""Bytes per chunk of an XLSX response."""
PERCENT = "%"
"""The unit of a rate kept as a fraction (0.25): written 25 in CSV under « (%) », and 0.25 with
the format ``0.0 %`` in XLSX (shown « 25,0 % »), as the page writes it."""


@dataclass(frozen=True)
class Table:
    """What a file holds: the header block (label, value pairs), column headers, units, rows."""

    about: Sequence[tuple[str, str]]
    """The header block: (« Titre », « Observatoire du RSA — Communes »)…, always in the same order."""
    columns: Sequence[str]
    """Column names in the frame."""
    headers: Sequence[str]
    """Column headers as written in the file (label and unit: « Montant (€) »)."""
    units: Sequence[str]
    """Unit of each column ("" for none; :data:`PERCENT` for a rate kept as a fraction)."""
    frame: pd.DataFrame


# --------------------------------------------------------------------------- cells


def neutralise(text: str) -> str:
    """``text`` with a leading apostrophe when a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(DANGEROUS) else text


def typed(value: Any) -> Any:
    """A cell's value as a Python scalar: None (empty), bool, int, float, date, datetime or str."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | Decimal):
        number = float(value)
        return None if math.isnan(number) else number
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        value = value.replace(tzinfo=None)
        return value.date() if value.time() == dt.time(0) else value
    if isinstance(value, dt.date):
        return value
    return str(value)


def _number_text(value: float | int, variant: Variant) -> str:
    text = str(value) if isinstance(value, int) else f"{value:.15g}"
    return text.replace(".", ",") if variant == "fr" else text


def csv_cell(value: Any, unit: str, variant: Variant) -> str:
    """One CSV field: numbers with the variant's decimal mark, dates, text neutralised."""
    value = typed(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return ("oui" if value else "non") if variant == "fr" else ("true" if value else "false")
    if isinstance(value, int | float):
        if unit == PERCENT:
            value = value * 100
        return _number_text(value, variant)
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S") if variant == "fr" else value.isoformat()
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y") if variant == "fr" else value.isoformat()
    return neutralise(value)


# --------------------------------------------------------------------------- CSV


def _header_line(label: str, value: str, variant: Variant) -> str:
    """``# Label : value`` on one line, never quoted, and one cell in Excel (no `;` in French)."""
    text = f"# {label} : {value}" if variant == "fr" else f"# {label}: {value}"
    text = " ".join(text.split())  # no line break inside a value
    return text.replace(";", ",") if variant == "fr" else text


def csv_chunks(table: Table, variant: Variant) -> Iterator[bytes]:
    """The CSV file in chunks of :data:`CHUNK_ROWS` rows (UTF-8; with a BOM in French)."""
    delimiter = ";" if variant == "fr" else ","
    head = "\ufeff" if variant == "fr" else ""
    head += "".join(_header_line(label, value, variant) + "\r\n" for label, value in table.about) + "\r\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in table.headers])
    yield (head + buffer.getvalue()).encode("utf-8")
    rows = table.frame[list(table.columns)].itertuples(index=False, name=None)
    while True:
        buffer.seek(0)
        buffer.truncate()
        count = 0
        for row in rows:
            writer.writerow([csv_cell(v, u, variant) for v, u in zip(row, table.units, strict=True)])
            count += 1
            if count == CHUNK_ROWS:
                break
        if count:
            yield buffer.getvalue().encode("utf-8")
        if count < CHUNK_ROWS:
            return


# --------------------------------------------------------------------------- XLSX

DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM:SS"


def _xlsx_cell(sheet: Any, value: Any, unit: str) -> WriteOnlyCell:
    from openpyxl.cell import WriteOnlyCell

    value = typed(value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # a text, never a formula (« =1+1 » stays « =1+1 »)
    elif isinstance(value, dt.datetime):
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, dt.date):
        cell.number_format = DATE_FORMAT
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if unit == PERCENT:
            cell.number_format = "0.0%"
        elif isinstance(value, float) and not value.is_integer():
            cell.number_format = "#,##0.00"
        else:
            cell.number_format = "#,##0"
    return cell


def _text_cell(sheet: Any, text: str, *, bold: bool = False) -> WriteOnlyCell:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    return cell


def write_xlsx(table: Table, target: Any, data_title: str = "Données", about_title: str = "À propos") -> None:
    """The workbook into ``target`` (a path or a binary file): the data sheet first (a plain
    table from A1: filters, pivot tables and ``read_excel`` need no offset), then « À propos »."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    data = book.create_sheet(data_title)
    data.freeze_panes = "A2"
    for index, header in enumerate(table.headers):
        letter = get_column_letter(index + 1)
        data.column_dimensions[letter].width = max(12, min(60, len(header) + 2))
    data.append([_text_cell(data, header, bold=True) for header in table.headers])
    for row in table.frame[list(table.columns)].itertuples(index=False, name=None):
        data.append([_xlsx_cell(data, v, u) for v, u in zip(row, table.units, strict=True)])
    about = book.create_sheet(about_title)
    about.column_dimensions["A"].width = 22
    about.column_dimensions["B"].width = 90
    for label, value in table.about:
        about.append([_text_cell(about, label, bold=True), _text_cell(about, value)])
    book.save(target)


def xlsx_chunks(table: Table, data_title: str = "Données", about_title: str = "À propos") -> Iterator[bytes]:
    """The XLSX file in chunks: written to a temporary file (openpyxl's write-only mode keeps
    rows out of memory), then read back :data:`XLSX_CHUNK` bytes at a time."""
    with tempfile.TemporaryFile() as handle:
        write_xlsx(table, handle, data_title, about_title)
        handle.seek(0)
        while chunk := handle.read(XLSX_CHUNK):
            yield chunk
