"""Access control at the HTTP edge of the Dash app: every Dash endpoint asks ``access.can_view``.

Hiding a link is not access control. Dash answers every callback of every page on
``/_dash-update-component``, ships the whole callback graph on ``/_dash-dependencies`` and the
shell on ``/_dash-layout``. This module guards them all, for every request:

- page routes (``/``, ``/<dashboard>``): anonymous → 302 to the login page; a dashboard the user
  may not open → HTTP 403 with a French "Accès refusé" page (unknown pages stay 404);
- ``/_dash-layout``, ``/_dash-dependencies``, ``/_dash-update-component`` and every other Dash
  route except the static component bundles: anonymous → 401 (JSON);
- ``/_dash-update-component``: every component id the callback declares and every id the request
  names (outputs, inputs, state) belongs to a dashboard (``Registry.owner_of``) the user may open,
  or to the portal shell (:data:`SHELL_IDS`); anything else → 403. Deny by default: an id that is
  neither (a new portal-level component, a pattern-matching id) is refused until listed here;
- ``/_dash-dependencies``: only the callbacks the user may call are listed (no ids of other
  dashboards reach the browser).

The decision itself is :func:`pilotis.core.access.can_view`; this module only finds the dashboards a
request touches and asks it. Denials are written to the audit log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

import flask
from dash import Dash
from dash._utils import split_callback_id
from werkzeug.wrappers import Response as WerkzeugResponse

from pilotis.accounts import audit as audit_log
from pilotis.core.access import Principal, can_view, can_view_component, can_view_seance
from pilotis.core.i18n import t
from pilotis.core.registry import Dashboard, Registry
from pilotis.core.seances import Seance
from pilotis.ui.portal import Portal
from pilotis.web.access_links import request_link
from pilotis.web.auth import current_principal as signed_in
from pilotis.web.auth import login_url as auth_login_url
from pilotis.web.context import current_lang
from pilotis.web.display_session import display_principal
from pilotis.web.request_limits import callback_body_problem
from pilotis.web.responses import denied_page, error_page

log = logging.getLogger(__name__)

SHELL_IDS = frozenset({"url", "page", "page-title"})
"""Component ids of the portal shell (``pages.shell``), present on every page for every user."""

PUBLIC_DASH_ROUTES = ("_dash-component-suites/", "_favicon.ico")
"""Dash routes served to anyone: the JavaScript bundles of the component libraries, the icon."""

UPDATE = "_dash-update-component"
DEPENDENCIES = "_dash-dependencies"


class Refused(Exception):
    """A callback request that touches something the user may not see (``reason`` for the audit)."""

    def __init__(self, reason: str, dashboard: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.dashboard = dashboard


# --------------------------------------------------------------------------- who is asking


def current_principal() -> Principal | None:
    """The signed-in user of this request as a :class:`Principal`; None when anonymous.

    ``flask_login.current_user.principal`` through :func:`pilotis.web.auth.current_principal`,
    read once per request. Without a login manager, or outside a request, nobody is signed in.
    """
    if not flask.has_request_context():
        return None
    if "pilotis_principal" in flask.g:
        cached: Principal | None = flask.g.pilotis_principal
        return cached
    principal: Principal | None = None
    if hasattr(flask.current_app, "login_manager"):
        value = signed_in()
        principal = value if isinstance(value, Principal) else None
        if principal is None:  # a wall screen opened by a display link (one séance only)
            principal = display_principal()
    flask.g.pilotis_principal = principal
    return principal


def audit(event: str, principal: Principal | None, target: str, detail: str = "") -> None:
    """Write an access event to the audit log (``pilotis.accounts.audit.record``); never fails a request."""
    username = principal.username if principal else None
    try:
        audit_log.record(event, username=username, target=target, detail=detail)
    except Exception:  # noqa: BLE001 - an audit failure is logged, the decision stands
        log.exception("audit %s user=%s target=%s non enregistré", event, username, target)


# --------------------------------------------------------------------------- callbacks


def _ids(items: Any) -> Iterator[Any]:
    """Component ids in a callback's ``inputs`` / ``state`` / ``outputs`` (nested lists, dicts)."""
    if isinstance(items, dict):
        if "id" in items:
            yield items["id"]
        return
    if isinstance(items, list | tuple):
        for item in items:
            yield from _ids(item)


