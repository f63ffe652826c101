"""Air-gapped pages (every request goes to the app itself) and layouts that fit a phone.

Screenshots at 390×844 go to test-artifacts/<page>-mobile.png.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import login_page_exists
from tests.browser.support import artifact_name, dashboard_ids, expected, wait_ready

pytestmark = pytest.mark.browser

PAGES = ["/", *(f"dashboard:{d}" for d in dashboard_ids())]


def open_page(tab, portal, page_id: str) -> str:  # type: ignore[no-untyped-def]
    """Open a page and wait until it is complete (every graph drawn: maps load their base map)."""
    if page_id.startswith("dashboard:"):
        exp = expected(portal, page_id.split(":", 1)[1])
        tab.open(exp.url)
        wait_ready(tab.page, exp)
        return str(exp.url)
    tab.open(page_id)
    tab.page.wait_for_selector(".pilotis-home-card")
    return page_id


@pytest.mark.parametrize("page_id", PAGES)
def test_every_request_stays_on_the_server(tab, portal, page_id: str) -> None:  # type: ignore[no-untyped-def]
    path = open_page(tab, portal, page_id)
    # Open the toolbar, hover a graph and open the data tables: no late request either.
    tab.page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    plots = tab.page.locator(".js-plotly-plot")
    if plots.count():
        plots.first.hover()
    tab.page.wait_for_load_state("networkidle")
    assert tab.requests, "no request recorded"
    assert not tab.external_requests(), (
        f"{path} requested outside the server: {tab.external_requests()}"
    )
    assert not tab.errors, f"{path}: JavaScript errors {tab.errors}"


def test_login_page_stays_on_the_server(anonymous_tab, live_server) -> None:  # type: ignore[no-untyped-def]
    if not login_page_exists(live_server):
        pytest.skip("the app has no login page yet")
    anonymous_tab.page.goto(live_server + "/login")
    anonymous_tab.page.wait_for_load_state("networkidle")
    assert not anonymous_tab.external_requests()


@pytest.mark.parametrize("page_id", PAGES)
def test_fits_a_phone_screen(mobile_tab, portal, page_id: str) -> None:  # type: ignore[no-untyped-def]
    path = open_page(mobile_tab, portal, page_id)
    page = mobile_tab.page
    mobile_tab.screenshot(f"{artifact_name(path)}-mobile")
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{path} scrolls horizontally on a phone ({width} px > {inner} px)"
    # Every figure fits its card (plotly draws at the width of its container).
    too_wide = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')]
        .filter(p => p.getBoundingClientRect().right > window.innerWidth + 1)
        .map(p => p.closest('.pilotis-widget')?.getAttribute('aria-label'))""")
    assert not too_wide, f"{path}: figures wider than the screen: {too_wide}"
