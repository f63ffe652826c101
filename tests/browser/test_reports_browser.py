"""« PDF » on the RSA dashboard in a real Chromium: the download starts, it is a PDF of the
dashboard with the filters chosen on the page (territory, year), tagged and in French."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

pytestmark = pytest.mark.browser

LAVAL = "200083392"


def test_the_pdf_button_downloads_the_dashboard_as_filtered(tab: Any) -> None:
    tab.open("/rsa")
    page = tab.page
    page.wait_for_selector("#rsa--communes table", timeout=30_000)
    page.locator("#rsa--territory").select_option(f"epci:{LAVAL}")
    page.locator("#rsa--period").select_option("2019")
    with page.expect_response(lambda r: "/exports/rsa.pdf" in r.url, timeout=120_000) as answer:
        with page.expect_download(timeout=120_000) as info:
            page.get_by_role("link", name="PDF du tableau de bord filtré").click()
    assert answer.value.headers["content-type"] == "application/pdf"
    download = info.value
    assert download.suggested_filename == f"rsa-epci-{LAVAL}-2019.pdf"
    raw = Path(download.path()).read_bytes()
    assert raw.startswith(b"%PDF-")
    reader = PdfReader(download.path())
    assert reader.trailer["/Root"]["/Lang"] == "fr"
    first = reader.pages[0].extract_text()
    assert "CA Laval Agglomération" in first and "2019" in first
    assert not tab.errors
