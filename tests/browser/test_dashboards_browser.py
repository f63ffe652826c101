"""Every dashboard in a real Chromium: drawn, filterable, navigable, French, keyboard-usable.

The dashboards are globbed from dashboards/*.yaml: a new dashboard is covered without editing
this file. Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from pilotis.core.access import Principal, can_view
from tests.browser.conftest import DESKTOP, USER, login_page_exists, new_tab, sign_in
from tests.browser.support import (
    CHANGED_JS,
    FINGERPRINT_JS,
    READY_TIMEOUT,
    STATE_JS,
    TICKS_JS,
    dashboard_ids,
    expected,
    wait_ready,
)

pytestmark = pytest.mark.browser

DASHBOARDS = dashboard_ids()
# A number as plotly writes it on an axis: "1 234", "0,5", "12 %", "-3", "10k" (SI suffix).
NUMBER_TICK = re.compile(r"^[−-]?\d[\d\s\u202f\u00a0.,]*[kMGTµ]?\s?%?$")
ENGLISH_NUMBER = re.compile(r"\d\.\d|\d[kMGT]$|\d,\d{3}(\D|$)")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
FRENCH_MONTHS = {"Fév", "Avr", "Mai", "Aoû", "Déc", "févr.", "avr.", "mai", "août", "déc."}
ENGLISH_MONTHS = {"Feb", "Apr", "May", "Aug", "Dec"}


def principal_of(username: str) -> Principal:
    """The demo account's access profile, as the server builds it."""
    from pilotis.accounts.users import DEMO_USERS

    demo = next(d for d in DEMO_USERS if d.username == username)
    return Principal(
        username=demo.username,
        department=demo.department,
        roles=frozenset(demo.roles),
        territory=demo.territory,
    )


def visible_urls(portal: Any, username: str, live_server: str) -> list[str]:
    """URLs of the dashboards ``username`` may open, in navigation order."""
    dashboards = portal.registry.ordered()
    if login_page_exists(live_server):
        principal = principal_of(username)
        dashboards = [d for d in dashboards if can_view(principal, d.spec)]
    return [d.spec.url for d in dashboards]


def fingerprint(page: Any) -> dict[str, Any]:
    return page.evaluate(FINGERPRINT_JS)  # type: ignore[no-any-return]


def assert_no_overflow(page: Any, where: str) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{where}: the page scrolls horizontally ({widths[0]} px > {widths[1]} px)"


def assert_french_numbers(page: Any, where: str) -> None:
    """Numeric tick labels use French separators (no `1.5`, `10k` or `1,000`)."""
    ticks = [t.strip() for t in page.evaluate(TICKS_JS)]
    numbers = [t for t in ticks if NUMBER_TICK.match(t)]
    english = [t for t in numbers if ENGLISH_NUMBER.search(t)]
    assert not english, f"{where}: axis labels in English number format: {english}"


def choose_other_filter(page: Any, dashboard_id: str) -> str:
    """Select an EPCI in the territory filter, or another year when there is no territory filter."""
    territory = page.locator(f"#{dashboard_id}--territory")
    if territory.is_visible():
        epcis = territory.locator("option").evaluate_all(
            "options => options.filter(o => !o.disabled && o.value.startsWith('epci:')).map(o => o.value)"
        )
        assert epcis, f"{dashboard_id}: the territory filter offers no EPCI"
        territory.select_option(epcis[0])
        return epcis[0]
    period = page.locator(f"#{dashboard_id}--period")
    if not period.is_visible():
        pytest.skip(f"{dashboard_id} has no filter")
    current = period.input_value()
    years = period.locator("option").evaluate_all(
        "options => options.filter(o => !o.disabled && /^[0-9]{4}$/.test(o.value)).map(o => o.value)"
    )
    others = [y for y in years if y != current]
    assert others, f"{dashboard_id}: the period filter offers a single year"
    period.select_option(others[0])
    return others[0]


