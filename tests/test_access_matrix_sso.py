"""The access matrix again, for people who sign in through single sign-on.

Their direction, roles and territory come from the mapping rules of `config/sso.yaml` (one group
per demo profile), not from an administrator: each must see exactly what the local account with the
same profile sees, and a person no rule admits sees nothing. Real servers on loopback (npm
`oidc-provider`, Debian's `slapd`), the real app in production mode with both kinds of accounts.

- OpenID Connect: every demo profile × every dashboard (page route, router, shell, every callback:
  :func:`tests.test_access_matrix.assert_cell`, each cell a fresh sign-in through the provider),
  then per profile the callback graph, the home page, every export and the API's list of dashboards
  compared with the local account's;
- LDAP: the same cells for a representative set of profiles (:data:`LDAP_PROFILES`: a territory
  restriction, a manager, the présidence, an agent of a direction without dashboards of its own) —
  the directory branch differs from the OpenID one only up to the mapping, which the OpenID matrix
  covers in full.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from dash import Dash
from flask.testing import FlaskClient
from sqlalchemy import select

from pilotis.accounts.api_tokens import create_personal
from pilotis.accounts.db import get_db
from pilotis.accounts.models import User
from pilotis.accounts.users import DEMO_USERS, create
from pilotis.core.access import can_view
from tests.helpers import form_token, login_as, router_body
from tests.sso_app import LOCAL_PASSWORD, SECRET_ENV, sso_app
from tests.sso_servers import (
    CI,
    CLIENT_SECRET,
    SUFFIX,
    LdapServer,
    OidcServer,
    oidc_available,
    oidc_provider,
    provider_sign_in,
    slapd,
    slapd_available,
)
from tests.test_access_matrix import DASHBOARDS, USERNAMES, Reference, assert_cell, call, principal_of_demo, references

pytestmark = pytest.mark.skipif(
    (not oidc_available() or not slapd_available()) and not CI,
    reason="node, le paquet npm oidc-provider ou slapd absent (npm ci ; apt-get install slapd ldap-utils)",
)

LDAP_PROFILES = ["agent.laval", "manager.finances", "president", "agent.numerique"]
LDAP_PASSWORD = "mdp-annuaire-2026"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
NOBODY_GROUP = "stagiaires"
SignIn = Callable[[FlaskClient], Any]


def group_of(username: str) -> str:
    """The provider's / directory's group that the rules map to the demo profile ``username``."""
    return f"profil-{username}"


def sso_yaml(issuer: str, ldap_url: str) -> str:
    rules = "".join(
        f"""
  - when: {{groups: [{group_of(demo.username)}]}}
    department: {demo.department}
    roles: [{", ".join(demo.roles)}]
"""
        + (f"    territory: {demo.territory}\n" if demo.territory else "")
        for demo in DEMO_USERS
    )
    return f"""
access_contact: "la direction du numérique (support-pilotis@lamayenne.fr)"
oidc:
  - id: test
    label: Fournisseur de test
    issuer: {issuer}
    client_id: pilotis
    client_secret_env: {SECRET_ENV}
    scopes: [openid, email, profile, groups]
ldap:
  url: {ldap_url}
  user_dn: "uid={{username}},{PEOPLE}"
  group_base: "{GROUPS}"
