"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0) against a real provider (npm
`oidc-provider` on loopback, its `backchannelLogout` feature on) and the real app served over HTTP
(the provider posts its logout token to `/sso/backchannel-logout` itself):

- a person signs in through the provider, then ends her session *at the provider*: the portal
  session opened under it is refused at its next request, her other portal session (another
  provider session, another `sid`) stays open;
- forged or tampered logout tokens are refused with 400 naming the problem (bad signature, wrong
  `aud`, missing `events`, replayed `jti`, a `nonce`, neither `sid` nor `sub`…), and audited.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from dash import Dash
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

from tests.sso_app import SECRET_ENV, audit_events, sso_app
from tests.sso_servers import (
    CI,
    CLIENT_SECRET,
    OidcServer,
    free_port,
    oidc_available,
    oidc_provider,
    provider_logout,
    provider_sign_in,
)

pytestmark = pytest.mark.skipif(
    not oidc_available() and not CI, reason="node ou le paquet npm oidc-provider absent (npm ci)"
)

EVENT = "http://schemas.openid.net/event/backchannel-logout"
KID = "cle-de-test"
ALICE = {"preferred_username": "alice", "name": "Alice Martin", "groups": ["rsa"]}


@dataclass
class Stack:
    provider: OidcServer
    app: Dash
    base: str
    key: RSAKey


