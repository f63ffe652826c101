"""``/signalements``: « Signaler une anomalie » on a widget, and the follow-up of the reports.

- ``/signalements/nouveau?tableau=rsa&widget=foyers&territoire=…&annee=…`` (the link under every
  widget, :mod:`pilotis.ui.report_link`): the form, with the page, the filters and the values the
  widget shows the sender (:mod:`pilotis.web.anomaly_context`); a widget they may not see is a 404
  (audited). POST: the report is recorded (rate-limited), audited, e-mailed to the role that
  answers for the widget (:mod:`pilotis.core.widget_referent`; the administrators when none)
  through the outbox, and listed in that role's inbox.
- ``/signalements``: « Mes signalements » (each with its state and the reply) and, for the
  referents of a role and the administrators, « Signalements reçus » with the form that moves a
  report to « en cours », « résolu » or « rejeté » (audited; the sender is told by e-mail).

Every POST carries the CSRF token (Flask-WTF checks it); answers are ``Cache-Control: no-store``.
"""

from __future__ import annotations

import logging
from typing import Any

import flask

from pilotis.accounts import anomaly_reports, audit
from pilotis.accounts.anomaly_reports import Draft, Listed, ReportError
from pilotis.accounts.db import get_db
from pilotis.accounts.users import admin_addresses
from pilotis.core.access import Principal, can_view
from pilotis.core.widget_referent import ADMIN, handlers
from pilotis.ui.portal import Portal
from pilotis.web.anomaly_context import BadFilter, NotFound, WidgetView, current_args, widget_view
from pilotis.web.auth import SessionUser, current_session_user, login_url
from pilotis.web.auth_pages import page_context
from pilotis.web.context import current_lang
from pilotis.web.enforce import current_principal
from pilotis.web.referent_state import departed_accounts

log = logging.getLogger(__name__)
PATH = "/signalements"
bp = flask.Blueprint("pilotis_anomalies", __name__, url_prefix=PATH, template_folder="templates")
STATUS_KEYS = {s: f"anomaly_status_{s}" for s in anomaly_reports.STATUSES}


def _portal() -> Portal:
    portal: Portal = flask.current_app.extensions["pilotis"]
    return portal


def _render(template: str, status: int = 200, **values: Any) -> tuple[str, int, dict[str, str]]:
    html = flask.render_template(
        f"pilotis/{template}", local_time=audit.local_time, status_keys=STATUS_KEYS, **values, **page_context()
    )
    return html, status, {"Cache-Control": "no-store"}


def _signed_in() -> tuple[SessionUser, Principal] | None:
    user = current_session_user()
    principal = current_principal()
    return (user, principal) if user is not None and principal is not None else None


def _absolute(path: str) -> str:
    return flask.request.url_root.rstrip("/") + path


@bp.route("/nouveau", methods=["GET", "POST"])
def new() -> Any:
    """GET: the form for a widget. POST: record the report and send it (see the module docstring)."""
    who = _signed_in()
    if who is None:
        return flask.redirect(login_url(flask.request.full_path.rstrip("?")))
    user, principal = who
    portal = _portal()
    lang = current_lang(portal.settings.lang)
    try:
        view = widget_view(portal, principal, current_args(), lang)
    except NotFound:
        flask.abort(404)
    except BadFilter as bad:
        return _render("anomaly_form.html", 400, error=str(bad))
    if flask.request.method == "GET":
        return _render("anomaly_form.html", view=view)
    message = flask.request.form.get("message", "")[:4000]
    draft = Draft(
        view.dashboard.id, view.widget.id, view.page, view.filters_text(), view.shown_text(), view.answerer.subject
    )
    try:
        row = anomaly_reports.create(get_db(), user.id, draft, message)
    except ReportError as exc:
        return _render("anomaly_form.html", 400, view=view, error=str(exc), message=message[:2000])
    audit.record(
        "anomaly_reported",
        target=f"widget {view.dashboard.id}/{view.widget.id}",
        detail=f"signalement {row.id} → {row.subject} ; {view.filters_text()}"[:500],
    )
    _tell_referents(user, view, row.id, row.message)
    return flask.redirect(flask.url_for("pilotis_anomalies.inbox", sent=1), code=303)


