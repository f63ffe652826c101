"""Reports in a real Chromium: « PDF » on the RSA dashboard starts a download of the dashboard
with the filters chosen on the page (territory, year), in French; the report pages are axe-core
clean and their form downloads the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from tests.browser.test_accessibility import check

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


def test_the_report_pages_are_accessible_and_the_form_downloads_the_pdf(tab, axe_script) -> None:  # type: ignore[no-untyped-def]
    tab.page.goto(tab.base + "/rapports")
    check(tab.page, axe_script, "rapports")
    tab.page.get_by_role("link", name="Rapport de la commission RSA").click()
    page = tab.page
    page.wait_for_url("**/rapports/commission-rsa")
    check(page, axe_script, "rapport-commission-rsa")
    page.get_by_label("Territoire").select_option(f"epci:{LAVAL}")
    page.get_by_label("Période").select_option("2020")
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name="Générer le PDF").click()
    assert info.value.suggested_filename == f"commission-rsa-epci-{LAVAL}-2020.pdf"
    reader = PdfReader(info.value.path())
    assert reader.metadata.title == "Rapport de la commission RSA — CA Laval Agglomération"
