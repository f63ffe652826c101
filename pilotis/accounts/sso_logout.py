"""What a provider's back-channel logout does to the portal's sessions (OpenID Connect Back-Channel
Logout 1.0): the token's ``jti`` is remembered so that a replay is refused, then the sessions it
names end at once, on every instance (the state is in the application database).

- a ``sid``: the session(s) opened under that provider session (:func:`bind_sid`, at sign-in);
- a ``sub`` alone: every session of that person's account at this provider;
- both: the sessions of that provider session that belong to that person.

The token itself (signature, ``iss``, ``aud``…) is checked by :mod:`pilotis.web.logout_token`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from pilotis.accounts.db import Database, utcnow
from pilotis.accounts.models import SsoLogoutToken, User, UserSession
from pilotis.accounts.user_sessions import token_hash
from pilotis.accounts.users import end_sessions

KEEP = timedelta(hours=1)
"""How long a used ``jti`` is remembered: longer than a logout token is accepted (its ``iat`` age)."""
REASON = "sso_backchannel"
"""``user_sessions.reason`` of a session the provider ended."""


def sid_key(provider_id: str, sid: str) -> str:
    """What ``user_sessions.sso_sid`` holds: the provider's session id, scoped by provider."""
    return f"{provider_id}|{sid}"[:300]


def bind_sid(db: Database, session_token: str, provider_id: str, sid: str) -> None:
    """Record that the portal session ``session_token`` was opened under the provider's ``sid``."""
    with db.session() as session:
        session.execute(
            update(UserSession)
            .where(UserSession.id_hash == token_hash(session_token))
            .values(sso_sid=sid_key(provider_id, sid))
        )


def first_use(db: Database, issuer: str, jti: str, now: datetime | None = None) -> bool:
    """Remember ``jti`` of ``issuer``; False when it was already used (a replay).

    The primary key decides, so two instances receiving the same token at once accept it once.
    Entries older than :data:`KEEP` are deleted on the way (indexed on ``seen_at``)."""
    now = now or utcnow()
    digest = hashlib.sha256(f"{issuer}\n{jti}".encode()).hexdigest()
    try:
        with db.session() as session:
            session.execute(delete(SsoLogoutToken).where(SsoLogoutToken.seen_at < now - KEEP))
            session.add(SsoLogoutToken(jti_hash=digest, seen_at=now))
    except IntegrityError:
        return False
    return True


def end(db: Database, providers: Iterable[str], sid: str | None, sub: str | None, now: datetime | None = None) -> int:
    """End the sessions the logout token names (see the module's docstring); how many ended."""
    providers = list(providers)
    now = now or utcnow()
    with db.session() as session:
        accounts = select(User.id).where(User.auth_source.in_(providers), User.external_subject == sub)
        if sid:
            query = update(UserSession).where(
                UserSession.sso_sid.in_([sid_key(p, sid) for p in providers]),
                UserSession.revoked_at.is_(None),
            )
            if sub:
                query = query.where(UserSession.user_id.in_(accounts))
            result = session.execute(query.values(revoked_at=now, reason=REASON))
            return int(getattr(result, "rowcount", 0) or 0)
        ended = 0
        for user in session.scalars(select(User).where(User.id.in_(accounts))):
            ended += end_sessions(session, user, REASON)
        return ended
