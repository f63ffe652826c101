"""Who is asking, when nobody signed in: the display principal of a display link.

The token comes from ``?jeton=`` on a séance page (then kept in the signed session) and is checked
again at every request against the ``display_links`` table (:mod:`pilotis.accounts.display_links`):
a revoked link stops at the next refresh of the screen. Called by
:func:`pilotis.web.enforce.current_principal`; where that principal may go is
:mod:`pilotis.web.display_guard`.
"""

from __future__ import annotations

import flask

from pilotis.accounts import audit
from pilotis.accounts.db import get_db
from pilotis.accounts.display_links import PARAM, REFUSED, SESSION_KEY, LinkRefused, principal_of, verify
from pilotis.core.access import Principal
from pilotis.web.responses import error_page


def display_principal() -> Principal | None:
    """The display principal of this request, or None (called by ``enforce.current_principal``
    when nobody is signed in).

    A ``?jeton=`` on a séance page is checked (403 page when refused, or when it is a link to
    another séance) and kept in the session; later requests use the session's token, checked
    again each time (a revoked link stops at the next refresh).
    """
    request = flask.request
    from_query = request.method == "GET" and request.path.startswith("/seance/") and PARAM in request.args
    token = request.args.get(PARAM, "") if from_query else flask.session.get(SESSION_KEY)
    if not token or not isinstance(token, str):
        return None
    app = flask.current_app
    try:
        link = verify(get_db(), str(app.secret_key), token)
        if from_query:
            portal = app.extensions["pilotis"]
            found = portal.registry.seance_by_path(request.path)
            if found is None or found[0].key != link.seance:
                raise LinkRefused("scope")
    except LinkRefused as refused:
        flask.session.pop(SESSION_KEY, None)
        _audit_refusal(refused.reason)
        if from_query or _is_page(request):
            flask.abort(refusal_page(refused.reason))
        return None
    if from_query:
        flask.session[SESSION_KEY] = token
        flask.session.permanent = True
        flask.g.pilotis_display_redirect = True
    return principal_of(link)


def _is_page(request: flask.Request) -> bool:
    """A séance page (the screen shows why it stopped); elsewhere the visitor is just anonymous."""
    return request.method == "GET" and request.path.startswith("/seance/")


def _audit_refusal(reason: str) -> None:
    try:
        audit.record("display_link_refused", username=None, target=flask.request.path[:300], detail=reason)
    except Exception:  # noqa: BLE001 - the refusal stands even if it cannot be written down
        pass


def refusal_page(reason: str) -> flask.Response:
    """The 403 page of a refused display link (French, names nothing of the séance)."""
    portal = flask.current_app.extensions["pilotis"]
    return error_page(portal, 403, "Lien d'affichage refusé", REFUSED.get(reason, REFUSED["invalid"]))
