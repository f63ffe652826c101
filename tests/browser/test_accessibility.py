"""axe-core (WCAG 2.0/2.1 A and AA rules) finds no serious or critical violation on any page.

Pages: the home page, every dashboard (globbed, once every widget is drawn, with the data
tables of the figures open), the login page once the app has one. Full reports are written to
test-artifacts/axe-<page>.json.

No rule is excluded: the known Dash 4.4.1 `aria-hidden-focus` of dcc.Dropdown does not apply
(filters are dbc.Select, native <select>); data tables are plain HTML tables with named sort and
page buttons (layouts/html_table.py); graphs are `role=img` with an aria-label.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import login_page_exists, write_json
from tests.browser.support import (
    BLOCKING_IMPACTS,
    artifact_name,
    dashboard_ids,
    describe,
    expected,
    run_axe,
    wait_ready,
)

pytestmark = pytest.mark.browser


def check(page, axe_script, name: str) -> None:  # type: ignore[no-untyped-def]
    violations = run_axe(page, axe_script)
    write_json(f"axe-{name}.json", violations)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe on {name}:\n{describe(blocking)}"
    assert page.evaluate("document.documentElement.lang") == "fr"


def test_home_page(tab, axe_script) -> None:  # type: ignore[no-untyped-def]
    tab.open("/")
    tab.page.wait_for_selector(".pilotis-home-card")
    check(tab.page, axe_script, "home")


@pytest.mark.parametrize("dashboard_id", dashboard_ids())
def test_dashboard(tab, portal, axe_script, dashboard_id: str) -> None:  # type: ignore[no-untyped-def]
    exp = expected(portal, dashboard_id)
    tab.open(exp.url)
    wait_ready(tab.page, exp)
    # The data behind each figure is part of the page too: audit it open.
    tab.page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    check(tab.page, axe_script, artifact_name(exp.url))


def test_not_found_page(tab, axe_script) -> None:  # type: ignore[no-untyped-def]
    response = tab.page.goto(tab.base + "/pas-une-page")
    assert response is not None and response.status == 404
    check(tab.page, axe_script, "404")


def test_login_page(anonymous_tab, axe_script, live_server) -> None:  # type: ignore[no-untyped-def]
    if not login_page_exists(live_server):
        pytest.skip("the app has no login page yet")
    page = anonymous_tab.page
    page.goto(live_server + "/login")
    check(page, axe_script, "login")
    # The error state too (message announced, fields marked invalid).
    page.get_by_label("Identifiant").fill("personne")
    page.get_by_label("Mot de passe").fill("mauvais mot de passe")
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    check(page, axe_script, "login-error")


def test_data_catalogue(tab, axe_script) -> None:  # type: ignore[no-untyped-def]
    tab.open("/donnees")
    tab.page.wait_for_selector(".pilotis-data-catalogue tbody tr")
    assert "Mis à jour le" in tab.page.inner_text(".pilotis-data-catalogue")
    tab.page.keyboard.press("Tab")  # the footer link to the catalogue is reachable too
    assert tab.page.locator("footer a[href='/donnees']").count() == 1
    check(tab.page, axe_script, "donnees")
