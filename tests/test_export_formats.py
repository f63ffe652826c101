"""The export files as a spreadsheet or a script reads them back: French CSV (BOM, `;`, decimal
comma), CSV « outils » (comma, decimal point), typed XLSX cells, formulas never run."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest

from pilotis.core import export_formats
from pilotis.core.export_formats import PERCENT, csv_chunks, neutralise, xlsx_chunks
from pilotis.core.exports import table
from pilotis.core.widgets import labelled

ABOUT = [
    ("Titre", "Observatoire du RSA — Communes"),
    ("Territoire", "CA Laval Agglomération"),
    ("Période", "2020"),
    ("Source", "Foyers allocataires ; par commune"),
    ("Producteur", "DREES, à partir de Cnaf et MSA"),
    ("Licence", "Licence Ouverte / Etalab 2.0"),
    ("Données simulées", "non"),
    ("Extraction", "05/12/2026 à 10:42 (heure de Paris)"),
]
HEADER_LINES = len(ABOUT) + 1  # the « # … » lines and the empty line after them
HOSTILE = ["=1+1", "+33 6 00", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def _frame() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "nom": ["Laval", "Changé", *HOSTILE],
            "mois": pd.to_datetime(["2020-10-01"] * 8),
            "foyers": [1528, 80, 1, 2, 3, 4, 5, 6],
            "montant": [1234.5, -3.25, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
            "taux": [0.253, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, float("nan")],
        }
    )
    labels = {"nom": "Commune", "mois": "Mois", "foyers": "Foyers", "montant": "Montant", "taux": "Taux"}
    return labelled(frame, labels, units={"foyers": "foyers", "montant": "€", "taux": PERCENT})


def _csv(variant: str) -> bytes:
    return b"".join(csv_chunks(table(_frame(), ABOUT), variant))  # type: ignore[arg-type]


def test_french_csv_opens_in_excel_as_is() -> None:
    raw = _csv("fr")
    assert raw.startswith(b"\xef\xbb\xbf# Titre : Observatoire du RSA")  # UTF-8 BOM: Excel reads the accents
    text = raw.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert all(line.startswith("# ") for line in lines[: len(ABOUT)])
    assert "# Source : Foyers allocataires , par commune" in lines  # one cell: no `;` in a header line
    assert lines[len(ABOUT)] == ""
    assert lines[HEADER_LINES] == "Commune;Mois;Foyers (foyers);Montant (€);Taux (%)"
    assert lines[HEADER_LINES + 1] == "Laval;01/10/2020;1528;1234,5;25,3"
    assert lines[HEADER_LINES + 2] == "Changé;01/10/2020;80;-3,25;50"  # a negative number stays a number
    frame = pd.read_csv(io.BytesIO(raw), sep=";", decimal=",", skiprows=HEADER_LINES, encoding="utf-8-sig")
    assert frame["Montant (€)"].tolist()[:2] == [1234.5, -3.25]
    assert frame["Foyers (foyers)"].sum() == 1528 + 80 + 21


def test_tools_csv_reads_without_options() -> None:
    raw = _csv("outils")
    assert not raw.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.BytesIO(raw), skiprows=HEADER_LINES)
    assert list(frame.columns) == ["Commune", "Mois", "Foyers (foyers)", "Montant (€)", "Taux (%)"]
    assert frame["Montant (€)"].tolist()[:2] == [1234.5, -3.25]
    assert frame["Mois"].iloc[0] == "2020-10-01"  # ISO dates
    assert frame["Taux (%)"].iloc[0] == pytest.approx(25.3)
    assert pd.isna(frame["Taux (%)"].iloc[-1])  # a missing value is an empty field
    # the header block is skipped by a reader told that `#` starts a comment
    assert len(pd.read_csv(io.BytesIO(raw), comment="#")) == 8


@pytest.mark.parametrize("variant", ["fr", "outils"])
def test_csv_formulas_are_neutralised(variant: str) -> None:
    sep = ";" if variant == "fr" else ","
    frame = pd.read_csv(
        io.BytesIO(_csv(variant)),
        sep=sep,
        skiprows=HEADER_LINES,
        dtype=str,
        encoding="utf-8-sig",
        keep_default_na=False,
    )
    assert frame["Commune"].tolist()[2:] == ["'" + value for value in HOSTILE]
    assert neutralise("Laval") == "Laval" and neutralise("") == ""


def test_csv_streams_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_formats, "CHUNK_ROWS", 3)
    chunks = list(csv_chunks(table(_frame(), ABOUT), "fr"))
    assert len(chunks) == 1 + 3  # the header, then 3 + 3 + 2 rows
    assert b"".join(chunks) == _csv("fr")


def test_xlsx_cells_are_typed() -> None:
    raw = b"".join(xlsx_chunks(table(_frame(), ABOUT)))
    book = openpyxl.load_workbook(io.BytesIO(raw))
    assert book.sheetnames == ["Données", "À propos"]
    data = book["Données"]
    header = [c.value for c in data[1]]
    assert header == ["Commune", "Mois", "Foyers (foyers)", "Montant (€)", "Taux (%)"]
    assert all(c.font.bold for c in data[1])
    laval = data[2]
    assert laval[1].value == dt.datetime(2020, 10, 1) and laval[1].is_date
    assert laval[2].value == 1528 and laval[2].data_type == "n"
    assert laval[3].value == 1234.5 and data[3][3].value == -3.25
    assert laval[4].value == pytest.approx(0.253) and "%" in laval[4].number_format  # shown « 25,3 % »
    hostile = [row[0] for row in data.iter_rows(min_row=4)]
    # kept as written (XML reads a carriage return as a line feed)…
    assert [c.value for c in hostile] == [v.replace("\r", "\n") for v in HOSTILE]
    assert {c.data_type for c in hostile} == {"s"}  # …as text, never a formula
    about = book["À propos"]
    assert [(r[0].value, r[1].value) for r in about.iter_rows()] == ABOUT
    assert about["A1"].font.bold


def test_xlsx_streams_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_formats, "XLSX_CHUNK", 1024)
    chunks = list(xlsx_chunks(table(_frame(), ABOUT)))
    assert len(chunks) > 2 and all(len(c) <= 1024 for c in chunks)
