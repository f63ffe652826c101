"""The header's search box in a real Chromium: reached and used with the keyboard, the results
page drawn by the server (also without JavaScript), and axe-core clean on the results page and
on the referents directory."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_accessibility import check

pytestmark = pytest.mark.browser
LABEL = "Rechercher un tableau de bord, un indicateur, une donnée ou un référent"


def test_the_search_box_works_with_the_keyboard(tab, axe_script) -> None:  # type: ignore[no-untyped-def]
    tab.open("/")
    page = tab.page
    box = page.get_by_role("search").get_by_label(LABEL)
    for _ in range(60):  # Tab from the top of the page until the search field has the focus
        page.keyboard.press("Tab")
        if box.evaluate("element => element === document.activeElement"):
            break
    else:
        pytest.fail("the search field cannot be reached with the Tab key")
    page.keyboard.type("DÉPENSES aide sociale")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/recherche?q=" in page.url
    results = page.locator(".pilotis-search-results li")
    assert results.count() >= 1
    assert "Dépenses d'aide sociale des départements" in results.first.inner_text()
    assert "résultat(s) pour « DÉPENSES aide sociale »" in page.inner_text("#search-count")
    check(page, axe_script, "recherche")
    with page.expect_navigation():
        results.first.locator("a").click()
    assert "/donnees/aide_sociale" in page.url


def test_the_results_page_works_without_javascript(browser: Any, signed_in: Any, live_server: str) -> None:
    context = browser.new_context(java_script_enabled=False, storage_state=signed_in.storage_state(), locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(live_server + "/recherche")
        page.get_by_label(LABEL).first.fill("foyers allocataires")
        with page.expect_navigation():
            page.get_by_role("button", name="Rechercher").first.click()
        assert page.locator(".pilotis-search-results li").count() >= 1
        assert "Foyers allocataires" in page.inner_text(".pilotis-search-results")
    finally:
        context.close()


def test_the_referents_directory_is_accessible(tab, axe_script) -> None:  # type: ignore[no-untyped-def]
    tab.page.goto(tab.base + "/referents")
    assert tab.page.locator("#ref-theme-rsa").count() == 1
    tab.page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    check(tab.page, axe_script, "referents")


def test_a_dataset_page_is_accessible(tab, axe_script) -> None:  # type: ignore[no-untyped-def]
    tab.open("/donnees/rsa_communes")
    tab.page.wait_for_selector(".pilotis-preview tbody tr")
    assert tab.page.locator("#champ-code_insee").count() == 1
    check(tab.page, axe_script, "donnees-rsa_communes")
