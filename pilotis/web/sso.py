"""OpenID Connect sign-in views: ``/sso/<provider>`` sends the browser to the provider,
``/sso/<provider>/callback`` brings it back, checks everything and opens the session.

The state, nonce and PKCE verifier of each sign-in under way are kept in the signed session cookie
(several tabs may sign in at once: at most :data:`MAX_PENDING`, each valid :data:`PENDING_SECONDS`)
and removed at the first callback that names them, so that a callback replayed later is refused.
Every refusal is audited (``sso_failure``, ``sso_denied``) and answered with a French page.
"""

from __future__ import annotations

import time
from typing import Any

import flask

from pilotis.accounts import audit, sso_logout
from pilotis.accounts.db import get_db
from pilotis.accounts.sso_accounts import Admitted
from pilotis.core.sso_config import OidcProvider
from pilotis.web import oidc_client, sso_signin
from pilotis.web.auth import start_session
from pilotis.web.auth_pages import render_message, safe_next
from pilotis.web.oidc_client import OidcError, Pending

MAX_PENDING = 5
MAX_HINT = 1800
"""Longest ID token kept in the session cookie as the logout hint (characters)."""
PENDING_SECONDS = 600
START_AGAIN = "La demande de connexion a expiré ou n'est pas valide. Recommencez depuis la page de connexion."
REFUSED = "La connexion n'a pas pu être vérifiée. Recommencez depuis la page de connexion."
UNAVAILABLE = "Le service d'identification ne répond pas : réessayez dans quelques minutes."
FAILED = "Connexion impossible"

bp = flask.Blueprint("pilotis_sso", __name__)


def _provider(provider_id: str) -> OidcProvider:
    config = sso_signin.sso_config()
    provider = config.provider(provider_id) if config else None
    if provider is None:
        flask.abort(404)
    return provider


def _callback_url(provider: OidcProvider) -> str:
    return flask.url_for("pilotis_sso.callback", provider_id=provider.id, _external=True)


def _failure(provider: OidcProvider, detail: str, text: str, status: int) -> tuple[str, int]:
    audit.record("sso_failure", username=None, detail=f"{provider.id} : {detail}"[:500])
    return render_message(FAILED, text, status=status, link=("/login", "Retour à la page de connexion"))


@bp.route("/sso/<provider_id>")
def start(provider_id: str) -> Any:
    """Send the browser to the provider's authorisation page (state, nonce, PKCE kept here)."""
    provider = _provider(provider_id)
    try:
        url, pending = oidc_client.authorization(provider, _callback_url(provider))
    except OidcError as exc:
        return _failure(
            provider, exc.reason, UNAVAILABLE if exc.unavailable else REFUSED, 503 if exc.unavailable else 502
        )
    waiting = dict(flask.session.get("sso_pending") or {})
    now = time.time()
    waiting = {k: v for k, v in waiting.items() if now - float(v.get("at", 0)) < PENDING_SECONDS}
    while len(waiting) >= MAX_PENDING:
        waiting.pop(min(waiting, key=lambda k: float(waiting[k].get("at", 0))))
    waiting[pending.state] = {
        "provider": provider.id,
        "nonce": pending.nonce,
        "verifier": pending.verifier,
        "next": safe_next(flask.request.args.get("next"), ""),
        "at": now,
    }
    flask.session["sso_pending"] = waiting
    return flask.redirect(url)


@bp.route("/sso/<provider_id>/callback")
def callback(provider_id: str) -> Any:
    """Back from the provider: check state, exchange the code, validate the ID token, map, sign in."""
    provider = _provider(provider_id)
    args = flask.request.args
    state = args.get("state", "")
    waiting = dict(flask.session.get("sso_pending") or {})
    entry = waiting.pop(state, None) if state else None
    flask.session["sso_pending"] = waiting  # consumed: the same answer cannot be used twice
    if args.get("error"):
        detail = f"refus du fournisseur : {args.get('error', '')[:60]} {args.get('error_description', '')[:120]}"
        return _failure(provider, detail, REFUSED, 401)
    expired = entry is None or time.time() - float(entry.get("at", 0)) > PENDING_SECONDS
    if entry is None or expired or entry.get("provider") != provider.id:
        return _failure(provider, "état (state) inconnu, expiré ou déjà utilisé", START_AGAIN, 400)
    code = args.get("code", "")
    if not code or len(code) > 2048:
        return _failure(provider, "réponse sans code", START_AGAIN, 400)
    pending = Pending(state=state, nonce=str(entry["nonce"]), verifier=str(entry["verifier"]))
    try:
        verified = oidc_client.exchange(provider, _callback_url(provider), code, pending)
    except OidcError as exc:
        status = 503 if exc.unavailable else 401
        return _failure(provider, exc.reason, UNAVAILABLE if exc.unavailable else REFUSED, status)
    identity = sso_signin.oidc_identity(
        provider.id, verified.claims, provider.username_claim, provider.name_claim, provider.groups_claim
    )
    config = sso_signin.sso_config()
    if config is None:  # cannot happen: _provider found it
        flask.abort(404)
    if not identity.username:
        return _failure(provider, f"revendication `{provider.username_claim}` absente", REFUSED, 401)
    admitted = sso_signin.admit(config, identity, provider.label)
    if not isinstance(admitted, Admitted):
        return admitted
    signed = start_session(admitted.user, admitted.roles, provider.id)
    sid = verified.claims.get("sid")
    if isinstance(sid, str) and sid:  # the provider's session: its back-channel logout ends this one
        sso_logout.bind_sid(get_db(), signed.session_id, provider.id, sid)
    # The ID token is the logout hint; a huge one (Entra ID with many groups) would push the signed
    # cookie past the 4 kB browsers keep, so it is then left out (logout by client_id alone).
    hint = verified.id_token if len(verified.id_token) <= MAX_HINT else ""
    flask.session["sso"] = {"provider": provider.id, "id_token": hint}
    return flask.redirect(str(entry.get("next") or "/"))