def _tell_referents(user: SessionUser, view: WidgetView, report_id: int, message: str) -> None:
    """E-mail the people present in the role that answers for the widget (the administrators
    when it is none or nobody there has an address); never fails the report.

    The values the sender saw are NOT in the e-mail: a referent may hold the role without the
    right to open the dashboard, and an address carries no rights. The inbox shows them to whoever
    may open it (``can_view``)."""
    addresses = list(view.answerer.addresses)
    if not addresses:
        with get_db().session() as session:
            addresses = admin_addresses(session)
    body = (
        f"{user.display_name or user.username} ({user.username}) signale une anomalie dans "
        f"« {view.title} ».\n\nPage : {_absolute(view.page)}\nFiltres : {view.filters_text()}\n\n"
        f"Description :\n{message}\n\n"
        "Les valeurs affichées sont jointes au signalement dans le portail (visibles si vous pouvez "
        "ouvrir ce tableau de bord).\n\n"
        f"Suivre et répondre : {_absolute(flask.url_for('pilotis_anomalies.inbox'))}#signalement-{report_id}\n"
    )
    try:
        anomaly_reports.queue_mail(
            get_db(), f"signalement:{report_id}", addresses, f"Anomalie signalée : {view.title}", body
        )
    except Exception:  # noqa: BLE001 - the report is recorded and listed in the inbox
        log.exception("signalement %s : courriel non mis en file", report_id)


def _handled_subjects(principal: Principal) -> set[str] | None:
    """Subjects whose reports ``principal`` handles (None: all of them, an administrator)."""
    if "admin" in principal.roles:
        return None
    directory = _portal().registry.referents
    departed = departed_accounts(_portal())
    found = set()
    for kind, ident, _ in directory.entries():
        key = f"{kind}:{ident}"
        if principal.username in handlers(directory, departed, key):
            found.add(key)
    return found


def _may_handle(principal: Principal, item: Listed) -> bool:
    if principal.seance is not None:  # a display link watches a séance, nothing else
        return False
    subjects = _handled_subjects(principal)
    return subjects is None or item.report.subject in subjects


@bp.get("")
def inbox(status: int = 200, **extra: Any) -> Any:
    """The person's reports and, for a referent or an administrator, the reports received."""
    who = _signed_in()
    if who is None:
        return flask.redirect(login_url(flask.request.full_path.rstrip("?")))
    user, principal = who
    subjects = _handled_subjects(principal)
    received = anomaly_reports.listed(get_db(), subjects)
    dashboards = _portal().registry.dashboards
    return _render(
        "anomaly_inbox.html",
        status,
        mine=anomaly_reports.of_user(get_db(), user.id),
        received=received,
        handles=subjects is None or bool(subjects),
        admin_subject=ADMIN,
        titles={d.id: d.spec.title for d in dashboards.values()},
        # the attached values only to whoever may open the dashboard (the one access function)
        readable={d.id for d in dashboards.values() if can_view(principal, d.spec)},
        sent=flask.request.args.get("sent") == "1",
        **extra,
    )


@bp.post("/<int:report_id>/etat")
def change(report_id: int) -> Any:
    """Move a report to ``status`` with ``reply`` (its role's referents, the administrators)."""
    who = _signed_in()
    if who is None:
        return flask.redirect(login_url())
    user, principal = who
    item = anomaly_reports.find(get_db(), report_id)
    if item is None:
        return inbox(404, error="signalement : aucun signalement de ce numéro")
    if not _may_handle(principal, item):
        audit.record("access_denied", target=f"signalement {report_id}", detail="suivi non autorisé")
        return inbox(403, error="signalement : vous ne traitez pas ce signalement")
    form = flask.request.form
    try:
        row = anomaly_reports.set_status(
            get_db(), report_id, user.username, form.get("status", ""), form.get("reply", "")[:4000]
        )
    except ReportError as exc:
        return inbox(400, error=str(exc))
    audit.record(
        "anomaly_status",
        target=f"signalement {row.id} ({row.dashboard}/{row.widget})",
        detail=f"{row.status} : {row.reply}"[:500],
    )
    _tell_sender(item, row.status, row.reply)
    return inbox(saved=True)


def _tell_sender(item: Listed, status: str, reply: str) -> None:
    """E-mail the sender the new state (when their account has an address)."""
    address = item.email or (item.username if "@" in item.username else None)
    if not address:
        return
    label = {"in_progress": "en cours", "resolved": "résolu", "rejected": "rejeté"}.get(status, status)
    body = (
        f"Votre signalement n° {item.report.id} ({item.report.page}) est maintenant : {label}.\n\n"
        + (f"Réponse : {reply}\n\n" if reply else "")
        + f"Vos signalements : {_absolute(flask.url_for('pilotis_anomalies.inbox'))}\n"
    )
    try:
        anomaly_reports.queue_mail(
            get_db(), f"signalement:{item.report.id}", [address], f"Signalement {label} : {item.report.page}", body
        )
    except Exception:  # noqa: BLE001 - the state is saved and shown on /signalements
        log.exception("signalement %s : courriel à l'expéditeur non mis en file", item.report.id)
