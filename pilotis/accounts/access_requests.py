"""Access requests: a person asks to open a dashboard they may not see; its referent or an
administrator grants it until a date, or refuses it with a reason.

A granted request is a :class:`pilotis.core.access.Grant` of the person's principal, loaded with
it on every request (:func:`active_grants`, one indexed query), and read only by
:func:`pilotis.core.access.can_view`: no second access path. It ends by itself at ``ends_at``
(the query no longer returns it, and ``can_view`` ignores a grant past its end).

Who may decide is :func:`pilotis.core.access.may_decide_access`; this module keeps the rows.
Requests are limited per person (:data:`MAX_PER_DAY`, one pending request per dashboard): the
form cannot be used to flood the referents.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, select

from pilotis.accounts.audit import to_utc
from pilotis.accounts.db import Database, utcnow
from pilotis.accounts.models import AccessRequest, User
from pilotis.accounts.notices import mail_rows
from pilotis.core.access import Grant

MAX_PER_DAY = 5
"""Requests a person may make in 24 hours (all dashboards together)."""
MAX_REASON = 500
"""Characters of a reason (the request's, or a refusal's)."""
MAX_DAYS = 366
"""Longest period an access may be granted for, in days."""
STATUSES = ("pending", "granted", "refused")

GRANTS_QUERY = (
    select(AccessRequest.dashboard, AccessRequest.ends_at)
    .where(AccessRequest.user_id == bindparam("user_id"))
    .where(AccessRequest.status == "granted")
    .where(AccessRequest.ends_at > bindparam("now"))
)
"""The dashboards granted to an account and not ended (index ``user_id, status``): for API tokens.
A session reads them within its own query (:data:`pilotis.accounts.user_sessions.SESSION_QUERY`)."""


class RequestError(ValueError):
    """A refused request or decision, with a French message naming the field."""


@dataclass(frozen=True)
class Listed:
    """A request as listed: the row and who made it."""

    request: AccessRequest
    username: str
    display_name: str


def active_grants(db: Database, user_id: int, now: datetime | None = None) -> tuple[Grant, ...]:
    """The dashboards granted to account ``user_id`` at ``now`` (naive UTC), with their ends."""
    rows = db.read(GRANTS_QUERY, {"user_id": user_id, "now": now or utcnow()})
    return tuple(Grant(row.dashboard, row.ends_at.replace(tzinfo=UTC)) for row in rows)


def grants_of(rows: Iterable[Any]) -> tuple[Grant, ...]:
    """The grants named by rows of :data:`pilotis.accounts.user_sessions.SESSION_QUERY` (columns
    ``granted``, ``granted_until``; one row per role × grant), each once."""
    found = {(row.granted, row.granted_until) for row in rows if row.granted is not None}
    return tuple(Grant(dashboard, until.replace(tzinfo=UTC)) for dashboard, until in sorted(found))


def check_reason(text: str, field: str = "motif") -> str:
    """``text`` trimmed; :class:`RequestError` when empty or longer than :data:`MAX_REASON`."""
    reason = " ".join((text or "").split())
    if not reason:
        raise RequestError(f"{field} : écrivez en une phrase pourquoi")
    if len(reason) > MAX_REASON:
        raise RequestError(f"{field} : {MAX_REASON} caractères au plus")
    return reason


def create(db: Database, user_id: int, dashboard: str, reason: str, now: datetime | None = None) -> AccessRequest:
    """Record a pending request; :class:`RequestError` when the reason is missing, a request for
    this dashboard is already pending, or the person made :data:`MAX_PER_DAY` requests in 24 h."""
    text = check_reason(reason)
    now = now or utcnow()
    with db.session() as session:
        mine = and_(AccessRequest.user_id == user_id, AccessRequest.created_at > now - timedelta(days=1))
        recent = session.scalar(select(func.count()).select_from(AccessRequest).where(mine)) or 0
        if recent >= MAX_PER_DAY:
            raise RequestError(f"trop de demandes : {MAX_PER_DAY} par jour au plus, réessayez demain")
        pending = session.scalar(
            select(AccessRequest.id).where(
                AccessRequest.user_id == user_id,
                AccessRequest.dashboard == dashboard,
                AccessRequest.status == "pending",
            )
        )
        if pending is not None:
            raise RequestError("tableau de bord : une demande est déjà en attente pour cette page")
        row = AccessRequest(user_id=user_id, dashboard=dashboard, reason=text, status="pending", created_at=now)
        row.decision_reason = ""
        session.add(row)
        session.flush()
        session.expunge(row)
        return row


def of_user(db: Database, user_id: int, limit: int = 50) -> list[AccessRequest]:
    """The account's requests, newest first."""
    with db.session() as session:
        rows = session.scalars(
            select(AccessRequest)
            .where(AccessRequest.user_id == user_id)
            .order_by(AccessRequest.created_at.desc(), AccessRequest.id.desc())
            .limit(limit)
        ).all()
        session.expunge_all()
        return list(rows)


