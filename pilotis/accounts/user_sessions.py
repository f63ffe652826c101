"""Server-side sign-in sessions: opened at login, looked up on every request, revocable.

The signed Flask session cookie carries a random session id (Flask-Login's ``_user_id``); the
table ``user_sessions`` holds only its SHA-256, the account, the absolute end and, once ended,
when and why. A session is live while it is not revoked, not past its absolute end
(``session_max_hours``, 12 h by default) and not idle for longer than ``session_minutes`` (also
enforced by the signed cookie's own age). Because the state is in the application database,
a logout, a "sign out everywhere" or an account change made by any worker or instance applies
to the very next request served by any other.

Cost per request: :data:`SESSION_QUERY` reads the session, its account, the account's roles and
the dashboards granted to it now (access requests) in one query on the session's primary key (it
replaces the query that read the account alone).
``last_seen_at`` is written at most once per :data:`TOUCH_EVERY` per session, not on each
request: a dashboard page fires a dozen callbacks at once, and writing on each would turn every
read-only callback into a write transaction (on SQLite, a database-wide write lock that the
workers would queue on; on PostgreSQL, a new row version and WAL record per callback). The
price is that the server-side idle check is ``TOUCH_EVERY`` less precise, which the cookie's
own expiry (exact, refreshed on each request) makes up for.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, select, update
from sqlalchemy.orm import Session

from pilotis.accounts.db import Database, utcnow
from pilotis.accounts.models import AccessRequest, User, UserRole, UserSession

TOUCH_EVERY = timedelta(minutes=5)
"""``last_seen_at`` is rewritten when older than this (at most once per 5 minutes per session)."""
KEEP_ENDED = timedelta(days=7)
"""Sessions that ended longer ago than this are deleted (at the account's next login)."""
TOKEN_BYTES = 32
TOKEN = re.compile(r"[A-Za-z0-9_-]{1,100}")
"""What ``secrets.token_urlsafe`` produces (43 characters here); anything else is not ours."""

SESSION_QUERY = (
    select(
        User.id,
        User.username,
        User.display_name,
        User.department,
        User.territory,
        User.active,
        UserSession.last_seen_at,
        UserSession.expires_at,
        UserSession.revoked_at,
        UserRole.role,
        AccessRequest.dashboard.label("granted"),
        AccessRequest.ends_at.label("granted_until"),
    )
    .select_from(UserSession)
    .join(User, User.id == UserSession.user_id)
    .outerjoin(UserRole, UserRole.user_id == User.id)
    .outerjoin(
        AccessRequest,
        and_(
            AccessRequest.user_id == User.id,
            AccessRequest.status == "granted",
            AccessRequest.ends_at > bindparam("now"),
        ),
    )
    .where(UserSession.id_hash == bindparam("id_hash"))
)
"""The session, its account, the account's roles and its grants not ended at ``now`` (one row per
role × grant: a handful), by primary key; the grants through ``ix_access_requests_user_id_status``.

Built once: it runs on every request, Dash callbacks included."""


def token_hash(token: str) -> str:
    """What is stored of a session id: its hex SHA-256 (the id itself never reaches the table)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def well_formed(token: str) -> bool:
    """True when ``token`` may be a session id (URL-safe base64, bounded): checked before hashing."""
    return TOKEN.fullmatch(token) is not None


def touch_interval(idle_minutes: float) -> timedelta:
    """How stale ``last_seen_at`` may get: :data:`TOUCH_EVERY`, less for very short idle limits."""
    return min(TOUCH_EVERY, timedelta(minutes=idle_minutes) / 2)


def open_session(db: Database, user_id: int, max_hours: float, now: datetime | None = None) -> str:
    """Start a session of ``user_id``; returns the random id the cookie will carry.

    Also deletes the account's sessions that ended more than :data:`KEEP_ENDED` ago (indexed on
    ``user_id``: the table does not grow with each login).
    """
    now = now or utcnow()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with db.session() as session:
        session.execute(
            delete(UserSession).where(UserSession.user_id == user_id, UserSession.expires_at < now - KEEP_ENDED)
        )
        session.add(
            UserSession(
                id_hash=token_hash(token),
                user_id=user_id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=max_hours),
            )
        )
    return token


def is_live(row: Any, idle_minutes: float, now: datetime | None = None) -> bool:
    """True when the session of ``row`` (a :data:`SESSION_QUERY` row) may serve a request now."""
    now = now or utcnow()
    if row.revoked_at is not None or now >= row.expires_at:
        return False
    return now <= row.last_seen_at + timedelta(minutes=idle_minutes) + touch_interval(idle_minutes)


def needs_touch(row: Any, idle_minutes: float, now: datetime | None = None) -> bool:
    """True when ``last_seen_at`` is older than the touch interval (then :func:`touch`)."""
    return (now or utcnow()) - row.last_seen_at >= touch_interval(idle_minutes)


def touch(db: Database, id_hash: str, idle_minutes: float, now: datetime | None = None) -> None:
    """Record activity; conditional, so that workers serving the same session write once."""
    now = now or utcnow()
    with db.session() as session:
        session.execute(
            update(UserSession)
            .where(
                UserSession.id_hash == id_hash,
                UserSession.revoked_at.is_(None),
                UserSession.last_seen_at <= now - touch_interval(idle_minutes),
            )
            .values(last_seen_at=now)
        )


def revoke(db: Database, token: str, reason: str, now: datetime | None = None) -> bool:
    """End one session (logout); False when it was unknown or already ended."""
    with db.session() as session:
        result = session.execute(
            update(UserSession)
            .where(UserSession.id_hash == token_hash(token), UserSession.revoked_at.is_(None))
            .values(revoked_at=now or utcnow(), reason=reason)
        )
    return bool(getattr(result, "rowcount", 0))


def revoke_all(session: Session, user_id: int, reason: str, now: datetime | None = None) -> int:
    """End every open session of ``user_id`` inside the caller's transaction; returns how many."""
    now = now or utcnow()
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None), UserSession.expires_at > now)
        .values(revoked_at=now, reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)
