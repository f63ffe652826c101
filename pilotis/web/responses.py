"""Server-rendered French error pages (403, 404, refused display links): one look for all.

Below :mod:`pilotis.web.enforce` and :mod:`pilotis.web.display_session`, which both answer with
them; the page itself is :func:`pilotis.web.auth_pages.render_message` when the authentication module is
installed.
"""

from __future__ import annotations

import html as html_escape

import flask

from pilotis.ui.portal import Portal
from pilotis.web.auth_pages import render_message

DENIED_TEXT = (
    "Vous n'avez pas accès à cette page. Si vous en avez besoin pour votre travail, demandez "
    "l'accès à la direction qui la publie ou à l'administrateur du portail."
)

ASK_LABEL = "Demander l'accès"


def error_page(portal: Portal, status: int, heading: str, text: str) -> flask.Response:
    """A server-rendered French page (lang=fr, vendored CSS, link home) naming no dashboard."""
    if hasattr(flask.current_app, "login_manager"):
        body, code = render_message(heading, text, status=status)
        response = flask.make_response(body, code)
    else:  # the engine without the authentication module (unit tests of the engine)
        title = html_escape.escape(f"{heading} — {portal.registry.portal.title}")
        response = flask.make_response(
            f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{title}</title>'
            '<link rel="stylesheet" href="/assets/vendor/bootstrap/bootstrap.min.css"></head>'
            f'<body><main class="container py-5" id="contenu"><h1 class="h3">'
            f"{html_escape.escape(heading)}</h1><p>{html_escape.escape(text)}</p>"
            '<p><a class="btn btn-primary" href="/">Retour à l\'accueil</a></p>'
            "</main></body></html>",
            status,
        )
    response.headers["Cache-Control"] = "no-store"
    return response


def denied_page(portal: Portal, ask: str | None = None) -> flask.Response:
    """The HTTP 403 "Accès refusé" page; with ``ask`` (:func:`pilotis.web.access_links.request_link`),
    a « Demander l'accès » button leading there instead of a dead end."""
    if ask is None or not hasattr(flask.current_app, "login_manager"):
        return error_page(portal, 403, "Accès refusé", DENIED_TEXT)
    body, code = render_message("Accès refusé", DENIED_TEXT, status=403, link=(ask, ASK_LABEL))
    response = flask.make_response(body, code)
    response.headers["Cache-Control"] = "no-store"
    return response
