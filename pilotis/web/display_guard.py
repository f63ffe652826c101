"""Where a display principal may go: its séance and the technical addresses a screen needs.

Installed as a ``before_request`` hook by :mod:`pilotis.web.seance_view`; the Dash endpoints are
checked by :mod:`pilotis.web.enforce` (``access.can_view_seance``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import flask

from pilotis.accounts.display_links import PARAM
from pilotis.web.display_session import refusal_page
from pilotis.web.enforce import audit, current_principal

ALLOWED_PREFIXES = ("/_dash-", "/assets/", "/_favicon.ico", "/_reload-hash", "/lang/")
"""Technical addresses a wall screen needs besides its séance (the Dash guard checks callbacks)."""
ALLOWED_PATHS = ("/login", "/logout", "/alertes/en-cours.json")
"""Pages a wall screen may ask for: the « alertes en cours » band answers with the alerts of the
rules whose dashboard its séance shows (``access.may_see_alert_rule``), nothing else of /alertes."""


def guard(portal: Any) -> Any:
    """``before_request``: a display principal reaches its séance only (403 elsewhere), and the
    first visit drops the token from the address bar."""
    principal = current_principal()
    if principal is None or principal.seance is None:
        return None
    request = flask.request
    path = request.path
    if path.startswith(ALLOWED_PREFIXES) or path in ALLOWED_PATHS:
        return None
    found = portal.registry.seance_by_path(path)
    if found is None or found[0].key != principal.seance:
        audit("access_denied", principal, f"page {path[:200]}", "lien d'affichage hors de sa séance")
        return refusal_page("scope")
    if getattr(flask.g, "pilotis_display_redirect", False):
        rest = [(k, v) for k, v in request.args.items(multi=True) if k != PARAM]
        return flask.redirect(path + (f"?{urlencode(rest)}" if rest else ""), code=302)
    return None
