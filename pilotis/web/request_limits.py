"""Bounds on what one request may cost: body size, callback shape, unknown Dash bundles.

One signed-in user could keep a worker busy with a single request: a 50 MB callback body was
read whole, and 600,000 inputs kept a worker busy 17 s before a 500. Here:

- every request body is capped (``Settings.max_request_bytes``, Flask's ``MAX_CONTENT_LENGTH``):
  a larger one gets HTTP 413 before it is read. The largest body the portal itself sends is a
  séance refresh callback (``_seance-…`` outputs, one per slot: 6.9 kB for the shipped
  séances, measured in tests/browser/test_csp_browser.py); 1 MiB leaves ample room;
- a ``/_dash-update-component`` body must have the shape dash-renderer sends, and as many
  inputs, states and outputs as the callback declares (:func:`callback_body_problem`), checked
  by ``pilotis.web.enforce`` before any access decision or callback runs: otherwise HTTP 400 naming
  the field;
- an unknown ``/_dash-component-suites/…`` path is a 404, not a Dash exception (500).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask
from dash import Dash
from dash.exceptions import DependencyException
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from pilotis.core.settings import Settings

MAX_ID_LENGTH = 300
"""Longest component id or property name accepted in a callback body (the app's are < 80)."""
MAX_WILDCARD_ITEMS = 500
"""Most components one pattern-matching (ALL) input may list."""
SUITES = "_dash-component-suites/"

TOO_LARGE = "Requête trop volumineuse : au plus {limit} octets sont acceptés (PILOTIS_MAX_REQUEST_BYTES)."


def _declared_outputs(output: str) -> int:
    """How many outputs a callback's ``output`` key names (``..a.x...b.y..`` = 2)."""
    return output.count("...") + 1 if output.startswith("..") else 1


def _item_problem(item: Any, field: str) -> str | None:
    """Why one ``{"id", "property", …}`` entry is malformed, or None."""
    if isinstance(item, list):  # a pattern-matching ALL / ALLSMALLER input: a list of entries
        if len(item) > MAX_WILDCARD_ITEMS:
            return f"`{field}` : au plus {MAX_WILDCARD_ITEMS} composants par entrée"
        for sub in item:
            if isinstance(sub, list) or (problem := _item_problem(sub, field)):
                return problem or f"`{field}` : entrée mal formée"
        return None
    if not isinstance(item, dict):
        return f"`{field}` : chaque entrée doit être un objet {{id, property}}"
    component_id, prop = item.get("id"), item.get("property")
    if isinstance(component_id, dict):
        if len(component_id) > 20 or any(
            not isinstance(k, str) or len(k) > MAX_ID_LENGTH or len(str(v)) > MAX_ID_LENGTH
            for k, v in component_id.items()
        ):
            return f"`{field}` : identifiant de composant trop long ou mal formé"
    elif not isinstance(component_id, str) or not 0 < len(component_id) <= MAX_ID_LENGTH:
        return f"`{field}` : `id` doit être un texte de 1 à {MAX_ID_LENGTH} caractères"
    if not isinstance(prop, str) or not 0 < len(prop) <= MAX_ID_LENGTH:
        return f"`{field}` : `property` doit être un texte de 1 à {MAX_ID_LENGTH} caractères"
    return None


def _list_problem(body: dict[str, Any], field: str, expected: int, exact: bool) -> str | None:
    value = body.get(field, [] if field == "state" else None)
    if not isinstance(value, list):
        return f"`{field}` doit être une liste"
    if len(value) > expected or (exact and len(value) != expected):
        return f"`{field}` : {expected} entrée(s) attendue(s) pour ce callback, {len(value)} reçue(s)"
    for item in value:
        if problem := _item_problem(item, field):
            return problem
    return None


def callback_body_problem(body: Any, callback_map: dict[str, Any], *, exact: bool = True) -> str | None:
    """Why a ``/_dash-update-component`` body is malformed (a French sentence naming the field),
    or None. Costs O(entries the callback declares): a body listing more is refused at once.

    ``exact=False`` checks the shape and the upper bounds only: ``pilotis.web.enforce`` asks it before
    the access decision (whose cost then stays bounded), and the exact counts (fewer entries than
    declared would crash the callback: a 500) after it, so that a forbidden callback is a 403
    whatever its body. An unknown ``output`` is not judged here: enforce refuses it (403, audited).
    """
    if not isinstance(body, dict):
        return "corps de la requête illisible : un objet JSON est attendu"
    output = body.get("output")
    if not isinstance(output, str):
        return "`output` doit être un texte"
    declared = callback_map.get(output)
    if declared is None:
        return None
    for field in ("inputs", "state"):
        if problem := _list_problem(body, field, len(declared.get(field) or []), exact):
            return problem
    outputs = body.get("outputs")
    count = _declared_outputs(output)
    if count == 1 and not isinstance(outputs, list):
        outputs = [outputs]
    if not isinstance(outputs, list) or len(outputs) > count or (exact and len(outputs) != count):
        return f"`outputs` : {count} sortie(s) attendue(s) pour ce callback"
    for item in outputs:
        if problem := _item_problem(item, "outputs"):
            return problem
    changed = body.get("changedPropIds", [])
    if (
        not isinstance(changed, list)
        or len(changed) > count + len(declared.get("inputs") or [])
        or not all(isinstance(c, str) and len(c) <= 2 * MAX_ID_LENGTH for c in changed)
    ):
        return "`changedPropIds` doit être une courte liste de textes"
    return None


def _is_dash_request() -> bool:
    return "/_dash-" in flask.request.path


def install(app: Dash, settings: Settings) -> None:
    """Body limit (413), 404 for unknown component bundles; the callback check is in enforce."""
    server = app.server
    server.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes

    @server.errorhandler(RequestEntityTooLarge)
    def too_large(_error: RequestEntityTooLarge) -> flask.Response:
        message = TOO_LARGE.format(limit=settings.max_request_bytes)
        if _is_dash_request():
            response = flask.jsonify({"error": message, "status": 413})
        else:
            response = flask.make_response(message)
            response.content_type = "text/plain; charset=utf-8"
        response.status_code = 413
        response.headers["Cache-Control"] = "no-store"
        return response

    endpoints = [name for name in server.view_functions if SUITES in name]
    if len(endpoints) != 1:
        raise RuntimeError(f"route {SUITES} de Dash introuvable : {endpoints}")
    serve: Callable[..., Any] = server.view_functions[endpoints[0]]

    def serve_known_bundles(*args: Any, **kwargs: Any) -> Any:
        # Dash raises DependencyException (-> 500) for a package or file it did not register, and
        # pkgutil an OSError for a registered file missing on disk: both are "not found".
        try:
            return serve(*args, **kwargs)
        except (DependencyException, OSError):
            raise NotFound() from None

    server.view_functions[endpoints[0]] = serve_known_bundles
