"""« Télécharger » on the RSA dashboard in a real Chromium: reached with the keyboard, the file
downloaded carries the filters chosen on the page and the figures of the source file.

Expected figures are recomputed with pandas from the data files, not through Pilotis.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from playwright.sync_api import expect

from pilotis.core.settings import ROOT

pytestmark = pytest.mark.browser

LAVAL = "200083392"
HEADER_LINES = 9


def laval_2019() -> pd.Series:
    """Foyers allocataires per commune of Laval Agglomération, at the last month of 2019."""
    communes = pd.read_csv(ROOT / "data/communes.csv", dtype=str)
    members = set(communes.loc[communes["epci_siren"] == LAVAL, "code_insee"])
    rsa = pd.read_parquet(ROOT / "data/rsa_communes_mensuel.parquet")
    rsa["date"] = pd.to_datetime(rsa["date"]).dt.date
    mine = rsa[rsa["code_insee"].isin(members)]
    last = max(d for d in mine["date"] if d.year == 2019)
    return mine[mine["date"] == last].groupby("code_insee")["foyers_allocataires"].sum()


def choose_filters(page: Any) -> None:
    page.wait_for_selector("#rsa--communes table", timeout=30_000)
    page.locator("#rsa--territory").select_option(f"epci:{LAVAL}")
    page.locator("#rsa--period").select_option("2019")


def test_download_csv_with_the_keyboard(tab: Any) -> None:
    tab.open("/rsa")
    page = tab.page
    choose_filters(page)
    summary = page.locator("summary", has_text="Télécharger les données de « Communes »")
    summary.focus()
    page.keyboard.press("Enter")  # opens the menu
    link = page.get_by_role("link", name="CSV pour Excel (séparateur ;) — Communes")
    link.focus()  # the next Tab stop after the summary
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    download = info.value
    assert download.suggested_filename == f"rsa-communes-epci-{LAVAL}-2019.csv"
    raw = Path(download.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "# Territoire : CA Laval Agglomération" in text
    assert "# Période : 2019" in text
    assert "# Données simulées : oui" in text
    assert "# Secret statistique : « < 5 »" in text  # the demo's rule: agents see small counts masked
    skip = HEADER_LINES + 1  # the header block has the « Secret statistique » line too
    frame = pd.read_csv(io.BytesIO(raw), sep=";", decimal=",", skiprows=skip, dtype={"Code INSEE": str})
    expected = laval_2019()
    shown = dict(zip(frame["Code INSEE"], frame["Foyers allocataires"].astype(str), strict=True))
    assert all(shown[c] == "< 5" for c, v in expected.items() if 0 < v < 5)
    assert all(int(v) == expected[c] for c, v in shown.items() if v != "< 5")
    # the first line of the file is the first line of the table shown on the page
    # (the page redraws all its widgets in one answer: Playwright's expect waits for that answer)
    expect(page.locator("#rsa--communes table tbody tr").first).to_contain_text(frame["Commune"].iloc[0])
    assert not tab.errors


def test_download_xlsx_with_the_mouse(tab: Any) -> None:
    tab.open("/rsa")
    page = tab.page
    choose_filters(page)
    page.locator("summary", has_text="Télécharger les données de « Communes »").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="Classeur Excel (XLSX) — Communes").click()
    assert info.value.suggested_filename == f"rsa-communes-epci-{LAVAL}-2019.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    rows = list(book["Données"].iter_rows(min_row=2, values_only=True))
    expected = laval_2019()
    assert all(r[2] == "< 5" for r in rows if 0 < expected[r[0]] < 5)  # statistical secrecy
    assert all(r[2] == expected[r[0]] for r in rows if r[2] != "< 5")
    about = dict(book["À propos"].iter_rows(values_only=True))
    assert about["Territoire"] == "CA Laval Agglomération" and about["Période"] == "2019"
    assert not tab.errors