@pytest.mark.parametrize("dashboard_id", DASHBOARDS)
def test_dashboard_draws_and_follows_a_filter(tab, portal, dashboard_id: str) -> None:  # type: ignore[no-untyped-def]
    exp = expected(portal, dashboard_id)
    page = tab.page
    tab.open(exp.url)
    assert exp.title in page.locator("h1").first.inner_text()
    state = wait_ready(page, exp)
    assert not state["errors"], f"{exp.url}: widget errors {state['errors']}"
    assert state["plots"] >= exp.graphs
    assert len(state["kpis"]) >= exp.kpis
    empty = [k for k in state["kpis"] if not k or k == "–"]
    assert not empty, f"{exp.url}: KPI without a value: {state['kpis']}"
    assert_no_overflow(page, f"{exp.url} at 1366 px")
    assert_french_numbers(page, exp.url)
    iso = ISO_DATE.findall(page.locator("#page").inner_text())
    assert not iso, f"{exp.url}: dates not written 29/11/2026: {iso[:5]}"
    tab.screenshot(f"{dashboard_id}-desktop")

    before = fingerprint(page)
    part = "plots" if exp.graphs else "kpis"
    before_text = page.evaluate(f"part => JSON.stringify(({FINGERPRINT_JS})()[part])", part)
    chosen = choose_other_filter(page, dashboard_id)
    try:
        page.wait_for_function(CHANGED_JS, arg=[exp.js(), part, before_text], timeout=READY_TIMEOUT, polling=100)
    except Exception as exc:  # noqa: BLE001 - a clear message instead of a bare timeout
        # What the page shows then: the same figures (the answer changed nothing), or a page not
        # drawn again (an answer still awaited, a chart not drawn), and what it requested.
        same = page.evaluate(f"part => JSON.stringify(({FINGERPRINT_JS})()[part])", part) == before_text
        status = f"the same {part}" if same else "not drawn again"
        raise AssertionError(
            f"{exp.url}: the {part} did not change after choosing {chosen} ({status}; "
            f"page {page.evaluate(STATE_JS)})\n{tab.report()}"
        ) from exc
    state = wait_ready(page, exp)
    assert not state["errors"], f"{exp.url} with {chosen}: widget errors {state['errors']}"
    after = fingerprint(page)
    changed = [i for i, (a, b) in enumerate(zip(before["plots"], after["plots"], strict=False)) if a != b]
    if exp.graphs:
        assert changed, f"{exp.url}: no figure changed after choosing {chosen}"
    tab.screenshot(f"{dashboard_id}-desktop-filtered")
    assert not tab.errors, f"{exp.url}: JavaScript errors {tab.errors}"


