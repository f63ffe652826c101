"""``/compte/acces``: access requests — ask for a dashboard one may not see, follow the answer;
grant it until a date or refuse it with a reason (the dashboard's referents, the administrators).

Every POST form carries the CSRF token (Flask-WTF checks it); requests and decisions are audited.
Who may decide is :func:`pilotis.core.access.may_decide_access` (never on one's own request); a
granted access reaches the person's rights through :func:`pilotis.core.access.can_view` only
(:attr:`~pilotis.core.access.Principal.grants`, loaded with the session or the API token).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import flask

from pilotis.accounts import access_requests, audit
from pilotis.accounts.access_requests import Listed, RequestError
from pilotis.accounts.db import get_db, utcnow
from pilotis.accounts.users import admin_addresses
from pilotis.core.access import Principal, may_decide_access
from pilotis.core.registry import Dashboard, Registry
from pilotis.web.access_links import requestable
from pilotis.web.auth import SessionUser, current_session_user, login_url
from pilotis.web.auth_pages import page_context, safe_next
from pilotis.web.enforce import current_principal
from pilotis.web.referent_state import departed_accounts

log = logging.getLogger(__name__)
PATH = "/compte/acces"
"""The requester's list (linked from the account corner and from the answer to a request)."""
bp = flask.Blueprint("pilotis_access", __name__, url_prefix=PATH, template_folder="templates")


def _registry() -> Registry:
    registry: Registry = flask.current_app.extensions["pilotis"].registry
    return registry


def _render(template: str, status: int = 200, **values: Any) -> tuple[str, int, dict[str, str]]:
    html = flask.render_template(f"pilotis/{template}", local_time=audit.local_time, **values, **page_context())
    return html, status, {"Cache-Control": "no-store"}


def _signed_in() -> tuple[SessionUser, Principal] | None:
    user = current_session_user()
    principal = current_principal()
    return (user, principal) if user is not None and principal is not None else None


@bp.route("/demander", methods=["GET", "POST"])
def ask() -> Any:
    """GET: the form for ``?page=``. POST: record the request (reason required, rate-limited)."""
    who = _signed_in()
    if who is None:
        return flask.redirect(login_url())
    user, principal = who
    path = urlsplit(safe_next(flask.request.values.get("page"), "")).path
    dashboard = _registry().by_path(path) if path else None
    if dashboard is None:
        return _render("access_form.html", 404, error="page demandée : aucun tableau de bord à cette adresse")
    if requestable(_registry(), principal, path) is None:
        return _render("access_form.html", 400, page=path, already=True)
    if flask.request.method == "GET":
        return _render("access_form.html", page=path)
    reason = flask.request.form.get("reason", "")[:2000]
    try:
        row = access_requests.create(get_db(), user.id, dashboard.id, reason)
    except RequestError as exc:
        return _render("access_form.html", 400, page=path, error=str(exc), reason=reason[:500])
    audit.record("access_requested", target=f"tableau de bord {dashboard.id}", detail=f"demande {row.id}")
    _tell_deciders(user, dashboard, row.id, row.reason)
    return flask.redirect(flask.url_for("pilotis_access.mine", sent=1), code=303)


def _tell_deciders(user: SessionUser, dashboard: Dashboard, request_id: int, reason: str) -> None:
    """E-mail the dashboard's referents (holder, deputy: those whose account is not departed),
    or the administrators when it has none, through the outbox; never fails the request."""
    portal = flask.current_app.extensions["pilotis"]
    role = portal.registry.referents.role("dashboard", dashboard.id)
    departed = departed_accounts(portal)
    people = [p for p in ((role.holder, role.deputy) if role else ()) if p is not None and p.account not in departed]
    addresses = [p.email for p in people if p.email]
    if not addresses:
        with get_db().session() as session:
            addresses = admin_addresses(session)
    link = flask.request.url_root.rstrip("/") + flask.url_for("pilotis_access.to_decide")
    body = (
        f"{user.display_name or user.username} ({user.username}) demande l'accès au tableau de bord "
        f"« {dashboard.spec.title} » ({dashboard.spec.url}).\n\nMotif : {reason}\n\n"
        f"Accorder (jusqu'à une date) ou refuser (avec un motif) : {link}\n"
    )
    try:
        access_requests.queue_mail(get_db(), request_id, addresses, f"Demande d'accès : {dashboard.spec.title}", body)
    except Exception:  # noqa: BLE001 - the request is recorded and listed on the deciders' page
        log.exception("demande d'accès %s : courriel non mis en file", request_id)


