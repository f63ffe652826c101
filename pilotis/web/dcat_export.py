"""``/donnees.ttl``: the catalogue in DCAT-AP 3 (Turtle) for open-data portals to harvest.

Open without signing in, on purpose: it holds only the datasets their authors marked
``publishable: true`` (:mod:`pilotis.core.dcat`), their descriptions and their referent's
contact — never data, source locations or anything else of the internal catalogue."""

from __future__ import annotations

import flask

from pilotis.core.dcat import catalogue_graph
from pilotis.ui.portal import Portal
from pilotis.web.referent_state import departed_accounts

bp = flask.Blueprint("pilotis_dcat", __name__)
PATH = "/donnees.ttl"


@bp.route(PATH, methods=["GET"])
def dcat_catalogue() -> flask.Response:
    """The publishable datasets as DCAT-AP (``text/turtle``)."""
    portal: Portal = flask.current_app.extensions["pilotis"]
    graph = catalogue_graph(portal.registry, flask.request.url_root, departed_accounts(portal))
    response = flask.Response(graph.serialize(format="turtle"), mimetype="text/turtle")
    response.headers["Content-Disposition"] = "inline; filename=catalogue-dcat-ap.ttl"
    return response
