"""The first paint comes from HTML, the live page replaces it without moving, and plotly.js
waits for a chart to come into view (pilotis/web/first_paint.py, assets/pilotis-first-paint.*,
assets/pilotis-lazy-charts.js). In Chromium, as a reader meets it; nothing here is timed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import MOBILE, USER, _context, _recording, sign_in

pytestmark = pytest.mark.browser

PAGE = "/rsa"
PLOTLY = "/assets/vendor/plotly/plotly-pilotis.min.js"
SHIFTS = """window.__shifts = [];
new PerformanceObserver(list => { for (const e of list.getEntries()) window.__shifts.push(e.value); })
  .observe({type: 'layout-shift', buffered: true});"""


@pytest.fixture
def phone(browser: Any, live_server: str) -> Iterator[Any]:
    """A signed-in phone-sized page with an empty cache, recording its requests and layout shifts."""
    login = _context(browser, MOBILE)
    try:
        page = login.new_page()
        sign_in(page, live_server, USER)
        state = login.storage_state()
    finally:
        login.close()
    context = _context(browser, MOBILE, state)
    context.add_init_script(SHIFTS)
    try:
        yield _recording(context.new_page(), live_server)
    finally:
        context.close()


def test_the_page_reads_before_any_script_runs(browser: Any, live_server: str) -> None:
    """Without JavaScript, /rsa already shows its title, filters and every widget's title."""
    login = _context(browser, MOBILE)
    try:
        page = login.new_page()
        sign_in(page, live_server, USER)
        state = login.storage_state()
    finally:
        login.close()
    context = browser.new_context(java_script_enabled=False, storage_state=state, viewport=MOBILE)
    try:
        page = context.new_page()
        page.goto(live_server + PAGE)
        copy = page.locator(".pilotis-first-paint")
        assert copy.get_attribute("inert") is not None
        assert copy.locator("h1").inner_text().strip() == "Observatoire du RSA"
        titles = copy.locator("section.pilotis-widget h2").all_inner_texts()
        assert "Foyers allocataires" in titles and "Comparer des territoires" in titles
        assert copy.locator("select").count() >= 2 and copy.locator("[id]").count() == 0
    finally:
        context.close()


def test_the_live_page_replaces_the_copy_without_a_shift_and_plotly_waits_for_a_chart(phone: Any) -> None:
    page = phone.page
    page.goto(phone.base + PAGE)
    page.wait_for_selector(".pilotis-first-paint", state="detached", timeout=60_000)
    page.wait_for_selector(".pilotis-kpi-value", timeout=30_000)
    # One page: the ids are unique again, the live one is visible and works.
    duplicates = page.evaluate(
        """() => { const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
                   return ids.filter((id, i) => ids.indexOf(id) !== i); }"""
    )
    assert duplicates == []
    assert page.locator("#page h1").is_visible()
    shifted = sum(page.evaluate("window.__shifts"))
    assert shifted < 0.01, f"the page moved while it loaded (layout shift {shifted:.3f})"
    # No chart near the top of the page on a phone: plotly.js was neither downloaded nor run.
    assert not [url for url in phone.requests if PLOTLY in url]
    assert page.evaluate("typeof window.Plotly.react") == "undefined"
    assert page.locator(".pilotis-chart-waiting").count() >= 1
    # Scrolled to the map: plotly.js is loaded and the map drawn, in the box kept for it.
    box = page.locator("#rsa--carte")
    before = box.bounding_box()
    box.scroll_into_view_if_needed()
    page.wait_for_selector("#rsa--carte .js-plotly-plot .main-svg g.trace", state="attached", timeout=60_000)
    assert [url for url in phone.requests if PLOTLY in url]
    assert before is not None and box.bounding_box() is not None
    assert phone.errors == []
