"""The Content-Security-Policy in a real Chromium: every kind of page works under it, none violates it.

The policy (pilotis/csp.py) allows scripts of the site and Dash's inline scripts by hash only. A
page that needed anything else would break silently for users (a graph not drawn, a callback
never sent), so each page below must be drawn, its callbacks answered, and the browser must have
fired no ``securitypolicyviolation`` event and logged no CSP error. The listener is installed by
an init script before any script of the page runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.browser.conftest import Tab, new_tab, sign_in
from tests.browser.support import dashboard_ids, expected, wait_ready

pytestmark = pytest.mark.browser

LISTENER = """
document.addEventListener('securitypolicyviolation', (e) => {
  window.__pilotisCsp({directive: e.violatedDirective, blocked: e.blockedURI,
                       sample: e.sample, source: e.sourceFile, line: e.lineNumber});
});
"""
SEANCE_READY_JS = """
() => {
  const root = document.querySelector('.pilotis-seance[data-ready="true"]');  // set by assets/seance.js
  if (!root) return false;
  const status = root.querySelector('.pilotis-seance-status');
  const plots = [...root.querySelectorAll('.pilotis-seance-figure:not([hidden]) .js-plotly-plot')];
  return status && status.classList.contains('is-fresh') && plots.length > 0
    && plots.every(p => p.querySelector('.main-svg g.trace'));
}
"""


@dataclass
class Watch:
    """What one browser page reported: CSP violations, CSP console errors, callback answers."""

    violations: list[dict[str, Any]] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    callbacks: list[int] = field(default_factory=list)
    failed_callbacks: list[str] = field(default_factory=list)
    largest_callback_body: int = 0

    def clean(self) -> str:
        """Empty when nothing went wrong, else what did."""
        problems = [f"violation {v}" for v in self.violations] + [f"console: {c}" for c in self.console]
        problems += [f"callback {c}" for c in self.failed_callbacks]
        return "\n".join(problems)


def watch(tab: Tab) -> Watch:
    """Install the CSP listener and the callback recorder on ``tab`` (before its first load)."""
    seen = Watch()
    page = tab.page
    page.expose_function("__pilotisCsp", lambda report: seen.violations.append(report))
    page.add_init_script(LISTENER)

    def console(message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            seen.console.append(text)

    def request(req: Any) -> None:
        if "_dash-update-component" in req.url and req.method == "POST":
            seen.largest_callback_body = max(seen.largest_callback_body, len(req.post_data_buffer or b""))

    def response(resp: Any) -> None:
        if "_dash-update-component" in resp.url:
            seen.callbacks.append(resp.status)
            if resp.status not in (200, 204):
                seen.failed_callbacks.append(f"{resp.status} {resp.url}")

    page.on("console", console)
    page.on("request", request)
    page.on("response", response)
    return seen


@pytest.fixture
def watched(tab: Tab) -> Iterator[tuple[Tab, Watch]]:
    """The signed-in `president` tab, watched."""
    yield tab, watch(tab)


def _settle(tab: Tab) -> None:
    tab.page.wait_for_load_state("networkidle", timeout=45_000)


def test_every_page_works_under_the_policy(watched: tuple[Tab, Watch], portal: Any) -> None:
    tab, seen = watched
    response = tab.page.goto(tab.base + "/")
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self' 'sha256-" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    tab.page.wait_for_selector("#page > *", timeout=30_000)
    _settle(tab)

    for dashboard_id in dashboard_ids():  # pilotage (the synthesis) included
        exp = expected(portal, dashboard_id)
        tab.open(exp.url)
        wait_ready(tab.page, exp)

    indicator = next(iter(portal.registry.indicators))
    for path in ("/donnees", "/indicateurs", f"/indicateurs/{indicator}"):
        tab.open(path)
        _settle(tab)
    assert tab.page.goto(tab.base + "/page-qui-n-existe-pas").status == 404  # server-rendered

    seance = next(iter(portal.registry.seances.values()))
    for path in (seance.url, "/seance/d/rsa"):
        tab.page.goto(tab.base + path)
        tab.page.wait_for_function(SEANCE_READY_JS, timeout=45_000, polling=200)
        _settle(tab)

    assert tab.page.goto(tab.base + "/logout").status == 200  # server-rendered confirmation

    assert tab.errors == [], tab.errors
    assert seen.callbacks and not seen.failed_callbacks, seen.clean()
    assert seen.violations == [] and seen.console == [], seen.clean()
    print(f"largest callback body sent by the browser: {seen.largest_callback_body} bytes")


def test_login_and_refusal_pages_under_the_policy(browser: Any, live_server: str) -> None:
    context, tab = new_tab(browser, live_server, None)
    try:
        seen = watch(tab)
        tab.page.goto(live_server + "/login")
        sign_in(tab.page, live_server, "agent.rsa")  # the login form, then the home page
        tab.page.wait_for_selector("#page > *", timeout=30_000)
        _settle(tab)
        assert tab.page.goto(live_server + "/finances").status == 403  # « Accès refusé »
        assert tab.page.goto(live_server + "/admin/audit").status == 403
        assert tab.errors == [], tab.errors
        assert seen.violations == [] and seen.console == [] and not seen.failed_callbacks, seen.clean()
    finally:
        context.close()


def test_admin_pages_under_the_policy(browser: Any, live_server: str) -> None:
    context, tab = new_tab(browser, live_server, None)
    try:
        seen = watch(tab)
        sign_in(tab.page, live_server, "admin")
        for path in ("/admin/audit", "/admin/sources"):
            assert tab.page.goto(live_server + path).status == 200, path
            _settle(tab)
        assert tab.errors == [], tab.errors
        assert seen.violations == [] and seen.console == [], seen.clean()
    finally:
        context.close()


def test_an_inline_script_that_is_not_hashed_is_blocked_and_reported(watched: tuple[Tab, Watch]) -> None:
    """The policy is real: an injected inline script does not run, and the listener hears of it."""
    tab, seen = watched
    tab.open("/")
    ran = tab.page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__injected = true;';
                   document.body.appendChild(s); return window.__injected === true; }"""
    )
    tab.page.wait_for_timeout(300)  # the violation event is dispatched asynchronously
    assert ran is False
    assert any(v["directive"].startswith("script-src") for v in seen.violations), seen.violations
