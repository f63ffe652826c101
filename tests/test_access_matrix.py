"""The access matrix: every demo user × every dashboard × every callback × the layout routes.

Generated, not written by hand: dashboards come from the ``dashboards/`` folder, callbacks from
the app's callback map (so a new dashboard or a new widget is covered without touching this
file), users from the demo accounts. For each cell the test client must get 200 with data where
``access.can_view`` allows, 403 (401 when signed out) and no data otherwise. The request bodies
are built like dash-renderer builds them, from the values of the page the allowed user received.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import pytest
from dash._utils import split_callback_id

from pilotis.accounts.users import DEMO_USERS
from pilotis.core.access import Principal, can_view, can_view_component
from pilotis.core.i18n import t
from pilotis.core.registry import Dashboard
from pilotis.core.settings import ROOT
from pilotis.web.enforce import SHELL_IDS
from tests.helpers import csrf_headers, login_as, router_body

DASHBOARDS = sorted(p.stem for p in (ROOT / "dashboards").glob("*.yaml"))
USERNAMES = [u.username for u in DEMO_USERS]
ROUTER = "..page.children...page-title.children.."
UPDATE = "/_dash-update-component"
SignIn = Callable[[Any], Any]
"""Signs a test client in (the real login form, or a single sign-on round trip)."""


def call(client, body: Any):  # type: ignore[no-untyped-def]
    """POST a callback body as dash-renderer does (JSON, with the session's CSRF header)."""
    return client.post(UPDATE, data=json.dumps(body), content_type="application/json", headers=csrf_headers(client))


def readable(response: Any) -> str:
    """A response body as a person would read it (JSON unescaped, HTML entities decoded)."""
    body = response.get_data(as_text=True)
    if response.mimetype == "application/json":
        try:
            body = json.dumps(json.loads(body), ensure_ascii=False)
        except ValueError:
            pass
    return html.unescape(body)


def principal_of_demo(username: str) -> Principal:
    """The demo account as a Principal (same fields as the session user)."""
    user = next(u for u in DEMO_USERS if u.username == username)
    return Principal(user.username, user.department, frozenset(user.roles), user.territory)


# --------------------------------------------------------------------------- building requests


def component_values(tree: Any) -> dict[str, dict[str, Any]]:
    """``{id: props}`` of every component with a string id in a serialized layout."""
    found: dict[str, dict[str, Any]] = {}
    if isinstance(tree, dict):
        props = tree.get("props")
        if isinstance(props, dict):
            if isinstance(props.get("id"), str):
                found[props["id"]] = props
            for value in props.values():
                found.update(component_values(value))
    elif isinstance(tree, list):
        for item in tree:
            found.update(component_values(item))
    return found


def callback_body(output: str, spec: dict[str, Any], values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The body of a callback, with input/state values taken from the rendered page."""
    outputs = split_callback_id(output)

    def filled(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "id": i["id"],
                "property": i["property"],
                "value": values.get(i["id"], {}).get(i["property"]),
            }
            for i in items
        ]

    inputs = filled(spec["inputs"])
    return {
        "output": output,
        "outputs": outputs,
        "inputs": inputs,
        "state": filled(spec["state"]),
        # nothing, as on a page's first call: each output of the callback is drawn and checked
        "changedPropIds": [],
    }


def dashboard_callbacks(app, dashboard: Dashboard) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Every server callback whose outputs belong to ``dashboard`` (read from the callback map)."""
    found = {}
    for output, spec in app.callback_map.items():
        parts = split_callback_id(output)
        ids = [p["id"] for p in (parts if isinstance(parts, list) else [parts])]
        if any(isinstance(i, str) and i.startswith(f"{dashboard.id}--") for i in ids):
            found[output] = spec
    return found


@dataclass
class Reference:
    """What the browser of an allowed user holds for one dashboard: its page and callback bodies."""

    page: Any
    bodies: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def reference(app) -> dict[str, Reference]:  # type: ignore[no-untyped-def]
    """Every dashboard's page and callback bodies, as the administrator's browser builds them."""
    return references(app, DASHBOARDS)


def references(app, names: list[str], sign_in: SignIn | None = None) -> dict[str, Reference]:  # type: ignore[no-untyped-def]
    """The page and callback bodies of ``names``, as the administrator's browser builds them
    (``sign_in``: how that administrator signs in, the demo account's password by default)."""
    portal = app.server.extensions["pilotis"]
    result = {}
    with app.server.test_client() as admin:
        (sign_in or partial(login_as, username="admin"))(admin)
        for name in names:
            dashboard = portal.registry.dashboards[name]
            response = call(admin, router_body(dashboard.spec.url))
            assert response.status_code == 200
            page = response.get_json()["response"]["page"]["children"]
            values = component_values(page)
            bodies = {
                output: callback_body(output, spec, values)
                for output, spec in dashboard_callbacks(app, dashboard).items()
            }
            result[name] = Reference(page, bodies)
    return result


# --------------------------------------------------------------------------- the matrix


def test_matrix_is_generated_from_the_folders(app) -> None:  # type: ignore[no-untyped-def]
    portal = app.server.extensions["pilotis"]
    assert DASHBOARDS and set(DASHBOARDS) == set(portal.registry.dashboards)
    # every server callback belongs to a dashboard, a séance (tests/test_seance.py checks those
    # per user and per display link) or the shell: nothing escapes the matrix
    for output in app.callback_map:
        parts = split_callback_id(output)
        for part in parts if isinstance(parts, list) else [parts]:
            assert (
                part["id"] in SHELL_IDS
                or portal.registry.owner_of(part["id"]) is not None
                or portal.registry.seance_of(part["id"]) is not None
            ), output


def test_known_decisions(portal) -> None:  # type: ignore[no-untyped-def]
    """A few cells stated by hand, independent of the generated matrix."""
    rsa = portal.registry.dashboards["rsa"].spec
    assert can_view(principal_of_demo("agent.rsa"), rsa)
    assert can_view(principal_of_demo("agent.laval"), rsa)
    assert not can_view(principal_of_demo("agent.rh"), rsa)
    assert not can_view(principal_of_demo("manager.finances"), rsa)
    assert not can_view(None, rsa)
    for dashboard in portal.registry.dashboards.values():
        assert can_view(principal_of_demo("president"), dashboard.spec)
        assert can_view(principal_of_demo("admin"), dashboard.spec)


def _dashboard_texts(dashboard: Dashboard) -> set[str]:
    texts = {dashboard.spec.title}
    if len(dashboard.spec.description) > 12:
        texts.add(dashboard.spec.description)
    return texts


@pytest.mark.parametrize("name", DASHBOARDS)
@pytest.mark.parametrize("username", USERNAMES)
def test_cell(app, reference, username: str, name: str) -> None:  # type: ignore[no-untyped-def]
    dashboard = app.server.extensions["pilotis"].registry.dashboards[name]
    assert_cell(
        app,
        username,
        dashboard,
        reference[name],
        can_view(principal_of_demo(username), dashboard.spec),
    )


def assert_cell(  # type: ignore[no-untyped-def]
    app,
    username: str,
    dashboard: Dashboard,
    ref: Reference,
    allowed: bool,
    *,
    principal: Principal | None = None,
    sign_in: SignIn | None = None,
) -> None:
    """One cell of the matrix: the page route, the router, the shell, every callback.

    ``sign_in`` signs the client in (the demo account's password by default: single sign-on users
    come in through their provider, tests/test_access_matrix_sso.py) and ``principal`` holds the
    rights expected (the demo account's by default)."""
    name = dashboard.id
    assert ref.bodies or all(w.type == "markdown" for w in dashboard.widgets)
    secret = _dashboard_texts(dashboard)
    with app.server.test_client() as client:
        (sign_in or partial(login_as, username=username))(client)

        # the page route
        page = client.get(dashboard.spec.url)
        assert page.status_code == (200 if allowed else 403), (username, name)
        if not allowed:
            assert "Accès refusé" in readable(page)
            assert not any(s in readable(page) for s in secret)

        # the routing callback (in-app navigation)
        routed = call(client, router_body(dashboard.spec.url))
        assert routed.status_code == 200
        routed_text = readable(routed)
        if allowed:
            assert dashboard.spec.title in routed_text
        else:
            assert t("denied", "fr") in routed_text
            assert not any(s in routed_text for s in secret)
            assert f'"{dashboard.id}--' not in routed_text

        # the shell and the callback graph
        layout = client.get("/_dash-layout")
        assert layout.status_code == 200
        assert (dashboard.spec.title in readable(layout)) == allowed
        dependencies = client.get("/_dash-dependencies")
        assert dependencies.status_code == 200
        listed = {cb["output"] for cb in dependencies.get_json()}
        # on a synthesis dashboard (`overview: true`) each widget has its own decision too
        rights = principal or principal_of_demo(username)
        registry = app.server.extensions["pilotis"].registry

        def widget_allowed(output: str) -> bool:
            parts = split_callback_id(output) if ".." in output else [split_callback_id(output)]
            return all(can_view_component(rights, registry, part["id"]) for part in parts)

        granted = {output for output in ref.bodies if allowed and widget_allowed(output)}
        assert granted <= listed and not ((set(ref.bodies) - granted) & listed), (username, name)
        if allowed:  # a hidden widget is not in the page at all
            for output in set(ref.bodies) - granted:
                assert f'"{output.rsplit(".", 1)[0]}"' not in routed_text, (username, output)

        # every callback of the dashboard
        for output, body in ref.bodies.items():
            response = call(client, body)
            if output in granted:
                assert response.status_code == 200, (username, output, response.data[:300])
                payload = response.get_json()["response"]
                for part in split_callback_id(output) if ".." in output else [split_callback_id(output)]:
                    assert part["id"] in payload, (username, output)
                assert t("internal_error", "fr") not in response.get_data(as_text=True)
            else:
                assert response.status_code == 403, (username, output, response.status_code)
                assert response.get_json() == {"error": "accès refusé", "status": 403}


@pytest.mark.parametrize("name", DASHBOARDS)
def test_cell_anonymous(app, reference, name: str) -> None:  # type: ignore[no-untyped-def]
    portal = app.server.extensions["pilotis"]
    dashboard = portal.registry.dashboards[name]
    with app.server.test_client() as client:
        page = client.get(dashboard.spec.url)
        assert page.status_code == 302
        assert page.headers["Location"].startswith("/login")
        assert dashboard.spec.title not in page.get_data(as_text=True)
        for path in ("/_dash-layout", "/_dash-dependencies"):
            assert client.get(path).status_code == 401
        assert call(client, router_body(dashboard.spec.url)).status_code == 401
        for body in reference[name].bodies.values():
            response = call(client, body)
            assert response.status_code == 401
            assert dashboard.spec.title not in response.get_data(as_text=True)


def test_home_lists_exactly_the_visible_dashboards(app) -> None:  # type: ignore[no-untyped-def]
    portal = app.server.extensions["pilotis"]
    for username in USERNAMES:
        principal = principal_of_demo(username)
        with app.server.test_client() as client:
            login_as(client, username)
            assert client.get("/").status_code == 200
            home = readable(call(client, router_body("/")))
            for dashboard in portal.registry.dashboards.values():
                shown = f'"href": "{dashboard.spec.url}"' in home
                assert shown == can_view(principal, dashboard.spec), (username, dashboard.id)


# --------------------------------------------------------------------------- crafted requests


@pytest.fixture
def agent_rh(client):  # type: ignore[no-untyped-def]
    login_as(client, "agent.rh")
    return client


def _forbidden_and_allowed(app) -> tuple[Dashboard, Dashboard]:  # type: ignore[no-untyped-def]
    portal = app.server.extensions["pilotis"]
    rh = principal_of_demo("agent.rh")
    forbidden = next(d for d in portal.registry.ordered() if not can_view(rh, d.spec))
    allowed = next((d for d in portal.registry.ordered() if can_view(rh, d.spec)), None)
    return forbidden, allowed  # type: ignore[return-value]


def test_mixed_ids_are_refused(app, agent_rh, reference) -> None:  # type: ignore[no-untyped-def]
    """A forbidden callback disguised with allowed ids (or the reverse) is refused."""
    forbidden, allowed = _forbidden_and_allowed(app)
    output, body = next(iter(reference[forbidden.id].bodies.items()))
    disguised = dict(body)
    if allowed is not None and reference[allowed.id].bodies:
        other = next(iter(reference[allowed.id].bodies.values()))
        # as many entries as the forbidden callback declares (more are refused before any
        # access decision, 400): only the ids differ
        disguised["inputs"] = other["inputs"][: len(body["inputs"])]
        outputs = other["outputs"] if isinstance(other["outputs"], list) else [other["outputs"]]
        disguised["outputs"] = outputs[: len(body["outputs"]) if isinstance(body["outputs"], list) else 1]
        assert call(agent_rh, disguised).status_code == 403
        reverse = dict(other)
        reverse["inputs"] = body["inputs"]
        assert call(agent_rh, reverse).status_code == 403
    shell_disguise = dict(
        body,
        outputs={"id": "page", "property": "children"},
        inputs=[{"id": "url", "property": "pathname", "value": "/"}],
    )
    assert call(agent_rh, shell_disguise).status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"output": "nobody.children", "inputs": [], "state": []},
        {
            "output": ROUTER,
            "outputs": [{"id": "page", "property": "children"}],
            "inputs": [{"id": "inconnu", "property": "value", "value": 1}],
            "state": [],
        },
    ],
)
def test_malformed_or_unknown_callbacks_are_refused(agent_rh, body) -> None:  # type: ignore[no-untyped-def]
    response = call(agent_rh, body)
    assert response.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"output": 3},
        {"output": ROUTER, "inputs": [{"id": {"type": "x", "index": 1}, "property": "value"}]},  # no outputs
    ],
)
def test_unreadable_callback_bodies_are_bad_requests(agent_rh, body) -> None:  # type: ignore[no-untyped-def]
    """Not the shape dash-renderer sends: 400 naming what is wrong (pilotis/request_limits.py)."""
    response = call(agent_rh, body)
    assert response.status_code == 400 and response.get_json()["error"]


