"""Which accounts named in the referents directory have left (disabled or deleted), read from
the application database for the request: every page showing a referent asks here, so that a
departed holder reads « référent à désigner » everywhere at once."""

from __future__ import annotations

import flask

from pilotis.accounts import referent_history
from pilotis.accounts.db import get_db
from pilotis.ui.portal import Portal


def departed_accounts(portal: Portal) -> set[str]:
    """Accounts named in the directory that are disabled or gone (one query, once per request)."""
    if flask.has_request_context() and "pilotis_departed" in flask.g:
        cached: set[str] = flask.g.pilotis_departed
        return cached
    found = referent_history.departed(get_db(), portal.registry.referents.accounts())
    if flask.has_request_context():
        flask.g.pilotis_departed = found
    return found