def _output_ids(output: str) -> list[Any]:
    """Component ids named by a callback's ``output`` key (``a.children`` or ``..a.x...b.y..``)."""
    if not isinstance(output, str):
        return []
    parts = split_callback_id(output)
    ids = []
    for part in parts if isinstance(parts, list) else [parts]:
        value = part["id"]
        if isinstance(value, str) and value.startswith("{"):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        ids.append(value)
    return ids


def owners(
    registry: Registry, component_ids: Iterable[Any], seances: dict[str, Seance] | None = None
) -> dict[str, Dashboard]:
    """The dashboards (by id) that declared ``component_ids``; :class:`Refused` for an orphan id.

    Ids of a séance page (``_seance-<key>--…``) go to ``seances`` (refused when it is None): the
    caller decides on them with :func:`seance_allowed`.
    """
    found: dict[str, Dashboard] = {}
    for component_id in component_ids:
        if isinstance(component_id, dict):
            # Pattern-matching ids name their dashboard explicitly: {"dashboard": "rsa", ...}.
            name = component_id.get("dashboard")
            owner = registry.dashboards.get(name) if isinstance(name, str) else None
        elif isinstance(component_id, str):
            if component_id in SHELL_IDS:
                continue
            seance = registry.seance_of(component_id)
            if seance is not None and seances is not None:
                seances[seance.key] = seance
                continue
            owner = registry.owner_of(component_id)
        else:
            owner = None
        if owner is None:
            raise Refused(f"composant inconnu {component_id!r}")
        found[owner.id] = owner
    return found


def check_callback(
    principal: Principal | None, registry: Registry, callback_map: dict[str, Any], body: Any
) -> dict[str, Dashboard]:
    """The dashboards a callback request touches, all of which ``principal`` may open.

    Raises :class:`Refused` otherwise: unknown callback, an id owned by no dashboard, or a
    dashboard that :func:`~pilotis.core.access.can_view` refuses.
    """
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        raise Refused("requête de callback illisible")
    declared = callback_map.get(body["output"])
    if declared is None:
        raise Refused(f"callback inconnu {body['output']!r}")
    ids = [
        *_output_ids(body["output"]),
        *_ids(declared.get("inputs")),
        *_ids(declared.get("state")),
        *_ids(body.get("outputs")),
        *_ids(body.get("inputs")),
        *_ids(body.get("state")),
    ]
    seances: dict[str, Seance] = {}
    touched = owners(registry, ids, seances)
    for dashboard in touched.values():
        if not can_view(principal, dashboard.spec):
            raise Refused(f"tableau de bord {dashboard.id} non autorisé", dashboard.id)
    for seance in seances.values():
        if not seance_allowed(principal, registry, seance):
            raise Refused(f"séance {seance.key} non autorisée")
    for component_id in ids:  # a synthesis dashboard's widget of another direction's indicator
        if isinstance(component_id, str) and not can_view_component(principal, registry, component_id):
            raise Refused(f"widget {component_id} non autorisé")
    return touched


def seance_allowed(principal: Principal | None, registry: Registry, seance: Seance) -> bool:
    """:func:`~pilotis.core.access.can_view_seance` on the dashboards ``seance`` shows."""
    specs = [registry.dashboards[d].spec if d in registry.dashboards else None for d in seance.dashboards]
    return can_view_seance(principal, seance.key, specs)


def callback_allowed(principal: Principal | None, registry: Registry, callback: dict[str, Any]) -> bool:
    """True when ``principal`` may call the callback of a ``/_dash-dependencies`` entry."""
    ids = [
        *_output_ids(callback.get("output", "")),
        *_ids(callback.get("inputs")),
        *_ids(callback.get("state")),
    ]
    seances: dict[str, Seance] = {}
    try:
        dashboards = owners(registry, ids, seances).values()
    except Refused:
        return False
    return (
        all(can_view(principal, d.spec) for d in dashboards)
        and all(seance_allowed(principal, registry, s) for s in seances.values())
        and all(can_view_component(principal, registry, i) for i in ids if isinstance(i, str))
    )


# --------------------------------------------------------------------------- responses


def _json(status: int, message: str) -> flask.Response:
    response = flask.jsonify({"error": message, "status": status})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def login_url(next_path: str) -> str:
    """The login page, asked to come back to ``next_path`` after signing in."""
    if hasattr(flask.current_app, "login_manager"):
        return auth_login_url(next_path)
    return f"/login?next={quote(next_path, safe='/')}"


# --------------------------------------------------------------------------- installation


