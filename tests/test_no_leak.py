"""No page, for any user, contains text from a dashboard that user may not see.

For every demo user, every response a browser can obtain without being refused — the HTML of
every page path, ``/_dash-layout``, ``/_dash-dependencies`` and the routing callback's output
for every path — is searched for the title, the description, the widget titles and
descriptions, the Markdown text and the component ids of every dashboard the user may not open.
Dashboards come from the ``dashboards/`` folder: a new one is checked automatically.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from pilotis.accounts.users import DEMO_USERS
from pilotis.core.access import can_view
from pilotis.core.i18n import TEXTS
from pilotis.core.registry import Dashboard
from tests.test_access_matrix import call, principal_of_demo, readable, router_body

USERNAMES = [u.username for u in DEMO_USERS]
MIN_LENGTH = 6
"""Shorter strings ("Total", "Taux") are too common to mean anything."""


def dashboard_texts(dashboard: Dashboard) -> set[str]:
    """Every human-readable string a dashboard's YAML defines."""
    spec = dashboard.spec
    found = {spec.title, spec.description}
    for widget in dashboard.widgets:
        found |= {widget.title, widget.description}
        text = getattr(widget, "text", "")
        if text:  # Markdown: each line, without its markup
            found |= {re.sub(r"[*_`#>]", "", line).strip() for line in text.splitlines()}
    return {s for s in found if len(s) >= MIN_LENGTH}


def neutral_corpus(portal: Any) -> str:
    """Texts every user may see whatever their rights: interface, territories, portal."""
    parts = [v for entry in TEXTS.values() for v in entry.values()]
    index = portal.territories
    parts += list(index.communes.values()) + list(index.epcis.values()) + [index.departement_name]
    parts += [portal.registry.portal.title, portal.registry.portal.collectivite.nom]
    return "\n".join(parts)


def forbidden_for(portal: Any, username: str) -> tuple[set[str], list[Dashboard]]:
    """Strings only forbidden dashboards contain, and those dashboards."""
    principal = principal_of_demo(username)
    allowed = [d for d in portal.registry.ordered() if can_view(principal, d.spec)]
    denied = [d for d in portal.registry.ordered() if not can_view(principal, d.spec)]
    visible = set().union(*(dashboard_texts(d) for d in allowed)) if allowed else set()
    corpus = neutral_corpus(portal) + "\n".join(visible)
    secret = set().union(*(dashboard_texts(d) for d in denied)) if denied else set()
    return {s for s in secret if s not in corpus}, denied


def responses(client: Any, portal: Any) -> dict[str, Any]:
    """Everything this user's browser can obtain (refusals included: they must not leak either)."""
    paths = ["/", "/pas-une-page", "/login"] + [d.spec.url for d in portal.registry.ordered()]
    found: dict[str, Any] = {}
    for path in paths:
        found[f"GET {path}"] = client.get(path)
        found[f"router {path}"] = call(client, router_body(path))
    for path in ("/_dash-layout", "/_dash-dependencies"):
        found[f"GET {path}"] = client.get(path)
    return found


@pytest.mark.parametrize("username", USERNAMES)
def test_no_text_of_a_forbidden_dashboard(app, portal, login_as, username: str) -> None:  # type: ignore[no-untyped-def]
    secret, denied = forbidden_for(portal, username)
    with app.server.test_client() as client:
        login_as(client, username)
        for name, response in responses(client, portal).items():
            assert response.status_code < 500, name
            body = readable(response)
            leaked = sorted(s for s in secret if s in body)
            assert not leaked, f"{username}: {name} shows {leaked[:3]}"
            for dashboard in denied:
                assert f'"{dashboard.id}--' not in body, f"{username}: {name} names {dashboard.id}'s components"
                if name.startswith(("GET /_dash", "router")):
                    assert f'"{dashboard.spec.url}"' not in body, f"{username}: {name} links {dashboard.spec.url}"


def test_the_check_would_see_a_leak(app, portal, login_as) -> None:  # type: ignore[no-untyped-def]
    """The same check on the president's responses finds every dashboard's title (sanity)."""
    with app.server.test_client() as client:
        login_as(client, "president")
        bodies = "\n".join(readable(r) for r in responses(client, portal).values())
    for dashboard in portal.registry.dashboards.values():
        assert dashboard.spec.title in bodies
        assert f'"{dashboard.id}--' in bodies


def test_anonymous_sees_no_dashboard_text(app, portal) -> None:  # type: ignore[no-untyped-def]
    secret = set().union(*(dashboard_texts(d) for d in portal.registry.ordered()))
    secret = {s for s in secret if s not in neutral_corpus(portal)}
    with app.server.test_client() as client:
        for name, response in responses(client, portal).items():
            assert response.status_code in (302, 401, 404, 200), name
            body = readable(response)
            assert not [s for s in secret if s in body], name
