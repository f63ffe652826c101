"""OpenID Connect sign-in against a real provider (npm `oidc-provider`, started on loopback):
the mapped direction decides the pages, unmapped people get a French page, and every tampered
answer (wrong issuer, expired token, replayed code, bad state, bad nonce) is refused."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from dash import Dash
from flask.testing import FlaskClient

from tests.helpers import form_token
from tests.sso_app import LOCAL_PASSWORD, SECRET_ENV, audit_events, can_open, create_local, signed_in, sso_app
from tests.sso_servers import (
    CI,
    CLIENT_SECRET,
    OidcServer,
    oidc_available,
    oidc_provider,
    provider_logout,
    provider_sign_in,
)

pytestmark = pytest.mark.skipif(
    not oidc_available() and not CI, reason="node ou le paquet npm oidc-provider absent (npm ci)"
)

CALLBACKS = [f"http://localhost/sso/{name}/callback" for name in ("test", "faux", "perime", "proconnect")]
LOGGED_OUT = ["http://localhost/login?logged_out=1"]
ALICE = {"preferred_username": "alice", "name": "Alice Martin", "email": "alice@lamayenne.fr", "groups": ["rsa"]}
BOB = {"preferred_username": "bob", "name": "Bob Durand", "email": "bob@example.org", "groups": ["communication"]}
CAROL = {"email": "carol@lamayenne.fr", "given_name": "Carole", "family_name": "Petit", "siret": "22530001300011"}


def sso_yaml(issuer: str, expired_issuer: str) -> str:
    wrong = issuer.replace("127.0.0.1", "localhost")  # same server, but not the issuer it announces
    providers = "".join(
        f"""
  - id: {name}
    label: {label}
    issuer: {url}
    client_id: pilotis
    client_secret_env: {SECRET_ENV}
    scopes: [openid, email, profile, groups, organization]
    username_claim: {claim}
"""
        for name, label, url, claim in (
            ("test", "Fournisseur de test", issuer, "preferred_username"),
            ("faux", "Émetteur usurpé", wrong, "preferred_username"),
            ("perime", "Horloge en retard", expired_issuer, "preferred_username"),
            ("proconnect", "ProConnect", issuer, "email"),  # sends no groups: rules read other claims
        )
    )
    return f"""
access_contact: "la direction du numérique (support-pilotis@lamayenne.fr)"
oidc:{providers}
rules:
  - when: {{groups: [rsa]}}
    department: solidarites
    roles: [agent]
  - when: {{groups: [finances]}}
    department: finances
    roles: [agent]
  - when: {{claims: {{siret: "22530001300011"}}, email_domains: [lamayenne.fr]}}
    department: rh
    roles: [agent]
"""


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OidcServer, OidcServer]]:
    folder = tmp_path_factory.mktemp("oidc")
    (folder / "a").mkdir()
    (folder / "b").mkdir()
    with oidc_provider(folder / "a", CALLBACKS, LOGGED_OUT) as good:
        with oidc_provider(folder / "b", CALLBACKS, LOGGED_OUT, clock_offset=-1800, id_token_ttl=60) as late:
            good.set_users({"alice": ALICE, "bob": BOB, "carol": CAROL})
            late.set_users({"alice": ALICE})
            yield good, late


@pytest.fixture(scope="module")
def app(servers: tuple[OidcServer, OidcServer], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dash]:
    good, late = servers
    patch = pytest.MonkeyPatch()
    patch.setenv(SECRET_ENV, CLIENT_SECRET)
    try:
        yield sso_app(tmp_path_factory.mktemp("app"), sso_yaml(good.issuer, late.issuer))
    finally:
        patch.undo()


def start(client: FlaskClient, provider: str = "test", next_path: str = "") -> str:
    """Click « Se connecter avec … »: the provider's authorisation address Pilotis sends us to."""
    response = client.get(f"/sso/{provider}" + (f"?next={next_path}" if next_path else ""))
    assert response.status_code == 302, response.data[:300]
    return str(response.headers["Location"])


def sign_in(client: FlaskClient, login: str, provider: str = "test", next_path: str = "") -> tuple[int, str, str]:
    """The whole round trip; returns the callback's status, its Location (or page) and the callback URL."""
    callback = provider_sign_in(requests.Session(), start(client, provider, next_path), login)
    response = client.get(callback)
    return response.status_code, response.headers.get("Location") or response.get_data(as_text=True), callback


def test_login_page_offers_each_provider(app: Dash) -> None:
    page = app.server.test_client().get("/login").get_data(as_text=True)
    assert "Se connecter avec Fournisseur de test" in page
    assert 'href="/sso/test"' in page
    assert 'name="password"' in page  # local accounts stay possible (break-glass)


