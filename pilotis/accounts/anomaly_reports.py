"""Anomaly reports (table ``anomaly_reports``): a person reports something wrong in a widget; the
role that answers for it (:mod:`pilotis.core.widget_referent`) follows it up — reçu → en cours →
résolu / rejeté, with a reply the sender reads.

Reports are limited per person (:data:`MAX_PER_HOUR`, counted in the database: shared by every
gunicorn worker, kept across restarts), so the form cannot be used to flood the referents. E-mails
go through the outbox the worker drains (:mod:`pilotis.accounts.alert_outbox`, rule
``signalement:<id>``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from pilotis.accounts.db import Database, utcnow
from pilotis.accounts.models import AnomalyReport, User
from pilotis.accounts.notices import mail_rows

MAX_PER_HOUR = 5
"""Reports a person may send in one hour (all widgets together)."""
MAX_MESSAGE = 2000
"""Characters of a report's description."""
MAX_REPLY = 2000
STATUSES = ("received", "in_progress", "resolved", "rejected")
OPEN = ("received", "in_progress")
"""States a report can still leave (« résolu » and « rejeté » are final)."""


class ReportError(ValueError):
    """A refused report or status change, with a French message naming the field."""


@dataclass(frozen=True)
class Listed:
    """A report as listed: the row and who sent it."""

    report: AnomalyReport
    username: str
    display_name: str
    email: str | None


@dataclass(frozen=True)
class Draft:
    """What the form sends, with what the page showed (filled by the web floor)."""

    dashboard: str
    widget: str
    page: str
    filters: str
    shown: str
    subject: str


def check_message(text: str) -> str:
    """``text`` trimmed (line breaks kept); :class:`ReportError` when empty or too long."""
    message = "\n".join(" ".join(line.split()) for line in (text or "").strip().splitlines()).strip()
    if not message:
        raise ReportError("description : décrivez l'anomalie en une phrase au moins")
    if len(message) > MAX_MESSAGE:
        raise ReportError(f"description : {MAX_MESSAGE} caractères au plus")
    return message


def create(db: Database, user_id: int, draft: Draft, message: str, now: datetime | None = None) -> AnomalyReport:
    """Record a report; :class:`ReportError` when the description is missing or the person sent
    :data:`MAX_PER_HOUR` reports within the last hour."""
    text = check_message(message)
    now = now or utcnow()
    with db.session() as session:
        recent = session.scalar(
            select(func.count())
            .select_from(AnomalyReport)
            .where(AnomalyReport.user_id == user_id, AnomalyReport.created_at > now - timedelta(hours=1))
        )
        if (recent or 0) >= MAX_PER_HOUR:
            raise ReportError(f"trop de signalements : {MAX_PER_HOUR} par heure au plus, réessayez plus tard")
        row = AnomalyReport(
            user_id=user_id,
            dashboard=draft.dashboard,
            widget=draft.widget,
            page=draft.page[:500],
            filters=draft.filters,
            shown=draft.shown,
            message=text,
            subject=draft.subject[:200],
            status="received",
            reply="",
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        session.expunge(row)
        return row


def _listed(query: Any) -> Any:
    return query.join(User, User.id == AnomalyReport.user_id).order_by(
        AnomalyReport.created_at.desc(), AnomalyReport.id.desc()
    )


def of_user(db: Database, user_id: int, limit: int = 100) -> list[AnomalyReport]:
    """The person's reports, newest first."""
    with db.session() as session:
        rows = session.scalars(
            select(AnomalyReport)
            .where(AnomalyReport.user_id == user_id)
            .order_by(AnomalyReport.created_at.desc(), AnomalyReport.id.desc())
            .limit(limit)
        ).all()
        session.expunge_all()
        return list(rows)


def listed(db: Database, subjects: set[str] | None, limit: int = 300) -> list[Listed]:
    """Reports sent to ``subjects`` (None: every report, for an administrator), newest first."""
    query = select(AnomalyReport, User.username, User.display_name, User.email)
    if subjects is not None:
        if not subjects:
            return []
        query = query.where(AnomalyReport.subject.in_(sorted(subjects)))
    with db.session() as session:
        rows = session.execute(_listed(query).limit(limit)).all()
        session.expunge_all()
        return [Listed(*row) for row in rows]


def find(db: Database, report_id: int) -> Listed | None:
    """One report with its sender, or None."""
    query = select(AnomalyReport, User.username, User.display_name, User.email).where(AnomalyReport.id == report_id)
    with db.session() as session:
        row = session.execute(_listed(query)).first()
        session.expunge_all()
        return Listed(*row) if row is not None else None


def set_status(
    db: Database, report_id: int, by: str, status: str, reply: str, now: datetime | None = None
) -> AnomalyReport:
    """Move an open report to ``status`` with an optional ``reply`` (required to reject). The
    caller has checked that ``by`` handles it."""
    if status not in STATUSES or status == "received":
        raise ReportError("état : choisissez « en cours », « résolu » ou « rejeté »")
    text = (reply or "").strip()
    if len(text) > MAX_REPLY:
        raise ReportError(f"réponse : {MAX_REPLY} caractères au plus")
    if status == "rejected" and not text:
        raise ReportError("réponse : dites à l'expéditeur pourquoi le signalement est rejeté")
    with db.session() as session:
        row = session.get(AnomalyReport, report_id, with_for_update=True)
        if row is None or row.status not in OPEN:
            raise ReportError("signalement : il est déjà clos")
        row.status, row.handled_by, row.updated_at = status, by, now or utcnow()
        if text:
            row.reply = text
        session.flush()
        session.expunge(row)
        return row


def queue_mail(
    db: Database, rule: str, recipients: Iterable[str], subject: str, body: str, now: datetime | None = None
) -> int:
    """Put one e-mail per address in the outbox (rule ``rule``, e.g. ``signalement:12``)."""
    rows = mail_rows(rule, recipients, subject, body, now or utcnow())
    with db.session() as session:
        session.add_all(rows)
    return len(rows)
