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
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from pilotis.accounts.db import Database, utcnow
from pilotis.accounts.models import LoginAttempt

HISTORY_ROWS = 500
"""At most this many recent failures are read per check (more cannot change the answer)."""
KEEP = timedelta(days=1)
"""Attempts older than this are purged (on successful logins)."""


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
        horizon = now - 2 * self.window
        key = address_key(ip)
        with self.db.session() as session:
            last_success = session.scalar(
                select(func.max(LoginAttempt.created_at)).where(
                    LoginAttempt.username == username, LoginAttempt.success.is_(True)
                )
            )
            since = max(horizon, last_success) if last_success else horizon
            by_account = self._failures(session, LoginAttempt.username == username, since)
            by_ip = self._failures(session, LoginAttempt.ip == key, horizon)
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
    def _failures(session: Session, condition: ColumnElement[bool], since: datetime) -> list[datetime]:
        rows = session.scalars(
            select(LoginAttempt.created_at)
            .where(condition, LoginAttempt.success.is_(False), LoginAttempt.created_at > since)
            .order_by(LoginAttempt.created_at.desc())
            .limit(HISTORY_ROWS)
        ).all()
        return sorted(rows)

    def record(self, username: str, ip: str | None, success: bool, now: datetime | None = None) -> None:
        """Count one attempt; a success also purges attempts older than a day."""
        now = now or utcnow()
        with self.db.session() as session:
            session.add(LoginAttempt(username=username, ip=address_key(ip), success=success, created_at=now))
            if success:
                session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < now - KEEP))

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