def test_authorisation_request_carries_state_nonce_and_pkce(app: Dash, servers: tuple[OidcServer, OidcServer]) -> None:
    query = parse_qs(urlsplit(start(app.server.test_client())).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert len(query["state"][0]) >= 20 and len(query["nonce"][0]) >= 20
    assert query["redirect_uri"] == ["http://localhost/sso/test/callback"]
    assert "openid" in query["scope"][0].split()


def test_mapped_agent_reaches_the_pages_of_his_department_only(app: Dash) -> None:
    client = app.server.test_client()
    status, location, _ = sign_in(client, "alice", next_path="/rsa")
    assert (status, location) == (302, "/rsa")
    assert signed_in(client)
    assert can_open(client, "/rsa")  # direction des solidarités
    assert not can_open(client, "/finances")
    success = audit_events(app, "login_success")[-1]
    assert (success.username, success.detail) == ("alice", "test")


def test_provider_without_groups_is_mapped_on_its_claims(app: Dash) -> None:
    client = app.server.test_client()
    assert sign_in(client, "carol", provider="proconnect")[0] == 302  # siret + e-mail domain: rh
    assert can_open(client, "/rh") and not can_open(client, "/rsa")
    assert audit_events(app, "login_success")[-1].username == "carol@lamayenne.fr"


def test_missing_username_claim_is_refused(app: Dash) -> None:
    client = app.server.test_client()
    status, _, _ = sign_in(client, "carol")  # this provider reads preferred_username: Carol has none
    assert status == 401 and not signed_in(client)
    assert audit_events(app, "sso_failure")[-1].detail.startswith("test : revendication `preferred_username`")


def test_unmapped_person_is_refused_with_a_page_saying_whom_to_ask(app: Dash) -> None:
    client = app.server.test_client()
    status, page, _ = sign_in(client, "bob")
    assert status == 403
    assert "Accès au portail non ouvert" in page
    assert "support-pilotis@lamayenne.fr" in page
    assert not signed_in(client)
    denied = audit_events(app, "sso_denied")[-1]
    assert denied.username == "bob" and "communication" in denied.detail


def test_moved_agent_loses_his_old_department_and_his_other_sessions(
    app: Dash, servers: tuple[OidcServer, OidcServer]
) -> None:
    good, _late = servers
    before = app.server.test_client()
    assert sign_in(before, "alice")[0] == 302
    assert can_open(before, "/rsa")
    good.set_users({"alice": {**ALICE, "groups": ["finances"]}, "bob": BOB, "carol": CAROL})
    try:
        after = app.server.test_client()
        assert sign_in(after, "alice")[0] == 302
        assert can_open(after, "/finances") and not can_open(after, "/rsa")
        assert not signed_in(before)  # the session opened under the old rights ended at once
        assert "finances" in audit_events(app, "sso_rights_changed")[-1].detail
    finally:
        good.set_users({"alice": ALICE, "bob": BOB, "carol": CAROL})


def test_wrong_issuer_is_refused(app: Dash) -> None:
    client = app.server.test_client()
    response = client.get("/sso/faux")
    assert response.status_code == 502
    assert "Connexion impossible" in response.get_data(as_text=True)
    assert "émetteur annoncé" in audit_events(app, "sso_failure")[-1].detail


def test_expired_id_token_is_refused(app: Dash) -> None:
    client = app.server.test_client()
    status, _, _ = sign_in(client, "alice", provider="perime")
    assert status == 401 and not signed_in(client)
    assert "ExpiredTokenError" in audit_events(app, "sso_failure")[-1].detail


def test_replayed_code_is_refused(app: Dash) -> None:
    first = app.server.test_client()
    status, _, callback = sign_in(first, "alice")
    assert status == 302
    again = first.get(callback)  # the same answer twice: its state was used up
    assert again.status_code == 400
    # Another browser grafts the used code onto its own fresh state: the provider refuses the code.
    thief = app.server.test_client()
    state = parse_qs(urlsplit(start(thief)).query)["state"][0]
    code = parse_qs(urlsplit(callback).query)["code"][0]
    replay = thief.get(f"/sso/test/callback?{urlencode({'code': code, 'state': state})}")
    assert replay.status_code == 401 and not signed_in(thief)
    assert "invalid_grant" in audit_events(app, "sso_failure")[-1].detail


def test_bad_state_is_refused(app: Dash) -> None:
    client = app.server.test_client()
    callback = provider_sign_in(requests.Session(), start(client), "alice")
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = query["state"][::-1]
    response = client.get(urlunsplit(parts._replace(query=urlencode(query))))
    assert response.status_code == 400 and not signed_in(client)
    assert "state" in audit_events(app, "sso_failure")[-1].detail


def test_id_token_with_another_nonce_is_refused(app: Dash) -> None:
    client = app.server.test_client()
    parts = urlsplit(start(client))
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["nonce"] = "nonce-d-une-autre-demande-0123456789"  # same state and PKCE, another nonce
    callback = provider_sign_in(requests.Session(), urlunsplit(parts._replace(query=urlencode(query))), "alice")
    response = client.get(callback)
    assert response.status_code == 401 and not signed_in(client)
    assert "nonce" in audit_events(app, "sso_failure")[-1].detail


def test_logout_ends_the_provider_session_too(app: Dash, servers: tuple[OidcServer, OidcServer]) -> None:
    good, _late = servers
    client = app.server.test_client()
    browser = requests.Session()
    callback = provider_sign_in(browser, start(client), "alice")
    assert client.get(callback).status_code == 302
    page = client.get("/logout").get_data(as_text=True)
    response = client.post("/logout", data={"csrf_token": form_token(page)})
    end_session = str(response.headers["Location"])
    assert end_session.startswith(f"{good.issuer}/session/end?")
    assert "id_token_hint=" in end_session
    assert not signed_in(client)
    assert provider_logout(browser, end_session).startswith(LOGGED_OUT[0])
    # The provider forgot the person: the next sign-in asks for the login again.
    answer = browser.get(start(app.server.test_client()), allow_redirects=False)
    assert "/interaction/" in answer.headers["Location"]


def test_local_account_still_signs_in(app: Dash) -> None:
    create_local(app, "secours")
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={"username": "secours", "password": LOCAL_PASSWORD, "csrf_token": form_token(page)},
    )
    assert response.status_code == 302 and signed_in(client)
