"""CSRF protection of every state-changing request: HTML forms and Dash callbacks.

- Flask-WTF's :class:`CSRFProtect` checks every POST/PUT/PATCH/DELETE before the view runs:
  the login and logout forms carry a hidden ``csrf_token`` field, Dash callbacks an
  ``X-CSRFToken`` header. A token is a signature (with the app's secret key) of a random value
  kept in the signed session: it is bound to that session and worthless in another.
- Dash side (verified in dash 4.4.1's ``dash_renderer.min.js``): before every request the
  renderer reads the cookie named by ``config.csrf_token_name`` (default ``_csrf_token``) from
  ``document.cookie`` and, when present, sends its value in the header named by
  ``config.csrf_header_name`` (default ``X-CSRFToken``) — on ``_dash-update-component`` POSTs
  and on the layout/dependencies GETs. :func:`issue_cookie` therefore keeps a readable (not
  HttpOnly) ``_csrf_token`` cookie holding a valid token of the current session: a double
  submit bound to the session. Another site can neither read that cookie nor set the header.
- Refusals answer 400 with a French message (401 on a Dash callback of a signed-out session,
  so the front end can tell "session expired" from an attack).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

import flask
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf, validate_csrf
from werkzeug.wrappers import Response as BaseResponse
from wtforms import ValidationError

from pilotis.core.settings import Settings

log = logging.getLogger(__name__)
COOKIE = "_csrf_token"
"""Cookie read by dash-renderer (Dash's default ``csrf_token_name``)."""
HEADER = "X-CSRFToken"
"""Header dash-renderer sends (Dash's default ``csrf_header_name``)."""
STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon.ico", "/_reload-hash")
NO_COOKIE_PREFIXES = (*STATIC_PREFIXES, "/api/", "/capteurs/")
"""No ``_csrf_token`` cookie: static files, the JSON API and the sensors' upload addresses
(bearer tokens, no session: ``ApiSessionInterface``)."""
Page = Callable[..., tuple[str, int]]
"""A server-rendered page: ``(html, status)``."""
EXPIRED = "Votre session a expiré ou ce formulaire n'est plus valide : veuillez réessayer."


def init_csrf(server: flask.Flask, settings: Settings, *, login_page: Page, message_page: Page) -> CSRFProtect:
    """Protect every POST of ``server`` and keep the ``_csrf_token`` cookie for dash-renderer.

    ``login_page`` and ``message_page`` draw the refusal pages (:func:`pilotis.web.auth_pages.render_login`
    and ``render_message``, handed in by the authentication module that installs this one).
    """
    server.config.update(
        WTF_CSRF_ENABLED=True,
        WTF_CSRF_HEADERS=[HEADER],
        # A token lives as long as the session it is bound to (which expires when idle).
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=True,
    )
    protect = CSRFProtect(server)
    secure = settings.secure_cookies

    @server.after_request
    def csrf_cookie(response: flask.Response) -> flask.Response:
        return issue_cookie(response, secure=secure)

    server.register_error_handler(CSRFError, partial(refused, login_page=login_page, message_page=message_page))
    return protect


def token_is_valid(token: str | None) -> bool:
    """True when ``token`` is a CSRF token of the current session."""
    try:
        validate_csrf(token)
    except ValidationError:
        return False
    return True


def issue_cookie(response: flask.Response, *, secure: bool) -> flask.Response:
    """Set ``_csrf_token`` when the session has none that is valid (signed-in users, HTML pages)."""
    request = flask.request
    if request.path.startswith(NO_COOKIE_PREFIXES) or getattr(flask.g, "csrf_cookie_cleared", False):
        return response
    signed_in = bool(current_user and current_user.is_authenticated)
    page = request.method == "GET" and response.mimetype == "text/html" and response.status_code < 400
    if not (signed_in or page):
        return response
    cookie = request.cookies.get(COOKIE)
    validated = getattr(flask.g, "csrf_valid", False) and not request.form.get("csrf_token")
    if validated and cookie and cookie == request.headers.get(HEADER):
        return response  # CSRFProtect has just validated this very token: the header (a Dash callback)
    if token_is_valid(cookie):
        return response
    response.set_cookie(COOKIE, generate_csrf(), httponly=False, samesite="Lax", secure=secure, path="/")
    return response


def clear_cookie(response: BaseResponse, *, secure: bool) -> BaseResponse:
    """Remove ``_csrf_token`` (sign-out)."""
    flask.g.csrf_cookie_cleared = True
    response.delete_cookie(COOKIE, path="/", samesite="Lax", secure=secure, httponly=False)
    return response


def refused(error: CSRFError, *, login_page: Page, message_page: Page) -> flask.Response | tuple[str, int]:
    """400 (or 401 for a Dash callback of a signed-out user) with a French explanation."""
    request = flask.request
    log.warning("CSRF refusé sur %s %s : %s", request.method, request.path, error.description)
    if request.path.startswith("/_dash-"):
        signed_in = bool(current_user and current_user.is_authenticated)
        status = 400 if signed_in else 401
        return flask.jsonify(error="csrf", message=EXPIRED), status  # type: ignore[return-value]
    if request.path == "/login":
        return login_page(error=EXPIRED, status=400)
    return message_page("Requête refusée", EXPIRED, status=400)
