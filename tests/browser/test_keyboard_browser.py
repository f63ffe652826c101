"""A keyboard-only user can walk every dashboard from top to bottom and back, and is told where
they are after choosing a dashboard in the menu.

The walk is done the way a person does it: Tab from the top of the page until focus leaves the
page, then Shift+Tab until it leaves it again at the top. Each stop is compared with the list
of interactive elements the page shows (links, buttons, fields, ``summary``, ``[tabindex>=0]``;
visible and enabled), in DOM order. A component that cancels Tab (a keyboard trap) stops the
walk on one element and fails; so does a stop on something that is not in the list (a mouse-only
toolbar that still takes the focus), and an element never reached.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.support import expected, wait_ready

pytestmark = pytest.mark.browser

# Tag every interactive element a keyboard user must reach, in DOM order; return how many.
TAG_JS = """
() => {
  const selector = 'a[href], button, input, select, textarea, summary, [tabindex]';
  const all = [...document.querySelectorAll(selector)];
  const shown = (el) => {
    if (el.closest('[hidden], [inert]') || !el.getClientRects().length) return false;
    const style = getComputedStyle(el);
    return style.visibility !== 'hidden' && style.display !== 'none';
  };
  const wanted = all.filter(el => !el.disabled && el.tabIndex >= 0
    && !(el.getAttribute('tabindex') || '').trim().startsWith('-') && shown(el));
  document.querySelectorAll('[data-kb]').forEach(el => el.removeAttribute('data-kb'));
  wanted.forEach((el, i) => el.setAttribute('data-kb', String(i)));
  return wanted.map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + ' «' + (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 40) + '»');
}
"""

# Where the focus is: the tag number, or a description of an untagged element, or null (the
# focus left the page: it is on the body or in the browser's own interface).
STOP_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const kb = el.getAttribute('data-kb');
  if (kb !== null) return Number(kb);
  return 'untagged ' + el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + '.' + String(el.className && el.className.baseVal !== undefined ? el.className.baseVal : el.className);
}
"""


def walk(page: Any, key: str, presses: int) -> list[Any]:
    """Press ``key`` ``presses`` times; where the focus was after each press."""
    stops: list[Any] = []
    for _ in range(presses):
        page.keyboard.press(key)
        stops.append(page.evaluate(STOP_JS))
    return stops


def open_all_details(page: Any) -> None:
    """Open every « Voir les données » (their tables and pagers become reachable)."""
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")


@pytest.mark.parametrize("dashboard_id", ["rsa", "finances"])
def test_tab_and_shift_tab_walk_the_whole_dashboard(tab, portal, dashboard_id: str) -> None:  # type: ignore[no-untyped-def]
    """rsa: a table, charts and a map with « Voir les données », « Comparer des territoires »;
    finances: a table with a long list of grants (several pages), a map, a comparison."""
    exp = expected(portal, dashboard_id)
    page = tab.page
    tab.open(exp.url)
    wait_ready(page, exp)
    open_all_details(page)
    names = page.evaluate(TAG_JS)
    assert len(names) > 20, f"{exp.url}: only {len(names)} interactive elements found: {names}"
    assert any("Voir les données" in n for n in names), names
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")

    count = len(names)
    forward = walk(page, "Tab", count + 1)
    described = [names[s] if isinstance(s, int) else s for s in forward]
    assert forward[:count] == list(range(count)), (
        f"{exp.url}: Tab from the top does not visit every element in order.\n"
        f"expected {count} stops, got:\n" + "\n".join(map(str, described))
    )
    # One more Tab leaves the last element: to the browser (null) or back to the top (0).
    assert forward[count] in (None, 0), f"{exp.url}: Tab does not leave the last element: {described[-3:]}"

    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    page.evaluate("(n) => document.querySelector(`[data-kb='${n}']`).focus()", count - 1)
    backward = [count - 1] + walk(page, "Shift+Tab", count)
    described = [names[s] if isinstance(s, int) else s for s in backward]
    assert backward[:count] == list(reversed(range(count))), (
        f"{exp.url}: Shift+Tab from the end does not visit every element in reverse order:\n"
        + "\n".join(map(str, described))
    )
    assert backward[count] in (None, count - 1), f"{exp.url}: Shift+Tab does not leave the first element"
    assert not tab.errors


