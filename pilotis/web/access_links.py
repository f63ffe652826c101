"""Where a refused page leads: the « Demander l'accès » form of a dashboard one may ask for.

Shared by the server-rendered « Accès refusé » page (:mod:`pilotis.web.enforce`) and the one the
Dash page router draws (:mod:`pilotis.web.wiring`); the form itself is
:mod:`pilotis.web.access_requests_page`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from pilotis.core.access import Principal, can_view
from pilotis.core.registry import Dashboard, Registry

FORM_PATH = "/compte/acces/demander"
"""The form's address (``?page=/<dashboard path>``)."""


def requestable(registry: Registry, principal: Principal | None, path: str) -> Dashboard | None:
    """The dashboard at ``path`` when ``principal`` (signed in, not a wall screen) may ask for it:
    published (an ``access`` block: a draft is never granted) and not visible to them yet."""
    dashboard = registry.by_path(path)
    if principal is None or principal.seance is not None or dashboard is None:
        return None
    if dashboard.spec.access is None or can_view(principal, dashboard.spec):
        return None
    return dashboard


def request_link(registry: Registry, principal: Principal | None, path: str) -> str | None:
    """The form's address for the refused page ``path``, or None when nothing can be asked."""
    if requestable(registry, principal, path) is None:
        return None
    return f"{FORM_PATH}?{urlencode({'page': registry.by_path(path).spec.url})}"  # type: ignore[union-attr]
