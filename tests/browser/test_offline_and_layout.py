"""Air-gapped pages (every request goes to the app itself) that fit a phone screen.

Each page is loaded once at 390×844 (a phone), complete with its graphs drawn (maps then load
their base map), data tables opened and a graph hovered; every URL the page requested is
recorded and must be on the app's own server. The desktop width (1366 px) is checked by
test_dashboards_browser.py. Screenshots: test-artifacts/<page>-mobile.png.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import login_page_exists
from tests.browser.support import artifact_name, dashboard_ids, expected, wait_ready

pytestmark = pytest.mark.browser

PAGES = ["/", *(f"dashboard:{d}" for d in dashboard_ids())]


def open_page(tab, portal, page_id: str) -> str:  # type: ignore[no-untyped-def]
    """Open a page and wait until it is complete (every graph drawn)."""
    if page_id.startswith("dashboard:"):
        exp = expected(portal, page_id.split(":", 1)[1])
        tab.open(exp.url)
        wait_ready(tab.page, exp)
        return str(exp.url)
    tab.open(page_id)
    tab.page.wait_for_selector(".pilotis-home-card")
    return page_id


@pytest.mark.parametrize("page_id", PAGES)
def test_stays_on_the_server_and_fits_a_phone(mobile_tab, portal, page_id: str) -> None:  # type: ignore[no-untyped-def]
    page = mobile_tab.page
    path = open_page(mobile_tab, portal, page_id)
    mobile_tab.screenshot(f"{artifact_name(path)}-mobile")

    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{path} scrolls horizontally on a phone ({width} px > {inner} px)"
    too_wide = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')]
        .filter(p => p.getBoundingClientRect().right > window.innerWidth + 1)
        .map(p => p.closest('.pilotis-widget')?.getAttribute('aria-label'))""")
    assert not too_wide, f"{path}: figures wider than the screen: {too_wide}"

    # Late requests too: open the data tables, hover a graph (toolbar, hover labels).
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    plots = page.locator(".js-plotly-plot")
    if plots.count():
        plots.first.hover()
    page.wait_for_load_state("networkidle")
    assert mobile_tab.requests, "no request recorded"
    outside = mobile_tab.external_requests()
    assert not outside, f"{path} requested outside the server: {outside}"
    assert not mobile_tab.errors, f"{path}: JavaScript errors {mobile_tab.errors}"


def test_login_page_stays_on_the_server(anonymous_tab, live_server) -> None:  # type: ignore[no-untyped-def]
    if not login_page_exists(live_server):
        pytest.skip("the app has no login page yet")
    anonymous_tab.page.goto(live_server + "/login")
    anonymous_tab.page.wait_for_load_state("networkidle")
    assert anonymous_tab.requests
    assert not anonymous_tab.external_requests()
