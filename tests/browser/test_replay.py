"""Replay: the exact callback requests an allowed user's Chromium sent are refused to others.

For every dashboard: an agent of a department that may open it signs in through the real login
form (gunicorn, 2 workers), opens the dashboard and we record, byte for byte, every request body
dash-renderer posts to ``/_dash-update-component``. Those bodies are then replayed:

- from the same session: 200 (the bodies are valid; a refusal below is access control, not a
  malformed or expired request);
- from the session of an agent of another department, with that session's own valid CSRF token
  (what a curious colleague with browser dev tools would do): 403, and no byte of the data;
- from a browser that has not signed in: 401.

The attacker's own browser, typing the dashboard's address, gets the 403 "Accès refusé" page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from pilotis.accounts.users import DEMO_USERS
from pilotis.core.access import Principal, can_view
from tests.browser.conftest import DESKTOP, new_tab, sign_in
from tests.browser.support import READY_TIMEOUT, dashboard_ids, expected

pytestmark = pytest.mark.browser

UPDATE = "/_dash-update-component"
DASHBOARDS = dashboard_ids()
READ_ALL = {"president", "admin"}
FILLED_JS = """() => {
  const bodies = [...document.querySelectorAll('.pilotis-widget-body')];
  return bodies.length > 0 && bodies.every(b => b.childNodes.length > 0);
}"""


def principal(username: str) -> Principal:
    demo = next(d for d in DEMO_USERS if d.username == username)
    return Principal(demo.username, demo.department, frozenset(demo.roles), demo.territory)


def cast(portal: Any, dashboard_id: str) -> tuple[str, str]:
    """An agent who may open the dashboard through their department, and one who may not."""
    spec = portal.registry.dashboards[dashboard_id].spec
    candidates = [d.username for d in DEMO_USERS if not set(d.roles) & READ_ALL and not d.territory]
    allowed = [u for u in candidates if can_view(principal(u), spec)]
    refused = [u for u in candidates if not can_view(principal(u), spec)]
    if not allowed or not refused:
        pytest.skip(f"{dashboard_id}: no demo agent pair (allowed/refused) to replay with")
    return allowed[0], refused[0]


@dataclass
class Captured:
    """A callback request as the browser sent it (raw bytes), and the status it got."""

    body: str
    status: int


@dataclass
class Recording:
    calls: list[Captured] = field(default_factory=list)


@pytest.fixture
def contexts(browser: Any, live_server: str) -> Iterator[list[Any]]:
    """Browser contexts opened by a test, all closed afterwards."""
    opened: list[Any] = []
    yield opened
    for context in opened:
        context.close()


def signed_in(browser: Any, base: str, username: str, opened: list[Any]) -> Any:
    context, tab = new_tab(browser, base, None, DESKTOP)
    opened.append(context)
    sign_in(tab.page, base, username)
    return tab


def csrf(context: Any) -> dict[str, str]:
    """The header dash-renderer would send from this context (its own session's token)."""
    token = next((c["value"] for c in context.cookies() if c["name"] == "_csrf_token"), None)
    assert token, "the signed-in context has no _csrf_token cookie"
    return {"Content-Type": "application/json", "X-CSRFToken": token}


@pytest.mark.parametrize("dashboard_id", DASHBOARDS)
def test_captured_callbacks_are_refused_to_another_department(
    browser,
    live_server,
    portal,
    contexts,
    dashboard_id: str,
) -> None:  # type: ignore[no-untyped-def]
    victim, attacker = cast(portal, dashboard_id)
    exp = expected(portal, dashboard_id)

    # 1. The allowed agent's real browser session: record every callback it posts.
    tab = signed_in(browser, live_server, victim, contexts)
    recording = Recording()

    def on_response(response: Any) -> None:
        request = response.request
        if request.method == "POST" and UPDATE in request.url:
            recording.calls.append(Captured(request.post_data or "", response.status))

    tab.page.on("response", on_response)
    tab.open(exp.url)
    # every widget the victim's page holds has been filled (on a synthesis dashboard the page
    # holds only the widgets they may see, fewer than the YAML declares)
    tab.page.wait_for_function(FILLED_JS, timeout=2 * READY_TIMEOUT, polling=200)
    tab.page.wait_for_load_state("networkidle")
    bodies = tab.page.evaluate("[...document.querySelectorAll('.pilotis-widget-body')].map(b => b.id)")
    widget_calls = [c for c in recording.calls if f'"{dashboard_id}--' in c.body]
    # every widget body was answered by a recorded call (one page callback answers them all on
    # a dashboard page; one callback per widget on a synthesis dashboard)
    answered = {b for b in bodies for c in widget_calls if f'"{b}"' in c.body.replace('": "', '":"')}
    assert bodies and answered == set(bodies), (len(widget_calls), sorted(set(bodies) - answered))
    assert all(c.status == 200 for c in recording.calls)
    assert not tab.errors, tab.errors

    victim_context = tab.page.context
    # 2. Same session, same bytes: accepted (the recording is a valid request).
    for call in widget_calls:
        again = victim_context.request.post(live_server + UPDATE, data=call.body, headers=csrf(victim_context))
        assert again.status == 200, again.text()[:300]

    # 3. Another department's session, with its own valid CSRF token: refused, no data.
    other = signed_in(browser, live_server, attacker, contexts)
    other_context = other.page.context
    for call in widget_calls:
        replayed = other_context.request.post(live_server + UPDATE, data=call.body, headers=csrf(other_context))
        assert replayed.status == 403, (attacker, replayed.status, replayed.text()[:300])
        assert replayed.json() == {"error": "accès refusé", "status": 403}
    # the router callback the victim posted, replayed: the "access denied" content, no data
    for call in recording.calls:
        if '"url"' in call.body and exp.url in call.body:
            replayed = other_context.request.post(live_server + UPDATE, data=call.body, headers=csrf(other_context))
            assert replayed.status == 200
            text = json.dumps(replayed.json(), ensure_ascii=False)
            assert "Accès refusé" in text and exp.title not in text
            assert f'"{dashboard_id}--' not in text

    # 4. Not signed in at all: 401.
    anonymous_context, _ = new_tab(browser, live_server, None, DESKTOP)
    contexts.append(anonymous_context)
    for call in widget_calls:
        replayed = anonymous_context.request.post(
            live_server + UPDATE, data=call.body, headers={"Content-Type": "application/json"}
        )
        assert replayed.status == 401

    # 5. The attacker typing the address in their own browser: the 403 page, nothing else.
    response = other.page.goto(live_server + exp.url)
    assert response is not None and response.status == 403
    assert "Accès refusé" in other.page.content()
    assert exp.title not in other.page.content()