rules:{rules}"""


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OidcServer, LdapServer]]:
    folder = tmp_path_factory.mktemp("sso-matrix")
    (folder / "oidc").mkdir()
    callbacks = ["http://localhost/sso/test/callback"]
    with oidc_provider(folder / "oidc", callbacks, ["http://localhost/login?logged_out=1"]) as provider:
        people = {
            f"o-{demo.username}": {"preferred_username": f"o-{demo.username}", "groups": [group_of(demo.username)]}
            for demo in DEMO_USERS
        }
        provider.set_users({**people, "o-nobody": {"preferred_username": "o-nobody", "groups": [NOBODY_GROUP]}})
        with slapd(folder / "ldap") as directory:
            for username in LDAP_PROFILES:
                dn = directory.add_user(f"l-{username}", LDAP_PASSWORD, f"Annuaire {username}")
                directory.set_members(group_of(username), [dn])
            directory.set_members(NOBODY_GROUP, [directory.add_user("l-nobody", LDAP_PASSWORD, "Sans Règle")])
            yield provider, directory


@pytest.fixture(scope="module")
def app(servers: tuple[OidcServer, LdapServer], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dash]:
    provider, directory = servers
    patch = pytest.MonkeyPatch()
    patch.setenv(SECRET_ENV, CLIENT_SECRET)
    try:
        dash_app = sso_app(tmp_path_factory.mktemp("app"), sso_yaml(provider.issuer, directory.url))
        departments = dash_app.server.extensions["pilotis"].registry.departments
        for demo in DEMO_USERS:  # the equivalent local accounts, same profile as the demo ones
            create(
                get_db(dash_app.server),
                username=demo.username,
                display_name=demo.display_name,
                department=demo.department,
                roles=list(demo.roles),
                territory=demo.territory,
                password=LOCAL_PASSWORD,
                departments=departments,
            )
        yield dash_app
    finally:
        patch.undo()


@pytest.fixture(scope="module")
def reference(app: Dash) -> dict[str, Reference]:
    return references(app, DASHBOARDS, sign_in=local("admin"))


def local(username: str) -> SignIn:
    """Sign in with the local account's password (the login form)."""
    return lambda client: login_as(client, username, LOCAL_PASSWORD)


def oidc(username: str, expect: int = 302) -> SignIn:
    """Sign in through the provider as the person mapped to the demo profile ``username``."""

    def sign_in(client: FlaskClient) -> Any:
        start = client.get("/sso/test")
        assert start.status_code == 302, start.data[:300]
        callback = provider_sign_in(requests.Session(), str(start.headers["Location"]), f"o-{username}")
        response = client.get(callback)
        assert response.status_code == expect, (username, response.status_code, response.data[:300])
        return response

    return sign_in


def ldap(username: str, expect: int = 302) -> SignIn:
    """Sign in through the login form with the directory's password of ``l-<username>``."""

    def sign_in(client: FlaskClient) -> Any:
        page = client.get("/login").get_data(as_text=True)
        data = {"username": f"l-{username}", "password": LDAP_PASSWORD, "csrf_token": form_token(page)}
        response = client.post("/login", data=data)
        assert response.status_code == expect, (username, response.status_code, response.data[:300])
        return response

    return sign_in


def account(app: Dash, username: str) -> tuple[str | None, list[str], str | None]:
    with get_db(app.server).session() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None, username
        return user.department, sorted(user.roles), user.territory


# --------------------------------------------------------------------------- the matrix


@pytest.mark.parametrize("name", DASHBOARDS)
@pytest.mark.parametrize("username", USERNAMES)
def test_cell_oidc(app: Dash, reference: dict[str, Reference], username: str, name: str) -> None:
    dashboard = app.server.extensions["pilotis"].registry.dashboards[name]
    rights = principal_of_demo(username)
    allowed = can_view(rights, dashboard.spec)
    assert_cell(app, username, dashboard, reference[name], allowed, principal=rights, sign_in=oidc(username))


@pytest.mark.parametrize("name", DASHBOARDS)
@pytest.mark.parametrize("username", LDAP_PROFILES)
def test_cell_ldap(app: Dash, reference: dict[str, Reference], username: str, name: str) -> None:
    dashboard = app.server.extensions["pilotis"].registry.dashboards[name]
    rights = principal_of_demo(username)
    allowed = can_view(rights, dashboard.spec)
    assert_cell(app, username, dashboard, reference[name], allowed, principal=rights, sign_in=ldap(username))


@pytest.mark.parametrize("username", USERNAMES)
def test_rules_give_the_profile_of_the_local_account(app: Dash, username: str) -> None:
    oidc(username)(app.server.test_client())
    assert account(app, f"o-{username}") == account(app, username)
    if username in LDAP_PROFILES:
        ldap(username)(app.server.test_client())
        assert account(app, f"l-{username}") == account(app, username)


