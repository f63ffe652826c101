"""The « Pilotage » overview and the indicator card in a real Chromium (axe-core clean).

- the president sees every indicator, grouped by theme, each with its values and its links;
- the indicator card (ⓘ « Fiche indicateur ») is reached and opened with the keyboard alone;
- a manager of finances sees only the finance indicators, and gets HTTP 403 on another
  direction's indicator card.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import login_page_exists, new_tab, sign_in, write_json
from tests.browser.support import BLOCKING_IMPACTS, describe, expected, run_axe, wait_ready

pytestmark = pytest.mark.browser

CARD = "Fiche indicateur : Foyers allocataires du RSA"
MAX_TABS = 120
"""Bound on the Tab presses needed to reach the ⓘ link of the first KPI."""


def axe_clean(page: Any, axe_script: Any, name: str) -> None:
    violations = run_axe(page, axe_script)
    write_json(f"axe-{name}.json", violations)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe on {name}:\n{describe(blocking)}"


def kpi_ids(portal: Any) -> list[str]:
    return [w.id for w in portal.registry.dashboards["pilotage"].widgets if w.type == "kpi"]


def test_overview_for_the_president(tab, portal, axe_script) -> None:  # type: ignore[no-untyped-def]
    exp = expected(portal, "pilotage")
    tab.open("/pilotage")
    wait_ready(tab.page, exp)
    page = tab.page
    for widget_id in kpi_ids(portal):
        body = page.locator(f"#pilotage--{widget_id}")
        assert body.locator(".pilotis-kpi-value").count() == 1, widget_id
        assert "–" != body.locator(".pilotis-kpi-value").inner_text().strip(), widget_id
    headings = [h.strip() for h in page.locator(".pilotis-section h2").all_inner_texts()]
    assert headings == ["Solidarités", "Finances des communes", "Ressources humaines", "Numérique"]
    # status in words (never colour alone), a sparkline with a text alternative, drill-down links
    assert "Alerte" in page.locator("#pilotage--rsa_foyers .pilotis-status").inner_text()
    alt = page.locator("#pilotage--rsa_foyers img.pilotis-sparkline").get_attribute("alt")
    assert alt and alt.startswith("Évolution sur 12 périodes")
    assert page.locator("#pilotage--rsa_foyers a.pilotis-drill").get_attribute("href") == "/rsa"
    assert not tab.errors, tab.errors
    axe_clean(page, axe_script, "pilotage-president")
    tab.screenshot("pilotage-president")


def test_indicator_card_opens_with_the_keyboard(tab, portal, axe_script) -> None:  # type: ignore[no-untyped-def]
    tab.open("/pilotage")
    wait_ready(tab.page, expected(portal, "pilotage"))
    page = tab.page
    page.locator("body").focus()
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement && document.activeElement.getAttribute('aria-label')") == CARD:
            break
    else:
        pytest.fail(f"« {CARD} » not reached with {MAX_TABS} presses of Tab")
    focus = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert focus != "none"  # the focus is visible
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/indicateurs/rsa.foyers_allocataires")
    page.wait_for_selector("h1:has-text('Foyers allocataires du RSA')")
    text = page.locator("main").inner_text()
    for expected_text in (
        "Définition",
        "Direction des solidarités",
        "Observatoire social départemental",
        "mensuelle",
        "octobre 2020",
    ):
        assert expected_text in text, expected_text
    assert page.evaluate("document.documentElement.lang") == "fr"
    axe_clean(page, axe_script, "indicateur-rsa")
    tab.screenshot("indicateur-rsa")
    tab.open("/indicateurs")
    page.wait_for_selector("h1:has-text('Indicateurs')")
    axe_clean(page, axe_script, "indicateurs")


def test_manager_sees_only_their_indicators(browser, live_server, portal, axe_script) -> None:  # type: ignore[no-untyped-def]
    if not login_page_exists(live_server):
        pytest.skip("no login page: every visitor is the same user")
    context, tab = new_tab(browser, live_server, None)
    try:
        sign_in(tab.page, live_server, "manager.finances")
        tab.open("/pilotage")
        page = tab.page
        page.wait_for_function(
            "() => [...document.querySelectorAll('.pilotis-widget-body')]"
            ".every(b => b.childElementCount > 0)"
            " && document.querySelectorAll('.pilotis-kpi-value').length === 2",
            timeout=30_000,
        )
        shown = {b.get_attribute("id") for b in page.locator(".pilotis-widget-body").all()}
        assert shown == {"pilotage--fin_fonctionnement", "pilotage--fin_equipement"}
        text = page.locator("main").inner_text()
        assert "Solidarités" not in text and "Foyers" not in text
        axe_clean(page, axe_script, "pilotage-manager")
        response = page.goto(live_server + "/indicateurs/rsa.foyers_allocataires")
        assert response is not None and response.status == 403
    finally:
        context.close()
