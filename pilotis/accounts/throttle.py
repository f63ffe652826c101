"""Throttling of failed logins, per account name and per client address.

Attempts are stored in the database (table ``login_attempts``), so the count is shared by every
gunicorn worker and survives a restart. Rules (limits in :class:`pilotis.core.settings.Settings`):

- ``login_max_failures_account`` failures for one account name within ``login_lockout_minutes``
  lock that name for ``login_lockout_minutes`` after the last of them — whether or not the
  account exists, so that the lockout does not reveal which names exist. A successful login
  resets the account's count;
- ``login_max_failures_ip`` failures from one address (an IPv6 /64 network) within the same
  window lock that address (a success does not reset it: one valid account must not let an
  attacker keep guessing others);
- while locked, nothing is checked: even the right password fails, and the attempt is not counted.

Counting is atomic across workers and instances: :meth:`Throttle.begin` records the attempt as
a failure *before* the password is checked, in one transaction that is serialised per account
name and per address (PostgreSQL: two transaction-scoped advisory locks; SQLite: the INSERT,
the transaction's first statement, takes the database write lock), and counts the failures
recorded before it. Concurrent guesses therefore see each other even while their passwords are
still being hashed: at most ``login_max_failures_account`` of them are ever evaluated.
:meth:`Throttle.finish` turns the attempt into a success when the password was right.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select, text, update
from sqlalchemy.orm import Session

from pilotis.accounts.db import Database, utcnow
from pilotis.accounts.models import LoginAttempt

HISTORY_ROWS = 500
"""At most this many recent failures are read per check (more cannot change the answer)."""
KEEP = timedelta(days=1)
"""Attempts older than this are purged (on successful logins)."""
LOCK_SPACE_ACCOUNT = 7470697
LOCK_SPACE_ADDRESS = 7470698
"""PostgreSQL advisory lock classes (first key) of the per-name and per-address counters."""
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), CAST(:key AS integer))")


def lock_key(value: str) -> int:
    """A signed 32-bit key for ``value`` (advisory locks take integers)."""
    return int.from_bytes(hashlib.sha256(value.encode("utf-8")).digest()[:4], "big", signed=True)


def address_key(ip: str | None) -> str:
    """What the per-address counter is keyed on: the IPv4 address, or the IPv6 /64 network."""
    if not ip:
        return "inconnue"
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip.strip()[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def lock_end(failures: Sequence[datetime], limit: int, window: timedelta, lockout: timedelta) -> datetime | None:
    """When the lock caused by ``failures`` (ascending times) ends, or None if they lock nothing.

    A lock starts at any failure that is the ``limit``-th within ``window`` and lasts ``lockout``.
    """
    end: datetime | None = None
    for i in range(limit - 1, len(failures)):
        if failures[i] - failures[i - limit + 1] <= window:
            candidate = failures[i] + lockout
            end = candidate if end is None or candidate > end else end
    return end


@dataclass(frozen=True)
class Admission:
    """The answer of :meth:`Throttle.begin`: an attempt to evaluate, or the minutes of lockout."""

    attempt: int | None
    locked_minutes: int | None


@dataclass(frozen=True)
class Throttle:
    """The failed-login counters of one database."""

    db: Database
    max_account: int = 5
    max_ip: int = 20
    minutes: int = 15

    @property
    def window(self) -> timedelta:
        """Counting window (and lockout duration)."""
        return timedelta(minutes=self.minutes)

    def locked_minutes(self, username: str, ip: str | None, now: datetime | None = None) -> int | None:
        """Minutes left (rounded up, at least 1) if the name or the address is locked, else None."""
        now = now or utcnow()
        with self.db.session() as session:
            return self._locked(session, username, address_key(ip), now)

    def begin(self, username: str, ip: str | None, now: datetime | None = None) -> Admission:
        """Admit one login attempt, atomically: refused while locked, else counted as a failure.

        The caller checks the password only when :attr:`Admission.attempt` is set, then calls
        :meth:`finish`. See the module docstring for why this is atomic on both databases.
        """
        now = now or utcnow()
        key = address_key(ip)
        with self.db.session() as session:
            if self.db.dialect == "postgresql":  # always name first, then address: no deadlock
                session.execute(_ADVISORY_LOCK, {"space": LOCK_SPACE_ACCOUNT, "key": lock_key(username)})
                session.execute(_ADVISORY_LOCK, {"space": LOCK_SPACE_ADDRESS, "key": lock_key(key)})
            attempt = LoginAttempt(username=username, ip=key, success=False, created_at=now)
            session.add(attempt)
            session.flush()  # SQLite: the first statement of the transaction takes the write lock
            minutes = self._locked(session, username, key, now, exclude=attempt.id)
            if minutes is not None:
                session.delete(attempt)  # while locked, attempts are not counted
                return Admission(None, minutes)
            return Admission(attempt.id, None)

    def finish(self, attempt: int, success: bool, now: datetime | None = None) -> None:
        """Settle an attempt admitted by :meth:`begin`; a success also purges old attempts."""
        if not success:
            return  # already counted as a failure
        now = now or utcnow()
        with self.db.session() as session:
            session.execute(update(LoginAttempt).where(LoginAttempt.id == attempt).values(success=True))
            session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < now - KEEP))

    def _locked(
        self, session: Session, username: str, key: str, now: datetime, exclude: int | None = None
    ) -> int | None:
        horizon = now - 2 * self.window
        last_success = session.scalar(
            select(func.max(LoginAttempt.created_at)).where(
                LoginAttempt.username == username, LoginAttempt.success.is_(True)
            )
        )
        since = max(horizon, last_success) if last_success else horizon
        by_account = self._failures(session, LoginAttempt.username == username, since, exclude)
        by_ip = self._failures(session, LoginAttempt.ip == key, horizon, exclude)
        ends = [
            e
            for e in (
                lock_end(by_account, self.max_account, self.window, self.window),
                lock_end(by_ip, self.max_ip, self.window, self.window),
            )
            if e and e > now
        ]
        if not ends:
            return None
        return max(1, math.ceil((max(ends) - now).total_seconds() / 60))

    @staticmethod
    def _failures(
        session: Session, condition: ColumnElement[bool], since: datetime, exclude: int | None = None
    ) -> list[datetime]:
        query = select(LoginAttempt.created_at).where(
            condition, LoginAttempt.success.is_(False), LoginAttempt.created_at > since
        )
        if exclude is not None:
            query = query.where(LoginAttempt.id != exclude)
        rows = session.scalars(query.order_by(LoginAttempt.created_at.desc()).limit(HISTORY_ROWS)).all()
        return sorted(rows)

    def reset(self, username: str) -> None:
        """Forget the failures of ``username`` (after an administrator sets a new password)."""
        with self.db.session() as session:
            session.execute(
                delete(LoginAttempt).where(LoginAttempt.username == username, LoginAttempt.success.is_(False))
            )


def lockout_message(minutes: int) -> str:
    """The French lockout message (the same for existing and unknown accounts)."""
    unit = "minute" if minutes == 1 else "minutes"
    return f"Trop de tentatives : réessayez dans {minutes} {unit}."
