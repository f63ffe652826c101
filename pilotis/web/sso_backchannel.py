"""``POST /sso/backchannel-logout``: a provider ends a person's portal sessions (OpenID Connect
Back-Channel Logout 1.0). Declare ``https://portail…/sso/backchannel-logout`` as the client's
``backchannel_logout_uri`` (with ``backchannel_logout_session_required``: the ID tokens then carry
the ``sid`` this route uses to end exactly the sessions opened under that provider session).

Server to server: the provider posts the form field ``logout_token`` (a JWT it signed), without any
cookie — so the route is exempt from CSRF (nothing a browser holds authenticates it; the token's
signature does) and sets no cookie. Answers, as the specification asks, with ``Cache-Control:
no-store``: 200 once the named sessions ended (also when none was open), 400 with
``{"error": "invalid_request", "error_description": <the French problem>}`` otherwise, 501 when the
portal has no OpenID provider, 503 when the provider's keys cannot be read. Audited: ``sso_logout``
(sessions ended) and ``sso_failure`` (token refused).
"""

from __future__ import annotations

import flask

from pilotis.accounts import audit, sso_logout
from pilotis.accounts.db import get_db
from pilotis.web import sso_signin
from pilotis.web.logout_token import LogoutTokenError, validate

PATH = "/sso/backchannel-logout"

bp = flask.Blueprint("pilotis_sso_backchannel", __name__)


def _answer(status: int, body: dict[str, str] | None = None) -> flask.Response:
    response = flask.jsonify(body) if body is not None else flask.Response("", mimetype="text/plain")
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(error: LogoutTokenError) -> flask.Response:
    audit.record("sso_failure", username=None, detail=f"déconnexion par le fournisseur refusée : {error.reason}"[:500])
    status = 503 if error.unavailable else 400
    return _answer(status, {"error": "invalid_request", "error_description": error.reason})


@bp.post(PATH)
def backchannel_logout() -> flask.Response:
    """Check the provider's logout token, refuse a replay, end the sessions it names."""
    config = sso_signin.sso_config()
    if config is None or not config.oidc:
        return _answer(501, {"error": "invalid_request", "error_description": "aucun fournisseur OpenID configuré"})
    try:
        request = validate(config.oidc, flask.request.form.get("logout_token", ""))
        if not request.providers:  # cannot happen: `aud` was checked against these client ids
            raise LogoutTokenError("revendication `aud` invalide dans le jeton de déconnexion")
        db = get_db()
        if not sso_logout.first_use(db, request.issuer, request.jti):
            raise LogoutTokenError("jeton de déconnexion déjà utilisé (revendication `jti` rejouée)")
    except LogoutTokenError as error:
        return _refused(error)
    ended = sso_logout.end(db, request.providers, request.sid, request.sub)
    named = " ".join(f"{k} {v}" for k, v in (("sid", request.sid), ("sub", request.sub)) if v)
    audit.record(
        "sso_logout",
        username=None,
        detail=f"{', '.join(request.providers)} : {named} ; {ended} session(s) fermée(s)"[:500],
    )
    return _answer(200)


def install(server: flask.Flask) -> None:
    """Register the route, exempt from CSRF (it alone: a server-to-server POST, see above).

    Call after :func:`pilotis.web.auth.install_auth` (CSRF is installed then)."""
    server.extensions["csrf"].exempt(bp)
    server.register_blueprint(bp)
