"""French formats where French is shown, English where English was chosen, and pages that hold
together: one footer landmark, a login page that reflows on a 320 px wide screen."""

from __future__ import annotations

import re
from typing import Any

import pytest

from pilotis.core.i18n import TEXTS
from tests.browser.conftest import USER, login_page_exists, new_tab, sign_in
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


# Text nodes and names (aria-label, title) outside YAML content (lang="fr") and outside the
# plotly drawing (data): which ones are a French interface text, or contain a French phrase.
FRENCH_LEFT_JS = """
(texts) => {
  const found = new Set();
  const check = (value, where) => {
    const text = (value || '').trim();
    if (!text) return;
    for (const fr of texts) {
      if (text === fr || (fr.includes(' ') && text.includes(fr))) {
        found.add(`${where}: «${text.slice(0, 80)}» has «${fr}»`);
      }
    }
  };
  // Skipped: YAML content (lang="fr"), identifiers (code), the plotly drawing (data), scripts.
  const skip = (el) => !el || el.closest('[lang="fr"], code, script, style, noscript, .js-plotly-plot, [hidden]');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    if (!skip(walker.currentNode.parentElement)) check(walker.currentNode.textContent, 'text');
  }
  document.querySelectorAll('[aria-label], [title], [placeholder], [data-template]').forEach(el => {
    if (skip(el)) return;
    for (const name of ['aria-label', 'title', 'placeholder', 'data-template']) check(el.getAttribute(name), name);
  });
  check(document.title, 'document.title');
  return [...found];
}
"""


def french_interface_texts() -> list[str]:
    """Every French interface text that differs from its English one, placeholders cut out
    (the longest fixed part of a template)."""
    found = set()
    for entry in TEXTS.values():
        if entry["fr"] == entry.get("en"):
            continue
        parts = [p.strip(" :;,.«»") for p in re.split(r"\{\w+\}", entry["fr"])]
        longest = max(parts, key=len)
        if len(longest) >= 4 and (longest == entry["fr"] or len(longest) >= 12):
            found.add(longest)
    return sorted(found)


def english_tab(browser: Any, base: str, username: str | None) -> tuple[Any, Any]:
    """A context signed in as ``username`` (French sign-in form), then switched to English."""
    context, tab = new_tab(browser, base, None)
    if username:
        sign_in(tab.page, base, username)
    context.add_cookies([{"name": "pilotis_lang", "value": "en", "url": base}])
    return context, tab


def assert_english(tab: Any, path: str, wait: str = "", *, load: bool = True) -> None:
    """``path`` in English: html[lang=en], no French interface text outside lang="fr"."""
    if load:
        tab.page.goto(tab.base + path)
        tab.page.wait_for_selector(wait, timeout=30_000)
    assert tab.page.evaluate("document.documentElement.lang") == "en", path
    left = tab.page.evaluate(FRENCH_LEFT_JS, french_interface_texts())
    assert not left, f"{path}: French interface texts in the English page:\n" + "\n".join(left)