def test_table_sorts_and_pages_from_the_keyboard_and_says_so(tab, portal) -> None:  # type: ignore[no-untyped-def]
    """/rsa « Communes »: sort by name (French order), then go to page 2, with Enter only."""
    exp = expected(portal, "rsa")
    page = tab.page
    tab.open(exp.url)
    wait_ready(page, exp)
    box = page.locator("#rsa--communes-table")
    status = box.locator(".pilotis-table-status")
    assert status.text_content() == "Page 1 sur 24"  # 240 communes, 10 a page
    first = box.locator("thead th").nth(0)
    assert first.get_attribute("scope") == "col"
    assert box.locator("tbody tr:not([hidden])").count() == 10
    assert box.locator("caption").text_content() == "Communes"
    measure = box.locator("thead th[data-col='m0']")
    assert measure.get_attribute("aria-sort") == "descending"  # the rows arrive largest first

    sort_name = box.get_by_role("button", name="Trier par Commune")
    sort_name.focus()
    page.keyboard.press("Enter")
    name_head = box.locator("thead th[data-col='code_insee_nom']")
    assert name_head.get_attribute("aria-sort") == "ascending"
    assert measure.get_attribute("aria-sort") is None
    assert status.text_content() == "Trié par Commune, ordre croissant. Page 1 sur 24"
    assert page.evaluate("document.activeElement.textContent").endswith("Commune")
    names = box.locator("tbody th[scope='row']").evaluate_all("els => els.map(e => e.textContent)")
    assert len(names) == 240
    assert names.index("Ernée") < names.index("Évron") < min(i for i, n in enumerate(names) if n.startswith("F"))
    assert names.index("Mée") < names.index("Moulay")

    page.keyboard.press("Enter")  # again: descending
    assert name_head.get_attribute("aria-sort") == "descending"
    names = box.locator("tbody th[scope='row']").evaluate_all("els => els.map(e => e.textContent)")
    assert names.index("Moulay") < names.index("Mée")

    following = box.get_by_role("button", name="Page suivante")
    following.focus()
    page.keyboard.press("Enter")
    assert status.text_content() == "Page 2 sur 24"
    assert page.evaluate("document.activeElement.textContent") == "Page suivante"
    visible = box.locator("tbody tr:not([hidden]) th").evaluate_all("els => els.map(e => e.textContent)")
    assert visible == names[10:20]
    box.get_by_role("button", name="Dernière page").click()
    assert status.text_content() == "Page 24 sur 24"
    assert following.get_attribute("aria-disabled") == "true"
    page.keyboard.press("Enter")  # focus still on « Page suivante »: nothing beyond the last page
    assert status.text_content() == "Page 24 sur 24"
    assert box.locator(".pilotis-table-status").get_attribute("aria-live") == "polite"
    # French numbers in the cells: narrow no-break space between thousands.
    cells = box.locator("tbody td.text-end").evaluate_all("els => els.map(e => e.textContent)")
    numbers = [c for c in cells if c != "< 5"]  # « < 5 »: a count masked by statistical secrecy
    assert numbers and all("," not in c and " " not in c for c in numbers)
    assert not tab.errors