def test_home_lists_a_card_per_visible_dashboard(tab, portal, live_server) -> None:  # type: ignore[no-untyped-def]
    tab.open("/")
    page = tab.page
    urls = visible_urls(portal, USER, live_server)
    cards = page.locator(".pilotis-home-card a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert cards == urls
    nav = page.locator("nav .nav-link").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert nav == ["/", *urls]
    name = portal.registry.portal.collectivite.nom
    assert name in page.locator("h1").inner_text()
    assert name in page.locator("header").inner_text()
    logo = page.locator("header img").first
    assert logo.evaluate("img => img.complete && img.naturalWidth > 0"), "the collectivité's logo does not load"
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert_no_overflow(page, "/ at 1366 px")
    tab.screenshot("home-desktop")


def test_home_of_an_agent_shows_only_the_dashboards_of_the_department(  # type: ignore[no-untyped-def]
    browser, live_server, portal
) -> None:
    if not login_page_exists(live_server):
        pytest.skip("no login page yet: every visitor sees every dashboard")
    context, tab = new_tab(browser, live_server, None, DESKTOP)
    try:
        sign_in(tab.page, live_server, "agent.rsa")
        tab.open("/")
        urls = visible_urls(portal, "agent.rsa", live_server)
        assert 0 < len(urls) < len(portal.registry.dashboards)
        cards = tab.page.locator(".pilotis-home-card a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        nav = tab.page.locator("nav .nav-link").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert cards == urls
        assert nav == ["/", *urls]
    finally:
        context.close()


def test_navbar_leads_to_every_dashboard_and_back_home(tab, portal) -> None:  # type: ignore[no-untyped-def]
    page = tab.page
    tab.open("/")
    for dashboard in portal.registry.ordered():
        page.locator(f"nav a.nav-link[href='{dashboard.spec.url}']").click()
        page.wait_for_url(f"**{dashboard.spec.url}")
        page.wait_for_function(
            "title => document.querySelector('h1') && document.querySelector('h1').textContent.includes(title)",
            arg=dashboard.spec.title,
        )
        current = page.locator("nav a.nav-link[aria-current='page']")
        assert current.get_attribute("href") == dashboard.spec.url
        assert dashboard.spec.title in page.title()
        # Let the page finish: with 2 workers, its callbacks would delay the next page's.
        wait_ready(page, expected(portal, dashboard.id))
    page.locator("nav a.nav-link[href='/']").click()
    page.wait_for_function("() => location.pathname === '/' && document.querySelector('.pilotis-home-card')")
    assert not tab.errors


@pytest.mark.parametrize("dashboard_id", DASHBOARDS)
def test_keyboard_reaches_skip_link_then_filters(tab, portal, dashboard_id: str) -> None:  # type: ignore[no-untyped-def]
    exp = expected(portal, dashboard_id)
    page = tab.page
    tab.open(exp.url)
    page.wait_for_selector(".pilotis-filters", state="attached")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => ({cls: document.activeElement.className, "
        "w: document.activeElement.getBoundingClientRect().width, "
        "outline: getComputedStyle(document.activeElement).outlineStyle})"
    )
    assert "pilotis-skip" in focused["cls"], f"first Tab stop is {focused}, not the skip link"
    assert focused["w"] > 20, "the skip link stays invisible when focused"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"

    wanted = set(page.locator(".pilotis-filters select:visible").evaluate_all("els => els.map(e => e.id)"))
    assert wanted, f"{exp.url}: no visible filter"
    reached: set[str] = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        info = page.evaluate(
            "() => ({id: document.activeElement.id, "
            "outline: getComputedStyle(document.activeElement).outlineStyle, "
            "width: parseFloat(getComputedStyle(document.activeElement).outlineWidth)})"
        )
        if info["id"] in wanted:
            assert info["outline"] != "none" and info["width"] >= 2, f"no visible focus on #{info['id']}: {info}"
            reached.add(info["id"])
        if reached == wanted:
            break
    assert reached == wanted, f"{exp.url}: filters not reachable with Tab: {wanted - reached}"


def test_plotly_axes_speak_french(tab, portal) -> None:  # type: ignore[no-untyped-def]
    """Month names of the French plotly locale on a time axis, decimal commas on a value axis."""
    page = tab.page
    for dashboard_id in DASHBOARDS:
        exp = expected(portal, dashboard_id)
        if not exp.graphs:
            continue
        tab.open(exp.url)
        wait_ready(page, exp)
        index = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')]
            .findIndex(p => p._fullLayout && p._fullLayout.xaxis
                       && p._fullLayout.xaxis.type === 'date'
                       && p.data.some(t => t.x && t.x.length > 6))""")
        if index < 0:
            continue
        graph = f"document.querySelectorAll('.js-plotly-plot')[{index}]"
        assert page.evaluate(f"{graph}._context.locale") == "fr"
        assert page.evaluate(f"{graph}._fullLayout.separators").startswith(",")
        # Zoom on five months of the data, one tick a month, then on a small value range.
        page.evaluate(f"""() => {{
            const gd = {graph};
            const xs = gd.data.flatMap(t => Array.from(t.x || [])).map(v => new Date(v))
                .sort((a, b) => a - b);
            const end = xs[xs.length - 1];
            const start = new Date(end.getFullYear(), end.getMonth() - 5, 1);
            return Plotly.relayout(gd, {{'xaxis.range': [start.toISOString().slice(0, 10),
                                                       end.toISOString().slice(0, 10)],
                                         'xaxis.dtick': 'M1', 'xaxis.tickformat': '%b %Y',
                                         'yaxis.range': [0, 2.5], 'yaxis.dtick': 0.5}});
        }}""")
        xticks = page.evaluate(f"[...{graph}.querySelectorAll('.xtick text')].map(t => t.textContent)")
        yticks = page.evaluate(f"[...{graph}.querySelectorAll('.ytick text')].map(t => t.textContent)")
        months = {word for tick in xticks for word in tick.split()}
        assert months & FRENCH_MONTHS, f"{exp.url}: no French month on the time axis: {xticks}"
        assert not months & ENGLISH_MONTHS, f"{exp.url}: English months on the time axis: {xticks}"
        assert "0,5" in yticks and not any("." in y for y in yticks), f"{exp.url}: value axis {yticks}"
        tab.screenshot(f"{dashboard_id}-locale-check")
        return
    pytest.fail("no dashboard has a time axis to check the French plotly locale on")