# --------------------------------------------------------------------------- same as the local account


EXTRACTED_AT = re.compile(r"\d\d/\d\d/\d{4} à \d\d:\d\d \(heure de Paris\)".encode())
"""When an export was made, in its header (``i18n_exports``: « export_at »)."""


def what_is_seen(app: Dash, client: FlaskClient, username: str) -> dict[str, Any]:
    """Everything that depends on rights: callback graph, home page links, exports, API list."""
    portal = app.server.extensions["pilotis"]
    home = call(client, router_body("/")).get_json()["response"]["page"]["children"]
    shown = json.dumps(home, ensure_ascii=False)
    links = sorted(d.spec.url for d in portal.registry.ordered() if f'"href": "{d.spec.url}"' in shown)
    exports = {}
    for dashboard in portal.registry.ordered():
        for widget in dashboard.widgets:
            response = client.get(f"/exports/{dashboard.id}/{widget.id}.csv")
            # the file itself when served (but the minute of its extraction: the two accounts'
            # files may be made on either side of a minute); a refusal page carries the user's
            # name and a nonce
            served = EXTRACTED_AT.sub(b"<extraction>", response.data) if response.status_code == 200 else b""
            exports[f"{dashboard.id}/{widget.id}"] = (response.status_code, served)
    with get_db(app.server).session() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
    assert user_id is not None
    _row, token = create_personal(get_db(app.server), user_id, "matrice")
    api = client.get("/api/v1/dashboards", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200, api.data[:300]
    return {
        "dependencies": sorted(cb["output"] for cb in client.get("/_dash-dependencies").get_json()),
        "home": links,
        "exports": exports,
        "api": api.get_json(),
    }


@pytest.mark.parametrize("username", USERNAMES)
def test_sso_user_sees_exactly_what_the_local_account_sees(app: Dash, username: str) -> None:
    mine, theirs = app.server.test_client(), app.server.test_client()
    local(username)(mine)
    oidc(username)(theirs)
    expected = what_is_seen(app, mine, username)
    seen = what_is_seen(app, theirs, f"o-{username}")
    assert seen == expected, username
    # the comparison is not vacuous: some exports are served, and only those the profile may open
    served = {key for key, (status, _body) in seen["exports"].items() if status == 200}
    registry = app.server.extensions["pilotis"].registry
    assert {key.split("/")[0] for key in served} <= {
        d.id for d in registry.ordered() if can_view(principal_of_demo(username), d.spec)
    }
    assert served or not any(can_view(principal_of_demo(username), d.spec) for d in registry.ordered())


# --------------------------------------------------------------------------- nobody


@pytest.mark.parametrize("sign_in", [oidc("nobody", expect=403), ldap("nobody", expect=403)], ids=["oidc", "ldap"])
def test_person_matching_no_rule_sees_nothing(app: Dash, reference: dict[str, Reference], sign_in: SignIn) -> None:
    portal = app.server.extensions["pilotis"]
    with app.server.test_client() as client:
        refusal = sign_in(client)
        assert "Accès au portail non ouvert" in refusal.get_data(as_text=True)
        assert client.get("/login").status_code == 200  # not signed in
        assert client.get("/").status_code == 302
        for path in ("/_dash-layout", "/_dash-dependencies"):
            assert client.get(path).status_code == 401
        for dashboard in portal.registry.ordered():
            page = client.get(dashboard.spec.url)
            assert page.status_code == 302 and page.headers["Location"].startswith("/login")
            assert call(client, router_body(dashboard.spec.url)).status_code == 401
            for body in reference[dashboard.id].bodies.values():
                assert call(client, body).status_code == 401
            for widget in dashboard.widgets:
                export = client.get(f"/exports/{dashboard.id}/{widget.id}.csv")
                assert export.status_code == 302 and dashboard.spec.title not in export.get_data(as_text=True)
    with get_db(app.server).session() as session:  # and no account was opened for them
        assert session.scalar(select(User).where(User.username.in_(["o-nobody", "l-nobody"]))) is None