def test_choosing_a_dashboard_in_the_menu_moves_focus_to_its_heading_and_says_it(tab, portal) -> None:  # type: ignore[no-untyped-def]
    page = tab.page
    tab.open("/")
    page.wait_for_selector(".pilotis-home-card")
    assert page.evaluate("document.activeElement === document.body")  # a fresh load keeps the focus
    dashboard = portal.registry.dashboards["rsa"]
    link = page.locator(f"nav a.nav-link[href='{dashboard.spec.url}']")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "(title) => document.activeElement && document.activeElement.tagName === 'H1'"
        " && document.activeElement.textContent.includes(title)",
        arg=dashboard.spec.title,
        timeout=15_000,
    )
    announced = page.locator("#pilotis-announce")
    assert announced.get_attribute("aria-live") == "polite"
    page.wait_for_function(
        "(title) => document.getElementById('pilotis-announce').textContent.includes(title)",
        arg=dashboard.spec.title,
        timeout=5_000,
    )
    assert announced.text_content().startswith("Page affichée : ")
    # Tab goes on from the new content, not from the menu link.
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('#contenu')")
    wait_ready(page, expected(portal, "rsa"))


def test_charts_are_one_named_image_with_nothing_to_tab_through(tab, portal) -> None:  # type: ignore[no-untyped-def]
    exp = expected(portal, "rsa")
    page = tab.page
    tab.open(exp.url)
    wait_ready(page, exp)
    report = page.evaluate(
        """() => [...document.querySelectorAll('.pilotis-graph')].map(g => {
          const img = g.querySelector(':scope > [role=img]');
          return {
            name: img && img.getAttribute('aria-label'),
            hidden: img ? [...img.children].every(c => c.getAttribute('aria-hidden') === 'true') : false,
            focusable: [...g.querySelectorAll(':scope > [role=img] a[href], :scope > [role=img] button,'
              + ' :scope > [role=img] [tabindex]')].filter(e => e.tabIndex >= 0).length,
            modebar: g.querySelectorAll('.modebar-btn').length,
          };
        })"""
    )
    assert len(report) >= exp.graphs
    for graph in report:
        assert graph["name"], report
        assert graph["hidden"] and graph["focusable"] == 0 and graph["modebar"] == 0, report
    # « par commune » once in a map's name, even when the title already says it.
    names = [g["name"] for g in report]
    assert all(n.lower().count("par commune") <= 1 for n in names), names


def test_table_shows_the_new_rows_after_a_filter_change(tab, portal) -> None:  # type: ignore[no-untyped-def]
    """The rows travel as JSON beside the table (layouts/html_table.py) and pilotis-table.js writes
    them: after sorting, a new territory brings its own communes, in the server's order, page 1."""
    exp = expected(portal, "rsa")
    page = tab.page
    tab.open(exp.url)
    wait_ready(page, exp)
    box = page.locator("#rsa--communes-table")
    status = box.locator(".pilotis-table-status")
    box.get_by_role("button", name="Trier par Commune").click()
    box.get_by_role("button", name="Page suivante").click()
    assert status.text_content() == "Page 2 sur 24"

    territory = page.locator("#rsa--territory")
    epci = territory.locator("option").evaluate_all(
        "options => options.filter(o => !o.disabled && o.value.startsWith('epci:')).map(o => o.value)"
    )[0]
    territory.select_option(epci)
    page.wait_for_function(
        "() => document.querySelectorAll('#rsa--communes-table tbody tr').length < 240", timeout=30_000
    )
    rows = box.locator("tbody tr").count()
    assert 1 < rows < 240
    pages = -(-rows // 10)
    assert status.text_content() == (f"Page 1 sur {pages}" if pages > 1 else "")
    assert box.locator("tbody tr:not([hidden])").count() == min(rows, 10)
    assert box.locator("thead th[data-col='m0']").get_attribute("aria-sort") == "descending"
    assert box.locator("thead th[data-col='code_insee_nom']").get_attribute("aria-sort") is None
    values = box.locator("tbody td.text-end").evaluate_all("els => els.map(e => parseFloat(e.dataset.sort))")
    assert values == sorted(values, reverse=True), "the server's order: largest first"
    assert not tab.errors