def install(app: Dash, portal: Portal) -> None:
    """Guard every Dash endpoint of ``app`` (call it before any other ``before_request`` hook)."""
    if not app.config.suppress_callback_exceptions:
        # Dash would then embed a validation layout (every page's components) in every HTML page.
        raise RuntimeError("suppress_callback_exceptions=False would leak every page's layout")
    server = app.server
    prefix = app.config.routes_pathname_prefix
    page_endpoints = {prefix, f"{prefix}<path:path>"}
    update_endpoint = prefix + UPDATE
    dependencies_endpoint = prefix + DEPENDENCIES
    public = tuple(prefix + route for route in PUBLIC_DASH_ROUTES)

    def is_dash(endpoint: str | None) -> bool:
        return endpoint is not None and endpoint in app.routes

    @server.before_request
    def guard_dash() -> WerkzeugResponse | None:
        endpoint = flask.request.endpoint
        if not is_dash(endpoint) or endpoint.startswith(public):  # type: ignore[union-attr]
            return None
        principal = current_principal()
        if endpoint in page_endpoints:
            return _guard_page(portal, principal)
        if principal is None:
            return _json(401, "authentification requise")
        if endpoint == update_endpoint:
            # Read at most MAX_CONTENT_LENGTH bytes (else 413), then check the shape and size of
            # the body against the callback's declaration (400) before any costlier work.
            body = flask.request.get_json(silent=True)
            problem = callback_body_problem(body, app.callback_map, exact=False)
            if problem is not None:
                return _json(400, problem)
            try:
                check_callback(principal, portal.registry, app.callback_map, body)
            except Refused as refused:
                audit(
                    "access_denied",
                    principal,
                    f"callback {_output_of(flask.request)}",
                    refused.reason,
                )
                return _json(403, "accès refusé")
            problem = callback_body_problem(body, app.callback_map)  # exact counts: allowed callbacks
            if problem is not None:
                return _json(400, problem)
        return None

    per_user = {update_endpoint, dependencies_endpoint, prefix + "_dash-layout"}

    @server.after_request
    def not_cached(response: flask.Response) -> flask.Response:
        # Answers depend on who asks: no browser or proxy may keep one for the next user.
        if flask.request.endpoint in per_user:
            response.headers["Cache-Control"] = "no-store"
        return response

    original = server.view_functions[dependencies_endpoint]

    def dependencies() -> flask.Response:
        response = original()
        principal = current_principal()
        listed = json.loads(response.get_data())
        kept = [cb for cb in listed if callback_allowed(principal, portal.registry, cb)]
        filtered = flask.Response(json.dumps(kept), content_type="application/json")
        filtered.headers["Cache-Control"] = "no-store"
        return filtered

    server.view_functions[dependencies_endpoint] = dependencies

    @server.errorhandler(403)
    def forbidden(_error: Exception) -> flask.Response:
        if flask.request.path.startswith(prefix + "_"):
            return _json(403, "accès refusé")
        return denied_page(portal)

    @server.errorhandler(404)
    def not_found(_error: Exception) -> flask.Response:
        if flask.request.path.startswith(prefix + "_"):
            return _json(404, "introuvable")
        lang = current_lang(portal.settings.lang)
        return error_page(portal, 404, t("not_found", lang), t("not_found_text", lang))


def _output_of(request: flask.Request) -> str:
    body = request.get_json(silent=True)
    output = body.get("output") if isinstance(body, dict) else None
    return str(output)[:200] if output else "?"


def _guard_page(portal: Portal, principal: Principal | None) -> WerkzeugResponse | None:
    request = flask.request
    if principal is None:
        return flask.redirect(login_url(request.full_path.rstrip("?")), code=302)
    dashboard = portal.registry.by_path(request.path)
    if dashboard is not None and not can_view(principal, dashboard.spec):
        audit("access_denied", principal, f"page {request.path}", f"tableau de bord {dashboard.id}")
        return denied_page(portal, request_link(portal.registry, principal, request.path))
    found = portal.registry.seance_by_path(request.path)
    if found is not None and not seance_allowed(principal, portal.registry, found[0]):
        audit("access_denied", principal, f"page {request.path}", f"séance {found[0].key}")
        return denied_page(portal)
    return None


__all__ = [
    "install",
    "current_principal",
    "check_callback",
    "callback_allowed",
    "owners",
    "audit",
    "denied_page",
    "error_page",
    "SHELL_IDS",
    "Refused",
]