def test_router_never_renders_a_forbidden_page(app, agent_rh) -> None:  # type: ignore[no-untyped-def]
    forbidden, _ = _forbidden_and_allowed(app)
    for path in (forbidden.spec.url, forbidden.spec.url + "/", forbidden.spec.url.upper()):
        response = call(agent_rh, router_body(path))
        assert response.status_code == 200
        assert forbidden.spec.title not in response.get_data(as_text=True)


# --------------------------------------------------------------------------- a new dashboard


def test_a_new_dashboard_is_covered_and_denied_by_default(tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    """Drop two dashboards in a copy of the folder — one without `access` (administrators only),
    one `public-internal` — and the same checks run on them, from the callback map."""
    from app import create_app

    folder = tmp_path / "dashboards"
    shutil.copytree(ROOT / "dashboards", folder)
    source = (ROOT / "dashboards" / "rsa.yaml").read_text(encoding="utf-8")
    rule = re.compile(r"^access:\n(?:  .*\n)+", re.MULTILINE)
    assert rule.search(source)
    for new_id, access in (("brouillon", ""), ("ouvert", "access: public-internal\n")):
        text = rule.sub(access, source).replace("id: rsa", f"id: {new_id}", 1)
        text = text.replace("title: Observatoire du RSA", f"title: Tableau {new_id} en test", 1)
        (folder / f"{new_id}.yaml").write_text(text, encoding="utf-8")
        shutil.copy(ROOT / "dashboards" / "rsa.py", folder / f"{new_id}.py")
    other = replace(
        settings,
        dashboards_dir=folder,
        instance_dir=tmp_path / "instance",
        database_url=f"sqlite:///{tmp_path / 'pilotis.accounts.db'}",
    )
    app = create_app(other)
    refs = references(app, ["brouillon", "ouvert"])
    registry = app.server.extensions["pilotis"].registry
    expected = {
        ("brouillon", "admin"): True,
        ("brouillon", "president"): False,
        ("brouillon", "agent.rsa"): False,
        ("ouvert", "agent.rh"): True,
        ("ouvert", "president"): True,
        ("ouvert", "agent.laval"): True,
    }
    for (name, username), allowed in expected.items():
        dashboard = registry.dashboards[name]
        assert can_view(principal_of_demo(username), dashboard.spec) == allowed
        assert_cell(app, username, dashboard, refs[name], allowed)


# --------------------------------------------------------------------------- audit


def test_views_and_refusals_are_audited(app, db, agent_rh, reference) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from pilotis.accounts.models import AuditEvent

    forbidden, allowed = _forbidden_and_allowed(app)

    def events() -> list[tuple[str, str | None, str | None]]:
        with db.session() as session:
            rows = session.scalars(
                select(AuditEvent).where(AuditEvent.username == "agent.rh").order_by(AuditEvent.id)
            ).all()
            return [(r.event, r.target, r.detail) for r in rows]

    before = len(events())
    assert agent_rh.get(forbidden.spec.url).status_code == 403
    call(agent_rh, router_body(forbidden.spec.url))
    output, body = next(iter(reference[forbidden.id].bodies.items()))
    assert call(agent_rh, body).status_code == 403
    if allowed is not None:
        call(agent_rh, router_body(allowed.spec.url))
    new = events()[before:]
    assert ("access_denied", f"page {forbidden.spec.url}") in [(e, t) for e, t, _ in new]
    assert sum(1 for e, t, _ in new if e == "access_denied" and t == f"page {forbidden.spec.url}") == 2
    assert any(e == "access_denied" and t == f"callback {output}" for e, t, _ in new), new
    if allowed is not None:
        assert ("page_view", f"page {allowed.spec.url}") in [(e, t) for e, t, _ in new]
