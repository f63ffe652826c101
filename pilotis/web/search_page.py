"""``/recherche``: the results of the header's search box, server-rendered (works without
JavaScript): dashboards, indicators, datasets, fields and referents, ranked
(:mod:`pilotis.core.search`), showing only what the user may see (:mod:`pilotis.web.visible`)."""

from __future__ import annotations

from typing import Any

import flask

from pilotis.core.search import Entry, SearchIndex
from pilotis.core.search_entries import build_index
from pilotis.ui.portal import Portal
from pilotis.web.auth import current_session_user, login_url
from pilotis.web.auth_pages import page_context
from pilotis.web.enforce import audit, current_principal
from pilotis.web.referent_state import departed_accounts
from pilotis.web.visible import Visible, visible_to

bp = flask.Blueprint("pilotis_search", __name__, template_folder="templates")
PATH = "/recherche"
MAX_QUERY = 200
KIND_LABELS = {
    "dashboard": "kind_dashboard",
    "indicator": "kind_indicator",
    "dataset": "kind_dataset",
    "field": "kind_field",
    "referent": "kind_referent",
}


def index_of(portal: Portal) -> SearchIndex:
    """The search index of this app, built on first use. Shared by every user: it holds every
    entry and is keyed by nothing user-specific on purpose — what a user may see is decided at
    each query (:func:`allowed_for`), never by what the index holds."""
    found: SearchIndex | None = flask.current_app.extensions.get("pilotis_search")
    if found is None:
        found = build_index(portal.registry)
        flask.current_app.extensions["pilotis_search"] = found
    return found


def allowed_for(visible: Visible, departed: set[str]) -> Any:
    """The filter of one user's hits: the entry's subject is visible to them, and a referent
    whose account left is never returned (« référent à désigner »)."""

    def allowed(entry: Entry) -> bool:
        if entry.account and entry.account in departed:
            return False
        return visible.allows(*entry.owner)

    return allowed


def search(portal: Portal, principal: Any, query: str) -> list[Any]:
    """The hits of ``query`` for ``principal`` (no hit for nobody)."""
    visible = visible_to(portal, principal)
    return index_of(portal).search(query, allowed_for(visible, departed_accounts(portal)))


@bp.route(PATH, methods=["GET"])
def results() -> Any:
    """The results page (anonymous users go to the login page first)."""
    if current_session_user() is None:
        return flask.redirect(login_url())
    portal: Portal = flask.current_app.extensions["pilotis"]
    principal = current_principal()
    query = flask.request.args.get("q", "").strip()[:MAX_QUERY]
    hits = search(portal, principal, query) if query else []
    audit("page_view", principal, f"page {PATH}", f"recherche « {query} » : {len(hits)} résultats")
    return flask.render_template(
        "pilotis/search.html", query=query, hits=hits, kind_labels=KIND_LABELS, **page_context()
    )
