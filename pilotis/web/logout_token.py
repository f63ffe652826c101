"""Checks of a back-channel logout token (OpenID Connect Back-Channel Logout 1.0, section 2.6),
joserfc for the signature and the registered claims. Each refusal is a :class:`LogoutTokenError`
whose French reason names the problem (answered with 400 and written to the audit log):

- a compact JWS signed by one of the configured providers: its ``iss`` (read before the signature
  to choose the keys) must be a configured issuer, the signature must verify with that provider's
  keys (``jwks_uri``, the algorithms it announces, never ``none``);
- ``aud`` names the client id of that provider; ``iat`` present, not in the future nor older than
  :data:`MAX_AGE`; ``exp``, when present, not past; ``jti`` present;
- ``events`` holds the member ``http://schemas.openid.net/event/backchannel-logout`` (an object);
- ``sid`` and/or ``sub``; and **no** ``nonce`` (a logout token is not an ID token).

The replay of a ``jti`` is refused by :func:`pilotis.accounts.sso_logout.first_use`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pilotis.core.sso_config import OidcProvider
from pilotis.web import oidc_client

# joserfc is imported by the functions of a logout, not with this module (as in oidc_client): most
# installations configure no OpenID provider, and every worker would pay the import at start-up.
from pilotis.web.oidc_client import LEEWAY, OidcError

EVENT = "http://schemas.openid.net/event/backchannel-logout"
MAX_AGE = 600
"""Seconds after its ``iat`` during which a logout token is accepted (used ``jti`` are kept longer)."""
MAX_LENGTH = 8192
"""Longest logout token read (characters): anything longer is refused before any decoding."""


REFRESH_EVERY = 60.0
"""At most one key refresh per provider and worker in this many seconds, whatever the tokens say:
anyone may post to the route, and an unknown ``kid`` must not make the portal fetch the
provider's keys on every request."""
_refreshed: dict[str, float] = {}


def _may_refresh(provider_id: str) -> bool:
    now = time.monotonic()
    if now - _refreshed.get(provider_id, -REFRESH_EVERY) < REFRESH_EVERY:
        return False
    _refreshed[provider_id] = now
    return True


class LogoutTokenError(Exception):
    """The logout token is refused; ``reason`` (French) names the problem."""

    def __init__(self, reason: str, *, unavailable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unavailable = unavailable


@dataclass(frozen=True)
class LogoutRequest:
    """A valid logout token: who asks (the providers of that issuer and client) and whom it names."""

    issuer: str
    providers: tuple[str, ...]
    jti: str
    sid: str | None
    sub: str | None


def _unverified_issuer(raw: str) -> str:
    from joserfc import jws
    from joserfc.errors import JoseError

    try:
        payload = json.loads(jws.extract_compact(raw.encode("ascii")).payload)
    except (JoseError, ValueError, UnicodeError) as exc:
        raise LogoutTokenError("`logout_token` n'est pas un jeton JWT signé (JWS compact) lisible") from exc
    issuer = payload.get("iss") if isinstance(payload, dict) else None
    if not isinstance(issuer, str) or not issuer:
        raise LogoutTokenError("revendication `iss` absente du jeton de déconnexion")
    return issuer


def _decode(provider: OidcProvider, raw: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Signature checked with the provider's keys; returns (document, claims)."""
    from joserfc import jwt
    from joserfc.errors import BadSignatureError, InvalidKeyIdError, JoseError
    from joserfc.jws import JWSRegistry

    try:
        document, keys = oidc_client.metadata(provider)
    except OidcError as exc:
        raise LogoutTokenError(f"clés du fournisseur indisponibles ({exc.reason})", unavailable=True) from exc
    algorithms = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    registry = JWSRegistry(algorithms=[a for a in algorithms if a != "none"], strict_check_header=False)
    try:
        try:
            token = jwt.decode(raw, oidc_client.keyset(keys), registry=registry)
        except InvalidKeyIdError:  # keys rotated since they were cached: fetch them once more
            if not _may_refresh(provider.id):
                raise
            fresh = oidc_client.metadata(provider, refresh=True)[1]
            token = jwt.decode(raw, oidc_client.keyset(fresh), registry=registry)
    except (BadSignatureError, InvalidKeyIdError) as exc:
        raise LogoutTokenError("signature du jeton de déconnexion invalide (clés du fournisseur)") from exc
    except OidcError as exc:
        raise LogoutTokenError(f"clés du fournisseur indisponibles ({exc.reason})", unavailable=True) from exc
    except (JoseError, ValueError) as exc:
        raise LogoutTokenError(f"jeton de déconnexion illisible ({type(exc).__name__})") from exc
    return document, dict(token.claims)


def _check_claims(claims: dict[str, Any], issuer: str, client_ids: Sequence[str]) -> None:
    from joserfc.errors import ClaimError, ExpiredTokenError
    from joserfc.jwt import JWTClaimsRegistry

    registry = JWTClaimsRegistry(
        now=int(time.time()),
        leeway=LEEWAY,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "values": list(client_ids)},
        iat={"essential": True},
        jti={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as exc:
        raise LogoutTokenError("jeton de déconnexion expiré (`exp` dépassé)") from exc
    except ClaimError as exc:
        problem = "absente" if exc.error == "missing_claim" else "invalide"
        raise LogoutTokenError(f"revendication `{exc.claim}` {problem} dans le jeton de déconnexion") from exc
    if time.time() - float(claims["iat"]) > MAX_AGE + LEEWAY:
        raise LogoutTokenError(f"jeton de déconnexion trop ancien (`iat` il y a plus de {MAX_AGE} s)")
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(EVENT), dict):
        raise LogoutTokenError(f"revendication `events` sans l'événement `{EVENT}`")
    if "nonce" in claims:
        raise LogoutTokenError("revendication `nonce` interdite dans un jeton de déconnexion")
    sid, sub = claims.get("sid"), claims.get("sub")
    if not (isinstance(sid, str) and sid) and not (isinstance(sub, str) and sub):
        raise LogoutTokenError("revendications `sid` et `sub` absentes : le jeton ne dit pas qui déconnecter")
    if not isinstance(claims["jti"], str) or len(claims["jti"]) > 500:
        raise LogoutTokenError("revendication `jti` invalide dans le jeton de déconnexion")


def validate(providers: Sequence[OidcProvider], raw: str) -> LogoutRequest:
    """The checked content of ``raw`` sent by one of ``providers``; :class:`LogoutTokenError`."""
    if not raw:
        raise LogoutTokenError("paramètre `logout_token` absent")
    if len(raw) > MAX_LENGTH:
        raise LogoutTokenError(f"`logout_token` trop long (plus de {MAX_LENGTH} caractères)")
    issuer = _unverified_issuer(raw).rstrip("/")
    candidates = [p for p in providers if p.issuer.rstrip("/") == issuer]
    if not candidates:
        raise LogoutTokenError(f"émetteur `{issuer[:100]}` inconnu du portail (revendication `iss`)")
    document, claims = _decode(candidates[0], raw)  # one issuer, one key set
    client_ids = sorted({p.client_id for p in candidates})
    _check_claims(claims, str(document["issuer"]), client_ids)
    audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    named = tuple(p.id for p in candidates if p.client_id in audience)
    sid, sub = claims.get("sid"), claims.get("sub")
    return LogoutRequest(
        issuer=issuer,
        providers=named,
        jti=str(claims["jti"]),
        sid=sid if isinstance(sid, str) and sid else None,
        sub=sub if isinstance(sub, str) and sub else None,
    )