def signing_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": KID, "use": "sig", "alg": "RS256"})


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("backchannel")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    key = signing_key()
    patch = pytest.MonkeyPatch()
    patch.setenv(SECRET_ENV, CLIENT_SECRET)
    with oidc_provider(
        folder,
        [f"{base}/sso/test/callback"],
        [f"{base}/login?logged_out=1"],
        backchannel_uri=f"{base}/sso/backchannel-logout",
        jwks={"keys": [key.as_dict(private=True)]},
    ) as provider:
        provider.set_users({"alice": ALICE})
        app = sso_app(
            tmp_path_factory.mktemp("app"),
            f"""
access_contact: "la direction du numérique"
oidc:
  - id: test
    label: Fournisseur de test
    issuer: {provider.issuer}
    client_id: pilotis
    client_secret_env: {SECRET_ENV}
    scopes: [openid, profile, groups]
rules:
  - when: {{groups: [rsa]}}
    department: solidarites
    roles: [agent]
""",
        )
        server = make_server("127.0.0.1", port, app.server, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield Stack(provider, app, base, key)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            patch.undo()


def sign_in(stack: Stack, at_provider: requests.Session) -> requests.Session:
    """A browser signed in to the portal through the provider (``at_provider``: its cookies there)."""
    portal = requests.Session()
    start = portal.get(f"{stack.base}/sso/test", allow_redirects=False)
    assert start.status_code == 302, start.text[:300]
    callback = provider_sign_in(at_provider, start.headers["Location"], "alice")
    assert portal.get(callback, allow_redirects=False).status_code == 302
    assert signed_in(stack, portal)
    return portal


def signed_in(stack: Stack, portal: requests.Session) -> bool:
    """The portal still serves this browser's session (a dashboard page, not the login page)."""
    response = portal.get(f"{stack.base}/rsa", allow_redirects=False)
    return response.status_code == 200


def test_ending_the_session_at_the_provider_ends_the_portal_session(stack: Stack) -> None:
    first_provider_session, other_provider_session = requests.Session(), requests.Session()
    ending = sign_in(stack, first_provider_session)
    staying = sign_in(stack, other_provider_session)  # another device: another provider session
    # The person signs out at the provider (its own sign-out page, not the portal's button).
    provider_logout(first_provider_session, f"{stack.provider.issuer}/session/end?client_id=pilotis")
    deadline = time.monotonic() + 30
    while signed_in(stack, ending) and time.monotonic() < deadline:
        time.sleep(0.2)
    refused = ending.get(f"{stack.base}/rsa", allow_redirects=False)
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")
    assert signed_in(stack, staying)  # only the sessions of that provider session (its `sid`)
    logged = audit_events(stack.app, "sso_logout")[-1]
    assert logged.detail.startswith("test : sid ") and logged.detail.endswith("1 session(s) fermée(s)")


# --------------------------------------------------------------------------- refusals


def claims(stack: Stack, **changes: Any) -> dict[str, Any]:
    """A valid logout token's claims (naming nobody signed in), with ``changes`` (None: removed)."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": stack.provider.issuer,
        "aud": "pilotis",
        "iat": now,
        "exp": now + 120,
        "jti": uuid.uuid4().hex,
        "sub": "personne-inconnue",
        "events": {EVENT: {}},
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def token(payload: dict[str, Any], key: RSAKey) -> str:
    return jwt.encode({"alg": "RS256", "kid": KID, "typ": "logout+jwt"}, payload, key)


def post(stack: Stack, logout_token: str | None) -> requests.Response:
    data = {"logout_token": logout_token} if logout_token is not None else {}
    return requests.post(f"{stack.base}/sso/backchannel-logout", data=data, timeout=30)


def test_a_valid_token_is_accepted_without_csrf_nor_cookie(stack: Stack) -> None:
    response = post(stack, token(claims(stack), stack.key))
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    ("changes", "other_key", "problem"),
    [
        ({}, True, "signature"),
        ({"aud": "un-autre-client"}, False, "`aud`"),
        ({"events": None}, False, "`events`"),
        ({"events": {"http://example.org/autre": {}}}, False, "`events`"),
        ({"nonce": "abc"}, False, "`nonce`"),
        ({"sub": None}, False, "`sid` et `sub`"),
        ({"jti": None}, False, "`jti`"),
        ({"iat": None}, False, "`iat`"),
        ({"iat": int(time.time()) - 3600, "exp": None}, False, "trop ancien"),
        ({"iss": "http://127.0.0.1:9/autre"}, False, "`iss`"),
    ],
    ids=["signature", "aud", "events-absent", "events-other", "nonce", "ni-sid-ni-sub", "jti", "iat", "old", "iss"],
)
def test_forged_or_tampered_tokens_are_refused(
    stack: Stack, changes: dict[str, Any], other_key: bool, problem: str
) -> None:
    response = post(stack, token(claims(stack, **changes), signing_key() if other_key else stack.key))
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_request" and problem in body["error_description"], body
    assert problem in audit_events(stack.app, "sso_failure")[-1].detail


def test_unknown_key_is_refused(stack: Stack) -> None:
    """A key id the provider does not publish (keys fetched again at most once a minute)."""
    other = RSAKey.generate_key(2048, parameters={"kid": "cle-inconnue", "use": "sig", "alg": "RS256"})
    for _ in range(2):
        forged = jwt.encode({"alg": "RS256", "kid": "cle-inconnue"}, claims(stack), other)
        response = post(stack, forged)
        assert response.status_code == 400 and "signature" in response.json()["error_description"]


def test_a_replayed_token_is_refused(stack: Stack) -> None:
    replayed = token(claims(stack), stack.key)
    assert post(stack, replayed).status_code == 200
    again = post(stack, replayed)
    assert again.status_code == 400
    assert "`jti`" in again.json()["error_description"]


@pytest.mark.parametrize("value", [None, "", "pas-un-jwt"], ids=["absent", "vide", "illisible"])
def test_missing_or_unreadable_token_is_refused(stack: Stack, value: str | None) -> None:
    response = post(stack, value)
    assert response.status_code == 400
    assert "`logout_token`" in response.json()["error_description"]


def test_other_forms_keep_their_csrf_check(stack: Stack) -> None:
    """Only the back-channel route is exempt: a login or logout POST without token is refused."""
    for path in ("/login", "/logout"):
        assert requests.post(f"{stack.base}{path}", data={"username": "x"}, timeout=30).status_code == 400
