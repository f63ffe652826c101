"""The audit log (table ``audit_events``): who signed in, saw, was refused, administered, exported.

:func:`record` is the one way to write it (login views, access-control hooks, the command line).
:func:`search` and :func:`write_csv` read it for the admin page and ``python -m pilotis audit
export``. Times are stored in UTC and shown in French local time (Europe/Paris).
"""

from __future__ import annotations

import csv
import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

import flask
from sqlalchemy import Select, func, select
from sqlalchemy.exc import SQLAlchemyError

from pilotis.accounts.db import Database, get_db, utcnow
from pilotis.accounts.models import AuditEvent
from pilotis.core import metrics
from pilotis.core.export_formats import neutralise

log = logging.getLogger(__name__)
LOCAL = ZoneInfo("Europe/Paris")

EVENTS: dict[str, str] = {
    "login_success": "Connexion réussie",
    "login_failure": "Échec de connexion",
    "login_locked": "Connexion bloquée (trop de tentatives)",
    "logout": "Déconnexion",
    "sso_denied": "Connexion unique refusée (aucune règle)",
    "sso_failure": "Échec de connexion unique",
    "sso_rights_changed": "Droits modifiés par l'authentification unique",
    "sso_logout": "Sessions fermées par le fournisseur d'identité",
    "sessions_revoked": "Sessions fermées (déconnexion partout)",
    "page_view": "Consultation d'une page",
    "access_denied": "Accès refusé",
    "user_created": "Compte créé",
    "user_updated": "Compte modifié",
    "user_password": "Mot de passe changé",
    "user_disabled": "Compte désactivé",
    "user_enabled": "Compte réactivé",
    "audit_export": "Export du journal d'audit",
    "export": "Export de données",
    "report": "Rapport de commission (PDF)",
    "source_refresh": "Rafraîchissement d'une source",
    "seance_snapshot": "Séance figée (instantané)",
    "display_link_created": "Lien d'affichage créé",
    "display_link_revoked": "Lien d'affichage révoqué",
    "display_link_refused": "Lien d'affichage refusé",
    "api_call": "Appel de l'API",
    "api_token_created": "Jeton d'API créé",
    "api_token_revoked": "Jeton d'API révoqué",
    "sensor_token_created": "Jeton d'envoi de capteurs créé",
    "sensor_token_revoked": "Jeton d'envoi de capteurs révoqué",
    "referent_vacant": "Référent à désigner (compte désactivé ou supprimé)",
    "referents_import": "Import de l'annuaire des référents",
    "alert_ack": "Alerte acquittée",
    "alert_silence": "Alerte mise en silence",
    "access_requested": "Demande d'accès envoyée",
    "access_granted": "Accès accordé",
    "access_refused": "Demande d'accès refusée",
    "access_ended": "Accès accordé fermé avant sa fin",
    "anomaly_reported": "Anomalie signalée",
    "anomaly_status": "Suivi d'un signalement (état changé)",
    "referent_late_notice": "Jeu de données en retard : référent prévenu",
}
"""Event types and their French labels (add one here before recording it)."""

_UNSET: Any = object()


def _current_username() -> str | None:
    if not flask.has_request_context():
        return None
    from flask_login import current_user

    return current_user.username if current_user and current_user.is_authenticated else None


def _current_ip() -> str | None:
    return flask.request.remote_addr if flask.has_request_context() else None


def record(
    event: str,
    username: str | None = _UNSET,
    detail: str = "",
    ip: str | None = _UNSET,
    *,
    target: str | None = None,
    db: Database | None = None,
) -> bool:
    """Write one audit line. Returns False (and logs) if the database refused it.

    ``username`` and ``ip`` default to the signed-in user and the client address of the current
    request; ``target`` names what the event is about (page path, dashboard id, account…).
    Never put a password or a personal datum of a citizen in ``detail``.
    """
    if event not in EVENTS:
        raise ValueError(f"type d'événement d'audit inconnu : {event!r} (voir audit.EVENTS)")
    metrics.audit_event(event)
    username = _current_username() if username is _UNSET else username
    address = _current_ip() if ip is _UNSET else ip
    try:
        database = db or get_db()
        with database.session() as session:
            session.add(AuditEvent(**event_values(event, username, address, target, detail)))
        return True
    except SQLAlchemyError:
        log.exception("audit : impossible d'enregistrer %s", event)
        return False


