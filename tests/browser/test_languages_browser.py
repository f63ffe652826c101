"""French formats where French is shown, English where English was chosen, and pages that hold
together: one footer landmark, a login page that reflows on a 320 px wide screen."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import login_page_exists, new_tab
from tests.browser.support import expected, wait_ready

pytestmark = pytest.mark.browser

FRENCH_SHORT_MONTHS = set("janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc.".split())


def test_time_axes_use_french_month_abbreviations_and_narrow_spaces(tab, portal) -> None:  # type: ignore[no-untyped-def]
    """/rsa monthly line chart: « janv. 2019 … », values « 8 000 » with U+202F."""
    exp = expected(portal, "rsa")
    page = tab.page
    tab.open(exp.url)
    wait_ready(page, exp)
    index = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')]
        .findIndex(p => p._fullLayout && p._fullLayout.xaxis && p._fullLayout.xaxis.type === 'date')""")
    assert index >= 0, "no time axis on /rsa"
    graph = f"document.querySelectorAll('.js-plotly-plot')[{index}]"
    # One tick a month over a year, as the chart's own month format (`%b %Y`) writes it.
    page.evaluate(f"""() => Plotly.relayout({graph}, {{'xaxis.range': ['2019-01-01', '2019-12-01'],
                                                    'xaxis.dtick': 'M1'}})""")
    xticks = page.evaluate(f"[...{graph}.querySelectorAll('.xtick text')].map(t => t.textContent)")
    months = [tick.split()[0] for tick in xticks]
    assert len(months) >= 10 and set(months) <= FRENCH_SHORT_MONTHS, xticks
    assert {"janv.", "févr.", "juil.", "déc."} <= set(months), xticks
    yticks = page.evaluate(f"[...{graph}.querySelectorAll('.ytick text')].map(t => t.textContent)")
    big = [y for y in yticks if len(re.sub(r"\D", "", y)) >= 4]
    assert big, yticks
    assert all(re.fullmatch(r"\d{1,3}(\u202f\d{3})+", y) for y in big), yticks


def test_one_footer_landmark_per_page(tab, portal) -> None:  # type: ignore[no-untyped-def]
    """Dash's default page put its scripts in a second <footer> (axe: landmark-no-duplicate-contentinfo)."""
    for path in ("/", portal.registry.dashboards["rsa"].spec.url):
        tab.open(path)
        landmarks = tab.page.evaluate(
            """() => [...document.querySelectorAll('footer, [role=contentinfo]')]
                .filter(f => !f.closest('article, aside, main, nav, section')).length"""
        )
        assert landmarks == 1, f"{path}: {landmarks} contentinfo landmarks"


def test_login_page_reflows_at_320_px(browser: Any, live_server: str) -> None:
    """WCAG 1.4.10: no horizontal scrolling on a 320 CSS px wide screen (zoom 400 %)."""
    if not login_page_exists(live_server):
        pytest.skip("no login page in this configuration")
    context, tab = new_tab(browser, live_server, None, viewport={"width": 320, "height": 640})
    try:
        tab.page.goto(live_server + "/login")
        tab.page.wait_for_selector("#username")
        width = tab.page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 320, f"/login is {width} px wide at 320 px"
        wide = tab.page.evaluate(
            "() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 320.5)"
            ".map(e => e.tagName + '.' + e.className).slice(0, 5)"
        )
        assert not wide, wide
    finally:
        context.close()
