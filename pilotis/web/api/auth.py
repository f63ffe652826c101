"""Who calls the API: a bearer token, never a session cookie.

- :class:`ApiSessionInterface` gives every ``/api/`` request an empty session that is never
  saved: a session cookie sent along is not read (so a page of another site cannot make a signed-in
  browser call the API: no CSRF surface), and no response of the API sets one.
- :func:`authenticate` (a ``before_request`` of the API blueprint) reads
  ``Authorization: Bearer <token>``, finds its caller (:func:`pilotis.accounts.api_tokens.authenticate`)
  and admits the call (rate limit per token, ``last_used_at``, audit line naming the token).
"""

from __future__ import annotations

import time

import flask
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from werkzeug.wrappers import Response as WerkzeugResponse

from pilotis.accounts import api_tokens
from pilotis.accounts.db import get_db
from pilotis.core.access import Principal
from pilotis.web.api.errors import ApiError, response

PREFIX = "/api/"
PUBLIC = ("/api/v1/openapi.json", "/api/v1/docs")
"""Addresses answered without a token: the description of the API (no data in it)."""


def is_api(path: str) -> bool:
    """``path`` belongs to the API (where no session cookie is read or written)."""
    return path == PREFIX.rstrip("/") or path.startswith(PREFIX)


class ApiSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except under ``/api/`` and the other machine addresses
    added with :meth:`without_cookie`: an empty session, never saved."""

    def __init__(self) -> None:
        self.cookieless: tuple[str, ...] = (PREFIX,)

    def without_cookie(self, prefix: str) -> None:
        """Addresses under ``prefix`` neither read nor set the session cookie (bearer tokens only)."""
        self.cookieless += (prefix,)

    def _cookieless(self, path: str) -> bool:
        return is_api(path) or path.startswith(self.cookieless)

    def open_session(self, app: flask.Flask, request: flask.Request) -> SecureCookieSession | None:
        if self._cookieless(request.path):
            return None  # Flask then uses its null session: empty, and never saved
        return super().open_session(app, request)

    def save_session(self, app: flask.Flask, session: SessionMixin, response: flask.Response) -> None:
        if self._cookieless(flask.request.path):
            return
        super().save_session(app, session, response)


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive)."""
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate() -> WerkzeugResponse | None:
    """``before_request`` of the API: 401 without a valid token, 429 beyond the rate limit."""
    request = flask.request
    if request.path in PUBLIC or request.method == "OPTIONS":
        return None
    token = bearer(request.headers.get("Authorization"))
    if token is None:
        return response(ApiError("authentification_requise"))
    db = get_db()
    use = api_tokens.authenticate(db, token)
    if use is None:
        return response(ApiError("jeton_invalide"))
    portal = flask.current_app.extensions["pilotis"]
    target = request.full_path.rstrip("?")
    wait = api_tokens.admit(
        db, use, portal.settings.api_rate_per_minute, ip=request.remote_addr, target=target, now=time.time()
    )
    if wait is not None:
        answer = response(ApiError("trop_de_requetes"))
        answer.headers["Retry-After"] = str(wait)
        return answer
    flask.g.api_caller = use
    return None


def caller() -> Principal:
    """The principal of the current API request (set by :func:`authenticate`)."""
    use: api_tokens.TokenUse = flask.g.api_caller
    return use.principal