@bp.get("")
def mine() -> Any:
    """The signed-in person's requests and their answers; a link to the requests they may decide."""
    who = _signed_in()
    if who is None:
        return flask.redirect(login_url())
    user, principal = who
    rows = access_requests.of_user(get_db(), user.id)
    return _render(
        "access_requests.html",
        rows=rows,
        now=utcnow(),
        timedelta_second=timedelta(seconds=1),
        sent=flask.request.args.get("sent") == "1",
        decides=bool(_decidable(principal)) or "admin" in principal.roles,
        paths={d.id: d.spec.url for d in _registry().dashboards.values()},
    )


def _today() -> date:
    """Today in Paris (end dates are Paris days)."""
    return audit.local_time(utcnow()).date()


def _decidable(principal: Principal, status: str | None = "pending") -> list[tuple[Listed, Dashboard]]:
    registry = _registry()
    found = []
    for item in access_requests.listed(get_db(), status):
        dashboard = registry.dashboards.get(item.request.dashboard)
        if dashboard is not None and may_decide_access(principal, dashboard.spec, registry.referents, item.username):
            found.append((item, dashboard))
    return found


@bp.get("/a-traiter")
def to_decide(status: int = 200, **extra: Any) -> Any:
    """The pending requests the signed-in person may decide (referent of the dashboard, or admin)."""
    who = _signed_in()
    if who is None:
        return flask.redirect(login_url())
    today = _today()
    now = utcnow()
    return _render(
        "access_decide.html",
        status,
        items=_decidable(who[1]),
        current=[(i, d) for i, d in _decidable(who[1], "granted") if i.request.ends_at and i.request.ends_at > now],
        timedelta_second=timedelta(seconds=1),
        today=today.isoformat(),
        default_end=(today + timedelta(days=30)).isoformat(),
        max_end=(today + timedelta(days=access_requests.MAX_DAYS)).isoformat(),
        **extra,
    )


@dataclass(frozen=True)
class _Decider:
    user: SessionUser
    item: Listed
    dashboard: Dashboard


def _decider_of(request_id: int) -> _Decider | Any:
    """The signed-in person, the request and its dashboard when they may decide on it; else the
    answer to send (login page, 404, or 403 audited)."""
    who = _signed_in()
    if who is None:
        return flask.redirect(login_url())
    user, principal = who
    item = access_requests.find(get_db(), request_id)
    dashboard = _registry().dashboards.get(item.request.dashboard) if item is not None else None
    if item is None or dashboard is None:
        return to_decide(404, error="demande : aucune demande de ce numéro")
    if not may_decide_access(principal, dashboard.spec, _registry().referents, item.username):
        audit.record("access_denied", target=f"demande d'accès {request_id}", detail="décision non autorisée")
        return to_decide(403, error="demande : vous ne pouvez pas décider de cette demande")
    return _Decider(user, item, dashboard)


@bp.post("/<int:request_id>/fin")
def end(request_id: int) -> Any:
    """Close a current granted access now (who may decide on the request may close it)."""
    found = _decider_of(request_id)
    if not isinstance(found, _Decider):
        return found
    item, dashboard = found.item, found.dashboard
    try:
        row = access_requests.end_now(get_db(), request_id)
    except RequestError as exc:
        return to_decide(400, error=str(exc))
    audit.record(
        "access_ended", target=f"tableau de bord {dashboard.id} pour {item.username}", detail=f"demande {row.id}"
    )
    return to_decide(ended=True)


@bp.post("/<int:request_id>/decision")
def decide(request_id: int) -> Any:
    """Grant (``decision=grant``, ``until`` a date, included) or refuse (``decision=refuse``,
    ``reason`` required) a pending request the signed-in person may decide; else 403/404."""
    found = _decider_of(request_id)
    if not isinstance(found, _Decider):
        return found
    user, item, dashboard = found.user, found.item, found.dashboard
    form = flask.request.form
    grant = form.get("decision") == "grant"
    try:
        ends = access_requests.end_of(form.get("until", ""), _today()) if grant else None
        row = access_requests.decide(get_db(), request_id, user.username, ends_at=ends, reason=form.get("reason", ""))
    except RequestError as exc:
        return to_decide(400, error=str(exc))
    target = f"tableau de bord {dashboard.id} pour {item.username}"
    if row.ends_at is not None:
        until = audit.local_time(row.ends_at).strftime("%d/%m/%Y %H:%M")
        audit.record("access_granted", target=target, detail=f"demande {row.id}, jusqu'au {until}")
    else:
        audit.record("access_refused", target=target, detail=f"demande {row.id} : {row.decision_reason}"[:500])
    return to_decide(decided=True)
