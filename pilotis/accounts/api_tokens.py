"""Bearer tokens of the JSON API (table ``api_tokens``): create, list, revoke, authenticate, admit.

Two kinds:

- **personal** tokens, created and revoked by a user on the account page: the token acts as that
  account *with its current rights* (department, roles, territory, read at each request), and
  stops working when the account is disabled;
- **service accounts**, created by an administrator (``python -m pilotis tokens create-service``):
  a name, a direction, roles, an optional territory restriction and an expiry, like a user
  without a password.

What is stored: the SHA-256 of the token (``token_hash``), never the token. A fast hash is right
here, unlike for passwords: the token is 256 bits from :func:`secrets.token_urlsafe`, so a copy of
the table cannot be brute-forced whatever the hash speed (2**256 guesses), while Argon2 only
protects low-entropy secrets and would cost ~50 ms on every API request. The lookup is an
indexed equality on the hash (a timing difference reveals nothing usable: the attacker would
have to know the hash's preimage already). ``prefix`` (the token's first 16 characters) is kept
to recognise a token in lists and in the audit log.

Every admitted call (:func:`admit`) is counted for the rate limit, stamps ``last_used_at`` and
writes an ``api_call`` audit line naming the token, in ONE transaction: an ``UPDATE … RETURNING``
on the token's row is atomic across workers and instances (PostgreSQL: row lock; SQLite: the
database write lock), the way :mod:`pilotis.accounts.throttle` counts logins in the database
rather than per process.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, insert, select, update

from pilotis.accounts.access_requests import active_grants
from pilotis.accounts.audit import event_values
from pilotis.accounts.db import Database, utcnow
from pilotis.accounts.models import ApiToken, AuditEvent, User, UserRole
from pilotis.core.access import Principal

PREFIX = "pilotis_"
TOKEN = re.compile(r"pilotis_[A-Za-z0-9_-]{43}")
"""What :func:`new_token` produces; anything else is refused before hashing."""
SHOWN = 16
"""Characters of the token kept in clear (``prefix``): ``pilotis_`` and 8 random ones."""
SERVICE_ROLES = ("agent", "manager", "president", "admin")
"""Roles a service account may hold (never ``display``: that is a wall screen's link)."""
PERSONAL_DAYS = 90
"""Default lifetime of a personal token; at most :data:`MAX_DAYS`."""
MAX_DAYS = 366

TOKEN_QUERY = (
    select(
        ApiToken.id,
        ApiToken.name,
        ApiToken.kind,
        ApiToken.prefix,
        ApiToken.department,
        ApiToken.roles,
        ApiToken.territory,
        ApiToken.rate_per_minute,
        ApiToken.expires_at,
        ApiToken.revoked_at,
        ApiToken.user_id,
        User.username,
        User.department.label("user_department"),
        User.territory.label("user_territory"),
        User.active,
        UserRole.role,
    )
    .select_from(ApiToken)
    .outerjoin(User, User.id == ApiToken.user_id)
    .outerjoin(UserRole, UserRole.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)
"""The token, its account and the account's roles (one row per role), by the token's hash."""


@dataclass(frozen=True)
class TokenUse:
    """An authenticated API caller: who they act as, and which token they used."""

    token_id: int
    name: str
    prefix: str
    principal: Principal
    rate_per_minute: int | None

    @property
    def actor(self) -> str:
        """Who the audit log names: the account (personal token) or ``service:<name>``."""
        return self.principal.username


def token_hash(token: str) -> str:
    """Hex SHA-256 of a token: what the table keeps (see the module docstring)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh token: ``pilotis_`` and 43 URL-safe characters (256 random bits)."""
    return PREFIX + secrets.token_urlsafe(32)


def _insert(db: Database, row: ApiToken) -> tuple[ApiToken, str]:
    token = new_token()
    row.token_hash = token_hash(token)
    row.prefix = token[:SHOWN]
    row.rate_window = 0
    row.rate_count = 0
    with db.session() as session:
        session.add(row)
        session.flush()
    return row, token


def _expiry(days: int) -> datetime:
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"durée de validité : entre 1 et {MAX_DAYS} jours")
    return utcnow() + timedelta(days=days)


def check_name(name: str) -> str:
    """The name trimmed; a French ValueError when empty or too long."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValueError("nom du jeton : entre 1 et 100 caractères")
    return name


def create_personal(db: Database, user_id: int, name: str, days: int = PERSONAL_DAYS) -> tuple[ApiToken, str]:
    """A personal token of the account ``user_id``; returns the row and the token (shown once)."""
    row = ApiToken(name=check_name(name), kind="personal", user_id=user_id, roles="", expires_at=_expiry(days))
    return _insert(db, row)


def create_service(
    db: Database,
    name: str,
    *,
    department: str | None,
    roles: list[str],
    territory: str | None,
    days: int,
    author: str | None,
    rate_per_minute: int | None = None,
) -> tuple[ApiToken, str]:
    """A service account's token; returns the row and the token (shown once)."""
    name = check_name(name)
    unknown = sorted(set(roles) - set(SERVICE_ROLES))
    if unknown or not roles:
        raise ValueError(f"rôles : un ou plusieurs parmi {', '.join(SERVICE_ROLES)} (reçu : {', '.join(roles) or '—'})")
    if territory is not None and not re.fullmatch(r"(epci|commune|departement):[0-9A-Za-z]{1,15}", territory):
        raise ValueError("territoire : `epci:SIREN`, `commune:INSEE` ou `departement:CODE`")
    if rate_per_minute is not None and rate_per_minute < 1:
        raise ValueError("limite de requêtes : au moins 1 par minute")
    with db.session() as session:
        taken = session.scalar(
            select(ApiToken.id).where(ApiToken.kind == "service", ApiToken.name == name, ApiToken.revoked_at.is_(None))
        )
    if taken is not None:
        raise ValueError(f"un compte de service actif s'appelle déjà « {name} »")
    row = ApiToken(
        name=name,
        kind="service",
        department=department,
        roles=" ".join(sorted(set(roles))),
        territory=territory,
        rate_per_minute=rate_per_minute,
        created_by=author,
        expires_at=_expiry(days),
    )
    return _insert(db, row)


def tokens(db: Database, *, user_id: int | None = None, kind: str | None = None) -> list[ApiToken]:
    """Tokens, newest first: of one account (``user_id``), of one kind, or all."""
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    if kind is not None:
        query = query.where(ApiToken.kind == kind)
    with db.session() as session:
        return list(session.scalars(query))


def revoke(db: Database, token_id: int, by: str | None, *, user_id: int | None = None) -> ApiToken | None:
    """Revoke a token (of ``user_id`` only, when given); None when there is no such active token."""
    with db.session() as session:
        row = session.get(ApiToken, token_id)
        if row is None or row.revoked_at is not None or (user_id is not None and row.user_id != user_id):
            return None
        row.revoked_at = utcnow()
        row.revoked_by = by
        return row


def authenticate(db: Database, token: str, now: datetime | None = None) -> TokenUse | None:
    """The caller of ``token``, or None: unknown, malformed, expired, revoked, or its account disabled."""
    if TOKEN.fullmatch(token or "") is None:
        return None
    rows = db.read(TOKEN_QUERY, {"token_hash": token_hash(token)})
    if not rows:
        return None
    first = rows[0]
    now = now or utcnow()
    if first.revoked_at is not None or first.expires_at <= now:
        return None
    if first.kind == "personal":
        if first.username is None or not first.active:
            return None
        principal = Principal(
            username=first.username,
            department=first.user_department,
            roles=frozenset(row.role for row in rows if row.role and row.role != "display"),
            territory=first.user_territory,
            grants=active_grants(db, first.user_id, now),  # the account's granted dashboards, as a session's
        )
    else:
        principal = Principal(
            username=f"service:{first.name}",
            department=first.department,
            roles=frozenset(first.roles.split()),
            territory=first.territory,
        )
    return TokenUse(first.id, first.name, first.prefix, principal, first.rate_per_minute)


def admit(db: Database, use: TokenUse, limit: int, *, ip: str | None, target: str, now: float) -> int | None:
    """Count one call of ``use`` in the current minute; audit and return None when within
    ``limit`` (or the token's own limit), else the seconds until the next minute (nothing audited:
    a flood must not fill the audit log)."""
    window = int(now // 60)
    allowed = use.rate_per_minute or limit
    statement: Any = (
        update(ApiToken)
        .where(ApiToken.id == use.token_id)
        .values(
            rate_count=case((ApiToken.rate_window == window, ApiToken.rate_count + 1), else_=1),
            rate_window=window,
            last_used_at=utcnow(),
        )
        .returning(ApiToken.rate_count)
    )
    with db.engine.begin() as connection:  # Core, one transaction: the ORM costs more than the SQL here
        count = connection.execute(statement).scalar() or 0
        if count > allowed:
            return max(1, 60 - int(now % 60))
        detail = f"jeton « {use.name} » ({use.prefix}…)"
        connection.execute(insert(AuditEvent).values(**event_values("api_call", use.actor, ip, target, detail)))
    return None
