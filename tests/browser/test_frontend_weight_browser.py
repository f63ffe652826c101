"""A light front end, measured in Chromium the way a visitor meets it (not timed).

- A first visit to /rsa (empty browser cache) downloads at most 700 kB of JavaScript on the
  wire: plotly.js reduced to the trace types the portal draws, no Markdown parser (texts and
  data tables are built as html components on the server).
- A second visit transfers at most 50 kB of static files (/assets, Dash's component suites):
  versioned addresses come from the cache without a request, the others get 304 answers.
- The reduced plotly.js is the one drawing, with Dash's plotly.js major version and the French
  locale.
- /rsa, drawn, holds at most 350 Dash components (dash-renderer's work at every update grows with
  them; 666 before the parts no callback touches became static HTML, pilotis/ui/static_html.py),
  and those parts are in the page: every « Télécharger » menu with its three links.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import USER, _context, sign_in, write_json
from tests.browser.support import COMPONENTS_JS

pytestmark = pytest.mark.browser

PAGE = "/rsa"
MAX_FIRST_JS = 700 * 1024
MAX_SECOND_STATIC = 50 * 1024
MAX_COMPONENTS = 350
STATIC = ("/assets/", "/_dash-component-suites/")
DRAWN = ".js-plotly-plot .main-svg g.trace"


@pytest.fixture
def cold_context(browser: Any, live_server: str) -> Iterator[Any]:
    """A signed-in context whose browser cache is empty (signed in elsewhere, cookies copied)."""
    login = _context(browser, {"width": 1366, "height": 768})
    try:
        page = login.new_page()
        sign_in(page, live_server, USER)
        state = login.storage_state()
    finally:
        login.close()
    context = _context(browser, {"width": 1366, "height": 768}, state)
    try:
        yield context
    finally:
        context.close()


def _visit(page: Any, url: str) -> list[dict[str, Any]]:
    """Load ``url`` until its figures are drawn; every finished request with its wire size."""
    rows: list[dict[str, Any]] = []

    def finished(request: Any) -> None:
        response = request.response()
        sizes = request.sizes()
        rows.append(
            {
                "url": request.url,
                "type": request.resource_type,
                "status": response.status if response else None,
                "bytes": sizes["responseBodySize"] + sizes["responseHeadersSize"],
                "cache": response.headers.get("cache-control") if response else None,
            }
        )

    page.on("requestfinished", finished)
    page.goto(url)
    page.wait_for_selector(DRAWN, timeout=30_000)
    page.wait_for_load_state("networkidle", timeout=30_000)
    page.remove_listener("requestfinished", finished)
    return rows


@pytest.fixture
def two_visits(cold_context: Any, live_server: str) -> tuple[Any, list[dict[str, Any]], list[dict[str, Any]]]:
    """/rsa opened twice in a browser whose cache was empty: the page, and each visit's requests."""
    page = cold_context.new_page()
    first = _visit(page, live_server + PAGE)
    second = _visit(page, live_server + PAGE)
    write_json("frontend-weight.json", {"first": first, "second": second})
    return page, first, second


def test_second_visit_reuses_static_files_and_plotly_is_the_partial_bundle(two_visits: Any) -> None:
    page, first, second = two_visits
    urls = [r["url"] for r in first]
    assert not [u for u in urls if "plotly.min.js" in u], "Dash's full plotly.js is not downloaded"
    assert not [u for u in urls if "dcc/async-highlight" in u], "no highlighter for Markdown widgets"
    assert not [u for u in urls if "dcc/async-markdown" in u], "no Markdown parser: texts are built on the server"

    static = [r for r in second if any(p in r["url"] for p in STATIC)]
    again = sum(r["bytes"] for r in static)
    assert again <= MAX_SECOND_STATIC, f"second load: {again / 1024:.0f} kB of static files: {static}"
    resent = [r for r in static if r["status"] == 200 and r["bytes"] > 2048]
    assert not resent, f"static files downloaded again: {resent}"
    versioned = [r for r in first if "/assets/" in r["url"] and "?m=" in r["url"]]
    assert versioned and all("immutable" in (r["cache"] or "") for r in versioned), versioned

    plotly = page.evaluate("""() => {
        const gd = document.querySelector('.js-plotly-plot');
        return {
            version: window.Plotly && window.Plotly.version,
            february: gd._fullLayout._d3locale.timeFormat('%b')(new Date(2020, 1, 15)),
            traces: [...document.querySelectorAll('.js-plotly-plot')].map(g => (g.data || []).map(t => t.type)).flat(),
        };
    }""")
    assert str(plotly["version"]).startswith("4."), plotly  # the major version Dash 4.4.1 ships
    assert plotly["traces"], plotly
    assert plotly["february"] != "Feb", f"plotly's French locale is registered: {plotly}"


def test_first_visit_downloads_at_most_700_kb_of_javascript(two_visits: Any) -> None:
    _, first, _ = two_visits
    scripts = [r for r in first if r["type"] == "script"]
    js = sum(r["bytes"] for r in scripts)
    biggest = sorted(scripts, key=lambda r: -r["bytes"])[:6]
    assert js <= MAX_FIRST_JS, f"{js / 1024:.0f} kB of JavaScript on the wire for {PAGE}: {biggest}"


def test_the_dashboard_is_few_dash_components_and_its_static_parts_are_drawn(two_visits: Any) -> None:
    page, _, _ = two_visits
    counts = page.evaluate(COMPONENTS_JS)
    total = sum(counts.values())
    biggest = sorted(counts.items(), key=lambda item: -item[1])[:8]
    assert total <= MAX_COMPONENTS, f"{total} Dash components on {PAGE}: {biggest}"
    # what left the Dash tree is still in the page, as HTML: the widgets' titles, source lines,
    # « Télécharger » menus (three links each, named after the widget) and data tables' headers
    assert page.locator(".pilotis-static[data-html]:empty").count() == 0
    assert page.locator("section.pilotis-widget h2").count() >= 10
    menus = page.locator("section.pilotis-widget details.pilotis-download")
    assert menus.count() >= 5
    for index in range(menus.count()):
        links = menus.nth(index).locator("a.pilotis-export")
        assert links.count() == 3
        assert all((links.nth(i).get_attribute("href") or "").startswith("/exports/rsa/") for i in range(links.count()))
    assert page.locator("table.pilotis-data-table thead button.pilotis-sort").count() >= 2
