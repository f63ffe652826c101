"""``/referents``: the referents directory, by theme and by service, searchable, server-rendered
(works without JavaScript).

Access: a signed-in user sees the roles of the subjects they may see (:mod:`pilotis.web.visible`:
dashboards they may open, indicators and datasets behind them, themes of those indicators); a
holder whose account is disabled or gone reads « référent à désigner ». Administrators also see
each role's history and the list of vacancies (each one is recorded once in the audit log).
"""

from __future__ import annotations

from typing import Any

import flask

from pilotis.accounts import referent_history
from pilotis.accounts.db import get_db
from pilotis.core.formatting import french_fold
from pilotis.core.referents import Contact, Directory, anchor, subject_key
from pilotis.core.subjects import OTHER, subject
from pilotis.ui.portal import Portal
from pilotis.web.auth import current_session_user, login_url
from pilotis.web.auth_pages import page_context
from pilotis.web.enforce import audit, current_principal
from pilotis.web.referent_state import departed_accounts
from pilotis.web.visible import visible_to

bp = flask.Blueprint("pilotis_referents", __name__, template_folder="templates")
PATH = "/referents"
KIND_LABELS = {
    "theme": "kind_theme",
    "dashboard": "kind_dashboard",
    "indicator": "kind_indicator",
    "dataset": "kind_dataset",
}


def _portal() -> Portal:
    portal: Portal = flask.current_app.extensions["pilotis"]
    return portal


def check_vacancies(portal: Portal) -> list[tuple[str, str, Any]]:
    """The open vacancies (kind, id, holder who left); new ones are recorded in the audit log."""
    directory = portal.registry.referents
    gone = referent_history.departed(get_db(), directory.accounts())  # fresh: it may have changed
    referent_history.notify_vacancies(get_db(), directory, gone)
    return directory.vacancies(gone)


def admin_notice() -> dict[str, Any]:
    """Template values of the « Référents à désigner » notice of the administration pages."""
    portal = _portal()
    return {"vacancies": [(subject(portal.registry, k, i), p) for k, i, p in check_vacancies(portal)]}


def entries(portal: Portal, visible_kinds: Any, departed: set[str], query: str = "") -> list[dict[str, Any]]:
    """The directory entries the user may see, matching ``query`` (accents and case ignored)."""
    registry = portal.registry
    directory: Directory = registry.referents
    needle = french_fold(query.strip())
    found = []
    for kind, ident, role in directory.entries():
        if not visible_kinds.allows(kind, ident):
            continue
        about = subject(registry, kind, ident)
        contact: Contact = directory.contact(role, departed)
        people = [p for p in (contact.holder, contact.deputy) if p is not None]
        services = [registry.departments.get(p.service or "", "") for p in people]
        text = " ".join([about.label, ident, *(p.name for p in people), *services, *(p.email or "" for p in people)])
        if needle and not all(word in french_fold(text) for word in needle.split()):
            continue
        holder_service = contact.holder.service if contact.holder else None
        service = holder_service or (contact.deputy.service if contact.deputy else None)
        found.append(
            {
                "kind": kind,
                "subject": about,
                "key": subject_key(kind, ident),
                "anchor": anchor(kind, ident),
                "holder": contact.holder,
                "deputy": contact.deputy,
                "service": registry.departments.get(service or "", ""),
                "theme": about.theme,
            }
        )
    return found


def _grouped(items: list[dict[str, Any]], key: str, last: str) -> list[tuple[str, list[dict[str, Any]]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        groups.setdefault(item[key] or last, []).append(item)
    return sorted(groups.items(), key=lambda kv: (kv[0] == last, french_fold(kv[0])))


@bp.route(PATH, methods=["GET"])
def directory_page() -> Any:
    """The directory (anonymous users go to the login page first)."""
    if current_session_user() is None:
        return flask.redirect(login_url())
    portal = _portal()
    principal = current_principal()
    query = flask.request.args.get("q", "")[:200]
    admin = principal is not None and "admin" in principal.roles
    vacancies = check_vacancies(portal)
    departed = departed_accounts(portal)
    items = entries(portal, visible_to(portal, principal), departed, query)
    histories = {item["key"]: referent_history.history(get_db(), item["key"]) for item in items} if admin else {}
    audit("page_view", principal, f"page {PATH}", "annuaire des référents")
    context = page_context()
    return flask.render_template(
        "pilotis/referents.html",
        query=query,
        total=len(items),
        by_theme=_grouped(items, "theme", OTHER),
        by_service=_grouped(items, "service", context["t"]("referent_vacant")),
        kind_labels=KIND_LABELS,
        departments=portal.registry.departments,
        histories=histories,
        vacancies=[(subject(portal.registry, k, i), p) for k, i, p in vacancies] if admin else [],
        **context,
    )


def install(server: flask.Flask, portal: Portal) -> None:
    """At start-up (after the database is migrated): record who holds each role now (history)
    and tell the administrators of the vacancies found (once each)."""
    db = get_db(server)
    directory = portal.registry.referents
    referent_history.sync(db, directory)
    referent_history.notify_vacancies(db, directory, referent_history.departed(db, directory.accounts()))
