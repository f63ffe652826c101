"""OpenID Connect relying party (Authlib): discovery, authorisation request with state, nonce and
PKCE (S256), code exchange, ID token validation, RP-initiated logout.

Nothing here reads the Flask request: the views of :mod:`pilotis.web.sso` keep the pending state in
the signed session and call :func:`authorization` and :func:`exchange`. Checks, each refusing the
sign-in (:class:`OidcError`, French reason for the audit):

- the discovery document must name the configured issuer exactly (no token from another issuer);
- the ID token's signature (keys of ``jwks_uri``, algorithms the provider announces), ``iss``,
  ``aud``/``azp``, ``exp``/``iat`` (:data:`LEEWAY` of clock skew), ``nonce`` (the one sent), and
  ``at_hash`` when present — Authlib's :class:`~authlib.oidc.core.CodeIDToken`;
- the code is bound to this browser by the PKCE verifier: a code replayed or stolen fails at the
  provider (``invalid_grant``).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pilotis.core.settings import env_secret
from pilotis.core.sso_config import OidcProvider

if TYPE_CHECKING:
    from authlib.integrations.requests_client import OAuth2Session
    from joserfc.jwk import KeySet

# Authlib, joserfc and requests are imported by the functions of a sign-in, not with this module:
# 0.25 s of every worker's start-up otherwise (requests alone: 0.05 s and 129 modules), for a
# sign-in method most installations do not configure.

DISCOVERY_TTL = 3600.0
"""Seconds a discovery document and its keys are kept (one fetch per hour and worker)."""
HTTP_TIMEOUT = 5.0
LEEWAY = 60
"""Seconds of clock skew accepted on ``exp``/``iat``."""

_cache: dict[str, tuple[float, dict[str, Any], dict[str, Any]]] = {}
_lock = threading.Lock()


class OidcError(Exception):
    """The provider's answer is refused; ``reason`` (French) goes to the audit log."""

    def __init__(self, reason: str, *, unavailable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unavailable = unavailable


@dataclass(frozen=True)
class Pending:
    """What the callback must find again in the session: sent with the authorisation request."""

    state: str
    nonce: str
    verifier: str


@dataclass(frozen=True)
class Verified:
    """A validated sign-in: the ID token's claims (and the userinfo ones), the raw ID token."""

    claims: dict[str, Any]
    id_token: str


def secret_of(provider: OidcProvider) -> str | None:
    """The provider's client secret from the environment; None for a public client."""
    return env_secret(provider.client_secret_env, "") or None if provider.client_secret_env else None


def _issuer(text: str) -> str:
    return text.rstrip("/")


def _get_json(url: str) -> dict[str, Any]:
    import requests  # third-party, lazy: see the top of the module

    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise OidcError(f"fournisseur injoignable ({type(exc).__name__})", unavailable=True) from exc
    if not isinstance(data, dict):
        raise OidcError("réponse du fournisseur illisible", unavailable=True)
    return data


def metadata(provider: OidcProvider, *, refresh: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """The discovery document and the key set of ``provider`` (cached :data:`DISCOVERY_TTL`)."""
    key = f"{provider.id}|{provider.issuer}"
    with _lock:
        cached = _cache.get(key)
    if cached and not refresh and time.monotonic() - cached[0] < DISCOVERY_TTL:
        return cached[1], cached[2]
    document = _get_json(_issuer(provider.issuer) + "/.well-known/openid-configuration")
    if _issuer(str(document.get("issuer", ""))) != _issuer(provider.issuer):
        raise OidcError(f"émetteur annoncé `{str(document.get('issuer'))[:100]}` différent de celui configuré")
    for needed in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(document.get(needed), str):
            raise OidcError(f"document de découverte sans `{needed}`", unavailable=True)
    keys = _get_json(document["jwks_uri"])
    with _lock:
        _cache[key] = (time.monotonic(), document, keys)
    return document, keys


def _session(provider: OidcProvider, document: dict[str, Any], redirect_uri: str) -> OAuth2Session:
    secret = secret_of(provider)
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    method = "none" if secret is None else "client_secret_basic"
    if secret is not None and "client_secret_basic" not in methods and "client_secret_post" in methods:
        method = "client_secret_post"
    from authlib.integrations.requests_client import OAuth2Session

    scopes = ["openid", *[s for s in provider.scopes if s != "openid"]]
    return OAuth2Session(
        client_id=provider.client_id,
        client_secret=secret,
        token_endpoint_auth_method=method,
        scope=" ".join(scopes),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        default_timeout=HTTP_TIMEOUT,
    )


def authorization(provider: OidcProvider, redirect_uri: str) -> tuple[str, Pending]:
    """The provider's authorisation address to send the browser to, and what to keep for the callback."""
    document, _keys = metadata(provider)
    pending = Pending(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48))
    with _session(provider, document, redirect_uri) as client:
        url, _state = client.create_authorization_url(
            document["authorization_endpoint"],
            state=pending.state,
            code_verifier=pending.verifier,
            nonce=pending.nonce,
            **provider.extra_params,
        )
    return url, pending


def exchange(provider: OidcProvider, redirect_uri: str, code: str, pending: Pending) -> Verified:
    """Trade ``code`` for tokens and validate the ID token; :class:`OidcError` when anything is wrong."""
    import requests  # third-party, lazy: see the top of the module
    from authlib.common.errors import AuthlibBaseError

    document, keys = metadata(provider)
    with _session(provider, document, redirect_uri) as client:
        try:
            token = client.fetch_token(
                document["token_endpoint"], grant_type="authorization_code", code=code, code_verifier=pending.verifier
            )
        except AuthlibBaseError as exc:
            raise OidcError(f"code refusé par le fournisseur ({exc.error})") from exc
        except requests.RequestException as exc:
            raise OidcError(f"fournisseur injoignable ({type(exc).__name__})", unavailable=True) from exc
        raw = token.get("id_token")
        if not isinstance(raw, str):
            raise OidcError("aucun jeton d'identité dans la réponse")
        claims = _validate(provider, document, keys, raw, token, pending.nonce)
        userinfo_url = document.get("userinfo_endpoint")
        if isinstance(userinfo_url, str) and token.get("access_token"):
            claims = {**_userinfo(client, userinfo_url, claims["sub"], keys), **claims}
    return Verified(claims=claims, id_token=raw)


def keyset(keys: dict[str, Any]) -> KeySet:
    """The provider's JWKS document as a joserfc key set (ID tokens, userinfo JWTs, logout tokens)."""
    from joserfc.jwk import KeySet

    return KeySet.import_key_set(keys)  # type: ignore[arg-type]  # a JWKS document: {"keys": [...]}


def _validate(
    provider: OidcProvider, document: dict[str, Any], keys: dict[str, Any], raw: str, token: Any, nonce: str
) -> dict[str, Any]:
    from authlib.common.errors import AuthlibBaseError
    from authlib.oidc.core import CodeIDToken
    from joserfc import jwt
    from joserfc.errors import InvalidKeyIdError, JoseError
    from joserfc.jws import JWSRegistry

    algorithms = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    registry = JWSRegistry(algorithms=[a for a in algorithms if a != "none"], strict_check_header=False)
    try:
        try:
            decoded = jwt.decode(raw, keyset(keys), registry=registry)
        except InvalidKeyIdError:  # keys rotated since they were cached: fetch them once more
            decoded = jwt.decode(raw, keyset(metadata(provider, refresh=True)[1]), registry=registry)
        options = {"iss": {"essential": True, "values": [document["issuer"]]}}
        params = {"nonce": nonce, "client_id": provider.client_id, "access_token": token.get("access_token")}
        checked = CodeIDToken(decoded.claims, decoded.header, options, params)
        checked.validate(leeway=LEEWAY)
    except (JoseError, AuthlibBaseError, ValueError) as exc:
        raise OidcError(f"jeton d'identité refusé ({type(exc).__name__}: {str(exc)[:120]})") from exc
    if not hmac.compare_digest(str(decoded.claims.get("nonce", "")), nonce):
        raise OidcError("jeton d'identité refusé (nonce)")
    return dict(decoded.claims)


def _userinfo(client: OAuth2Session, url: str, subject: str, keys: dict[str, Any]) -> dict[str, Any]:
    """The userinfo claims (groups, names…) when their ``sub`` is the ID token's, else none.

    Plain JSON, or a signed JWT (``application/jwt``, as ProConnect answers) checked with the same keys.
    """
    import requests  # third-party, lazy: see the top of the module
    from joserfc import jwt
    from joserfc.errors import JoseError

    try:
        response = client.get(url, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        if "jwt" in response.headers.get("Content-Type", ""):
            data: Any = dict(jwt.decode(response.text.strip(), keyset(keys)).claims)
        else:
            data = response.json()
    except (requests.RequestException, ValueError, JoseError):
        return {}
    return data if isinstance(data, dict) and data.get("sub") == subject else {}


def logout_url(provider: OidcProvider, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
    """The provider's end-session address (RP-initiated logout), or None if it publishes none.

    ``id_token`` (the hint) may be missing when it was too large to keep in the session cookie:
    ``client_id`` then tells the provider which client asks."""
    from authlib.common.urls import add_params_to_uri

    if not provider.end_session:
        return None
    try:
        document, _keys = metadata(provider)
    except OidcError:
        return None
    endpoint = document.get("end_session_endpoint")
    if not isinstance(endpoint, str):
        return None
    params = {
        **({"id_token_hint": id_token} if id_token else {}),
        "post_logout_redirect_uri": post_logout_redirect_uri,
        "client_id": provider.client_id,
        "state": secrets.token_urlsafe(16),
    }
    return str(add_params_to_uri(endpoint, params))
