"""What people do about alerts, and what /alertes reads: acknowledge (from the page or with the
one-time link of a message), silence a rule or an instance until a date, list the current
alerts, the history and the deliveries. The caller audits (``audit.record``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select

from pilotis.accounts.alert_notify import read_ack_token
from pilotis.accounts.db import Database
from pilotis.accounts.models import AlertOutbox, AlertSilence, AlertState, AlertTransition
from pilotis.accounts.users import UserError, find

ACKNOWLEDGEABLE = ("firing", "recovering")
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class AckResult:
    """The outcome of an acknowledgement, with a French sentence for the person."""

    ok: bool
    message: str
    rule: str = ""
    instance: str = ""


def acknowledge(
    db: Database, rule: str, instance: str, who: str, now: dt.datetime, episode: int | None = None
) -> AckResult:
    """Acknowledge the current alert of ``instance``: no more reminders, no escalation.

    ``episode`` (a link's): only that alert episode, and only once — a second use, or a link of an
    alert that ended or fired again since, is refused.
    """
    with db.session() as session:
        row = session.get(AlertState, (rule, instance), with_for_update=True)
        if row is None or row.state not in ACKNOWLEDGEABLE or (episode is not None and row.episode != episode):
            return AckResult(False, "Cette alerte n'est plus en cours : rien à acquitter.", rule, instance)
        if row.acked_at is not None:
            return AckResult(False, f"Alerte déjà acquittée par {row.acked_by or '?'}.", rule, instance)
        row.acked_at, row.acked_by = now, who[:254]
    return AckResult(True, "Alerte acquittée : plus de rappel ni d'escalade pour cet épisode.", rule, instance)


def acknowledge_token(db: Database, secret: str, token: str, now: dt.datetime) -> AckResult:
    """Acknowledge with the signed link of a message (single use, see :func:`acknowledge`)."""
    found = read_ack_token(secret, token)
    if found is None:
        return AckResult(False, "Lien d'acquittement invalide ou expiré.")
    rule, instance, episode = found
    return acknowledge(db, rule, instance, "lien du message", now, episode)


def token_target(secret: str, token: str) -> tuple[str, str, int] | None:
    """What a link names (to show it before the person confirms), None when it is not valid."""
    return read_ack_token(secret, token)


def silence(
    db: Database, rule: str, instance: str | None, ends_at: dt.datetime, reason: str, who: str, now: dt.datetime
) -> AlertSilence:
    """A one-off silence from ``now`` to ``ends_at`` (nothing sent; states still recorded)."""
    with db.session() as session:
        row = AlertSilence(
            rule=rule,
            instance=instance or None,
            starts_at=now,
            ends_at=ends_at,
            reason=reason[:2000],
            created_by=who[:150],
            created_at=now,
        )
        session.add(row)
    return row


def current(db: Database) -> list[AlertState]:
    """Instances not in the normal state, worst first then by rule."""
    with db.sessions() as session:
        rows = list(session.scalars(select(AlertState).where(AlertState.state != "normal")))
    order = {"firing": 0, "recovering": 1, "error": 2, "nodata": 3, "pending": 4}
    return sorted(rows, key=lambda r: (order.get(r.state, 9), r.rule, r.instance))


def states(db: Database, rule: str) -> list[AlertState]:
    """Every instance of ``rule`` the evaluations have seen (whatever their state)."""
    with db.sessions() as session:
        return list(session.scalars(select(AlertState).where(AlertState.rule == rule)))


def history(db: Database, limit: int = 200) -> list[AlertTransition]:
    """The latest transitions, newest first."""
    with db.sessions() as session:
        query = select(AlertTransition).order_by(AlertTransition.at.desc(), AlertTransition.id.desc()).limit(limit)
        return list(session.scalars(query))


def silences(db: Database, now: dt.datetime) -> list[AlertSilence]:
    """Silences not over yet."""
    with db.sessions() as session:
        return list(
            session.scalars(select(AlertSilence).where(AlertSilence.ends_at > now).order_by(AlertSilence.ends_at))
        )


def deliveries(db: Database, limit: int = 100) -> list[AlertOutbox]:
    """The latest outbox rows (administrators: delivery state, attempts, last error)."""
    with db.sessions() as session:
        return list(session.scalars(select(AlertOutbox).order_by(AlertOutbox.id.desc()).limit(limit)))


def set_email(db: Database, username: str, address: str | None) -> None:
    """Where the alerts of ``username`` are sent (None: nowhere, unless the name is an address);
    :class:`~pilotis.accounts.users.UserError` with a French message otherwise."""
    if address is not None and not _ADDRESS.match(address):
        raise UserError(f"adresse e-mail `{address}` invalide")
    with db.session() as session:
        user = find(session, username)
        if user is None:
            raise UserError(f"utilisateur `{username}` inconnu")
        user.email = address
