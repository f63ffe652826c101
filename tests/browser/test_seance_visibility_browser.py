"""The « Pilotage » séance in a real Chromium, served by gunicorn (2 workers, shared file cache):
the president opens it first, then a manager of finances in the same refresh period gets only
his direction's slides — no other direction's value or title anywhere in the document — and the
page works (rotation over his slides only, no JavaScript error, axe-core clean)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import login_page_exists, new_tab, sign_in, write_json
from tests.browser.support import BLOCKING_IMPACTS, describe, run_axe

pytestmark = pytest.mark.browser

URL = "/seance/d/pilotage"
FINANCES = {"finances", "fin_fonctionnement", "fin_equipement"}
READY_JS = """
() => {
  const root = document.querySelector('.pilotis-seance[data-ready="true"]');
  const status = root && root.querySelector('.pilotis-seance-status');
  return Boolean(status && status.classList.contains('is-fresh')
    && root.querySelectorAll('.pilotis-kpi-value').length > 0);
}
"""
VALUES_JS = "() => [...document.querySelectorAll('.pilotis-kpi-value')].map(e => e.textContent)"


def _open(browser: Any, base: str, username: str) -> tuple[Any, Any, list[str]]:
    context, tab = new_tab(browser, base, None, {"width": 1920, "height": 1080})
    console: list[str] = []
    tab.page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    sign_in(tab.page, base, username)
    tab.page.goto(base + URL)
    tab.page.wait_for_function(READY_JS, timeout=30_000, polling=100)
    tab.page.wait_for_timeout(300)  # every slot of the refresh answer is drawn
    return context, tab, console


def test_a_manager_gets_only_his_slides_after_the_president(browser, live_server, portal, axe_script) -> None:  # type: ignore[no-untyped-def]
    if not login_page_exists(live_server):
        pytest.skip("no login page: every visitor is the same user")
    widgets = portal.registry.dashboards["pilotage"].widgets
    hidden_titles = [w.title for w in widgets if w.id not in FINANCES and w.title]
    kpis = [w for w in widgets if w.type == "kpi"]
    context, tab, _console = _open(browser, live_server, "president")
    try:
        everything = tab.page.evaluate(VALUES_JS)
        assert len(everything) == len(kpis), everything
    finally:
        context.close()
    context, tab, console = _open(browser, live_server, "manager.finances")
    try:
        page = tab.page
        mine = page.evaluate(VALUES_JS)
        assert len(mine) == 2 and set(mine) <= set(everything), mine
        hidden_values = [v for v in everything if v not in mine]
        assert len(hidden_values) == len(kpis) - 2
        document = page.content()
        for text in hidden_titles + hidden_values:
            assert text not in document, text
        assert page.locator(".pilotis-seance-slide").count() == 2  # the finances heading, its two KPIs
        assert page.locator(".pilotis-seance-counter").inner_text() == "1 / 2"
        page.keyboard.press("Space")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(500)
        assert page.locator(".pilotis-seance-counter").inner_text() == "1 / 2"  # back to the first
        violations = run_axe(page, axe_script)
        write_json("axe-seance-pilotage-manager.json", violations)
        blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
        assert not blocking, describe(blocking)
        tab.screenshot("seance-pilotage-manager")
        assert not tab.errors and not console, (tab.errors, console)
    finally:
        context.close()