def test_english_pages_say_everything_in_english_and_mark_french_content(browser, live_server, portal) -> None:  # type: ignore[no-untyped-def]
    if not login_page_exists(live_server):
        pytest.skip("no login page in this configuration")
    rsa = portal.registry.dashboards["rsa"]
    context, tab = english_tab(browser, live_server, None)
    try:
        assert_english(tab, "/login", "#username")
        assert tab.page.get_by_label("Username").count() == 1
    finally:
        context.close()

    context, tab = english_tab(browser, live_server, USER)
    try:
        assert_english(tab, "/", ".pilotis-home-card")
        assert_english(tab, rsa.spec.url, "#page h1")
        wait_ready(tab.page, expected(portal, "rsa"))
        tab.page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
        assert_english(tab, rsa.spec.url, load=False)  # every widget drawn, every data table open
        # The dashboard's YAML title and its widgets' titles are French text inside an English page.
        titles = [rsa.spec.title] + [w.title for w in rsa.widgets if w.title][:3]
        for title in titles:
            lang = tab.page.evaluate(
                """(title) => { const el = [...document.querySelectorAll('#page h1, #page h2')]
                     .find(e => e.textContent.trim() === title);
                   return el ? (el.closest('[lang]') || {}).lang : 'absent'; }""",
                title,
            )
            assert lang == "fr", f"{title!r}: lang={lang}"
        # The indicators' catalogue and cards, the data catalogue: interface in English, names
        # and descriptions written in YAML marked French.
        assert_english(tab, "/indicateurs", "main h1")
        indicator = tab.page.locator("main a[href^='/indicateurs/']").first.get_attribute("href")
        assert indicator, "no indicator card linked from /indicateurs"
        assert_english(tab, indicator, "main h1")
        assert tab.page.evaluate("(document.querySelector('main h1').closest('[lang]') || {}).lang") == "fr"
        assert_english(tab, "/donnees", "main table tbody tr")
        assert_english(tab, "/nulle-part", "main h1")
        assert tab.page.locator("main h1").text_content() == "Page not found"
        assert_english(tab, "/logout", "main h1")
    finally:
        context.close()

    context, tab = english_tab(browser, live_server, "admin")
    try:
        assert_english(tab, "/admin/audit", "main h1")
        assert_english(tab, "/admin/sources", "main h1")
    finally:
        context.close()

    context, tab = english_tab(browser, live_server, "agent.rh")
    try:
        assert_english(tab, "/admin/audit", "main h1")  # 403: not an administrator
        assert tab.page.locator("main h1").text_content() == "Access denied"
    finally:
        context.close()


def test_english_seance_controls_and_announcements(browser, live_server, portal) -> None:  # type: ignore[no-untyped-def]
    """A séance in English: controls, slide names, live announcements (said by seance.js) and the
    status line; the slide and widget titles written in YAML are marked French."""
    if not login_page_exists(live_server):
        pytest.skip("no login page in this configuration")
    seance = next(iter(portal.registry.seances.values()))
    context, tab = english_tab(browser, live_server, USER)
    try:
        page = tab.page
        assert_english(tab, seance.url, ".pilotis-seance-slide.is-current")
        page.wait_for_function("() => !document.querySelector('.pilotis-seance-status').textContent.includes('…')")
        assert page.locator(".pilotis-seance-status").text_content().startswith("Refreshed at ")
        assert page.get_by_role("toolbar", name="Séance controls").count() == 1
        assert page.get_by_role("button", name="Next slide (right arrow)").count() == 1
        first = page.locator(".pilotis-seance-slide").first
        assert first.get_attribute("aria-roledescription") == "slide"
        total = page.locator(".pilotis-seance-slide").count()
        assert first.get_attribute("aria-label") == f"1 of {total}: {first.locator('h2').text_content()}"
        assert first.locator("h2").get_attribute("lang") == "fr"
        assert page.evaluate("(document.querySelector('.pilotis-seance-title').closest('[lang]') || {}).lang") == "fr"
        announcer = page.locator(".pilotis-seance-announce")
        page.keyboard.press("ArrowRight")
        page.wait_for_function("() => document.querySelector('.pilotis-seance-announce').textContent !== ''")
        assert announcer.text_content().startswith("Slide 2 of "), announcer.text_content()
        page.keyboard.press("Space")
        page.wait_for_function(
            "() => document.querySelector('.pilotis-seance-announce').textContent.includes('paused')"
        )
        assert announcer.text_content() == "Rotation paused"
        pause = page.locator('[data-action="pause"]')
        assert pause.get_attribute("aria-label") == "Resume the rotation (space)"
        assert page.locator(".pilotis-seance-paused").text_content() == "Paused"
        assert_english(tab, seance.url, load=False)
    finally:
        context.close()