def listed(db: Database, status: str | None = "pending", limit: int = 200) -> list[Listed]:
    """Requests with their requester (``status`` None: every status), newest first."""
    query: Any = select(AccessRequest, User.username, User.display_name).join(User, User.id == AccessRequest.user_id)
    if status is not None:
        query = query.where(AccessRequest.status == status)
    query = query.order_by(AccessRequest.created_at.desc(), AccessRequest.id.desc()).limit(limit)
    with db.session() as session:
        rows = session.execute(query).all()
        session.expunge_all()
        return [Listed(row[0], row[1], row[2]) for row in rows]


def find(db: Database, request_id: int) -> Listed | None:
    """One request with its requester, or None."""
    with db.session() as session:
        row = session.execute(
            select(AccessRequest, User.username, User.display_name)
            .join(User, User.id == AccessRequest.user_id)
            .where(AccessRequest.id == request_id)
        ).first()
        session.expunge_all()
        return Listed(row[0], row[1], row[2]) if row is not None else None


def end_of(day_text: str, today: date) -> datetime:
    """The end of an access granted « jusqu'au » ``day_text`` (``AAAA-MM-JJ``, included): the next
    midnight in Paris, as naive UTC. :class:`RequestError` for a date in the past or beyond
    :data:`MAX_DAYS`."""
    try:
        day = date.fromisoformat((day_text or "").strip())
    except ValueError:
        raise RequestError("date de fin : écrivez une date (AAAA-MM-JJ)") from None
    if day < today:
        raise RequestError("date de fin : la date est passée")
    if day > today + timedelta(days=MAX_DAYS):
        raise RequestError(f"date de fin : {MAX_DAYS} jours au plus")
    return to_utc(day + timedelta(days=1))


def decide(
    db: Database, request_id: int, by: str, *, ends_at: datetime | None, reason: str, now: datetime | None = None
) -> AccessRequest:
    """Grant (``ends_at`` set) or refuse (``ends_at`` None, ``reason`` required) a pending request.
    The caller has checked that ``by`` may (:func:`pilotis.core.access.may_decide_access`)."""
    text = " ".join((reason or "").split())[:MAX_REASON] if ends_at is not None else check_reason(reason)
    with db.session() as session:
        row = session.get(AccessRequest, request_id, with_for_update=True)
        if row is None or row.status != "pending":
            raise RequestError("demande : elle n'est plus en attente")
        row.status = "granted" if ends_at is not None else "refused"
        row.ends_at = ends_at
        row.decided_at = now or utcnow()
        row.decided_by = by
        row.decision_reason = text
        session.flush()
        session.expunge(row)
        return row


def queue_mail(
    db: Database, request_id: int, recipients: Iterable[str], subject: str, body: str, now: datetime | None = None
) -> int:
    """Put one e-mail per address in the outbox the worker sends (``alerts_outbox`` job, SMTP
    settings ``PILOTIS_SMTP_*``: :mod:`pilotis.accounts.alert_outbox`); returns how many."""
    rows = mail_rows(f"acces:{request_id}", recipients, subject, body, now or utcnow())
    with db.session() as session:
        session.add_all(rows)
    return len(rows)


def end_now(db: Database, request_id: int, now: datetime | None = None) -> AccessRequest:
    """Close a granted access before its end date (it ends at ``now``, as if its date had come).
    The caller has checked who may (:func:`pilotis.core.access.may_decide_access`)."""
    now = now or utcnow()
    with db.session() as session:
        row = session.get(AccessRequest, request_id, with_for_update=True)
        if row is None or row.status != "granted" or row.ends_at is None or row.ends_at <= now:
            raise RequestError("accès : il n'est plus en cours")
        row.ends_at = now
        session.flush()
        session.expunge(row)
        return row
