"""API errors: ``{"code": "...", "message": "<French>", "parameter": "..."}`` with stable codes.

A forbidden dataset, dashboard, widget or indicator and a missing one get the same 404 body
(:data:`NOT_FOUND`): the API never tells a caller that something they may not see exists.
"""

from __future__ import annotations

import logging

import flask
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

CODES: dict[str, tuple[int, str]] = {
    "authentification_requise": (401, "Authentification requise : envoyez un jeton d'API (Authorization: Bearer …)."),
    "jeton_invalide": (401, "Jeton d'API invalide, expiré ou révoqué."),
    "trop_de_requetes": (429, "Trop de requêtes pour ce jeton : réessayez dans une minute."),
    "introuvable": (404, "Ressource introuvable."),
    "methode_non_autorisee": (405, "Méthode non autorisée : l'API ne répond qu'aux requêtes GET."),
    "parametre_invalide": (400, "Paramètre invalide."),
    "hors_perimetre": (403, "Données non disponibles pour votre périmètre."),
    "source_indisponible": (503, "Source de données momentanément indisponible."),
    "erreur_interne": (500, "Erreur interne : l'incident est enregistré."),
}
"""Every error code of the API, its HTTP status and default French message (documented in the
OpenAPI document and in docs/api.md: clients may rely on them)."""


class ApiError(Exception):
    """An error answered as JSON (``code`` from :data:`CODES`)."""

    def __init__(self, code: str, message: str | None = None, parameter: str | None = None) -> None:
        status, default = CODES[code]
        super().__init__(message or default)
        self.status = status
        self.code = code
        self.message = message or default
        self.parameter = parameter


def invalid(parameter: str, message: str) -> ApiError:
    """A 400 naming the query parameter at fault."""
    return ApiError("parametre_invalide", message, parameter)


NOT_FOUND = ApiError("introuvable")


def response(error: ApiError) -> flask.Response:
    """The JSON body of ``error`` (no cache: answers depend on who asks)."""
    body: dict[str, str] = {"code": error.code, "message": error.message}
    if error.parameter:
        body["parameter"] = error.parameter
    answer = flask.jsonify(body)
    answer.status_code = error.status
    answer.headers["Cache-Control"] = "no-store"
    if error.status == 401:
        answer.headers["WWW-Authenticate"] = 'Bearer realm="pilotis"'
    return answer


def not_found() -> flask.Response:
    """The one 404 of the API (missing and forbidden alike)."""
    return response(ApiError("introuvable"))


def from_exception(error: Exception) -> flask.Response:
    """Any exception of an API view as JSON: HTTP errors by status, others as a logged 500."""
    if isinstance(error, ApiError):
        return response(error)
    if isinstance(error, HTTPException):
        code = {404: "introuvable", 405: "methode_non_autorisee"}.get(error.code or 0)
        if code is None:
            answer = response(ApiError("parametre_invalide", error.description or None))
            answer.status_code = error.code or 400
            return answer
        return response(ApiError(code))
    log.exception("API : erreur inattendue sur %s", flask.request.path)
    return response(ApiError("erreur_interne"))