def event_values(event: str, username: str | None, ip: str | None, target: str | None, detail: str) -> dict[str, Any]:
    """The columns of one audit line, cut to their sizes, for a caller that writes it in its own
    transaction (:func:`record`, and an API call counted and audited in one commit)."""
    if event not in EVENTS:
        raise ValueError(f"type d'événement d'audit inconnu : {event!r} (voir audit.EVENTS)")
    return {
        "event": event,
        "username": (username or None) and username[:150],
        "ip": (ip or None),
        "target": (target or None) and target[:300],
        "detail": (detail or "")[:2000],
        "created_at": utcnow(),
    }


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class AuditFilter:
    """Filters of the admin page and of the CSV export (dates are local, both bounds included)."""

    event: str | None = None
    username: str | None = None
    since: date | None = None
    until: date | None = None

    def apply(self, query: Select) -> Select:
        """``query`` restricted to these filters."""
        if self.event:
            query = query.where(AuditEvent.event == self.event)
        if self.username:
            pattern = self.username.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(func.lower(AuditEvent.username).like(f"{pattern}%", escape="\\"))
        if self.since:
            query = query.where(AuditEvent.created_at >= to_utc(self.since))
        if self.until:
            query = query.where(AuditEvent.created_at < to_utc(self.until + timedelta(days=1)))
        return query


def to_utc(day: date) -> datetime:
    """Midnight of ``day`` in Paris, as a naive UTC datetime (how rows are stored)."""
    local = datetime.combine(day, time.min, tzinfo=LOCAL)
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def local_time(stored: datetime) -> datetime:
    """A stored (naive UTC) time in Paris time."""
    return stored.replace(tzinfo=ZoneInfo("UTC")).astimezone(LOCAL)


@dataclass
class AuditPage:
    """One page of results, newest first."""

    rows: list[AuditEvent] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = 50

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, math.ceil(self.total / self.per_page))


def search(db: Database, filters: AuditFilter, page: int = 1, per_page: int = 50) -> AuditPage:
    """The ``page``-th page of events matching ``filters``, newest first."""
    with db.session() as session:
        total = session.scalar(filters.apply(select(func.count(AuditEvent.id)))) or 0
        pages = max(1, math.ceil(total / per_page))
        page = min(max(1, page), pages)
        rows = session.scalars(
            filters.apply(select(AuditEvent))
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
    return AuditPage(rows=list(rows), total=total, page=page, per_page=per_page)


CSV_HEADER = ["date", "evenement", "libelle", "utilisateur", "adresse", "cible", "detail"]


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (typed user names are untrusted)."""
    return neutralise("" if value is None else str(value))


def write_csv(db: Database, out: IO[str], filters: AuditFilter, batch: int = 1000) -> int:
    """Write the matching events (oldest first) as CSV to ``out``; returns the number of rows."""
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    count = 0
    last_id = 0
    while True:
        with db.session() as session:
            rows = session.scalars(
                filters.apply(select(AuditEvent)).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
            ).all()
        if not rows:
            return count
        for row in rows:
            writer.writerow(
                [
                    local_time(row.created_at).isoformat(timespec="seconds"),
                    row.event,
                    EVENTS.get(row.event, row.event),
                    _cell(row.username),
                    _cell(row.ip),
                    _cell(row.target),
                    _cell(row.detail),
                ]
            )
        count += len(rows)
        last_id = rows[-1].id


def parse_day(text: str | None) -> date | None:
    """A date typed as `2026-05-21` or `21/05/2026`; None when empty; ValueError when unreadable."""
    if not text or not text.strip():
        return None
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"date `{text}` illisible : écrivez 2026-05-21 ou 21/05/2026")
