"""Who held each referent role when, and which holders left (table ``referent_tenures``).

``config/referents.yaml`` says who holds each role now (:mod:`pilotis.core.referents`);
:func:`sync` compares it with the open tenures at start-up and after an import: a new person
opens a tenure, the previous one is closed (``replaced``), a role no longer declared is closed
(``removed``). :func:`departed` reads which named accounts are disabled or gone, and
:func:`notify_vacancies` tells the administrators once per vacancy (an e-mail through the outbox,
an audit line ``referent_vacant``; the administration pages list the open vacancies).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pilotis.accounts import audit
from pilotis.accounts.db import Database, utcnow
from pilotis.accounts.models import ReferentTenure, User
from pilotis.accounts.notices import base_url, mail_rows
from pilotis.accounts.users import admin_addresses
from pilotis.core.referents import Directory, Person, subject_key

FIELDS = ("name", "account", "service", "email", "phone")


def _declared(directory: Directory) -> dict[tuple[str, str], Person]:
    """(subject, position) → the person the configuration names."""
    found: dict[tuple[str, str], Person] = {}
    for kind, ident, role in directory.entries():
        found[(subject_key(kind, ident), "holder")] = role.holder
        if role.deputy is not None:
            found[(subject_key(kind, ident), "deputy")] = role.deputy
    return found


def sync(db: Database, directory: Directory, now: datetime | None = None) -> int:
    """Bring the tenures in line with ``directory``; returns how many tenures were opened or closed."""
    now = now or utcnow()
    declared = _declared(directory)
    changes = 0
    with db.session() as session:
        open_rows = session.scalars(select(ReferentTenure).where(ReferentTenure.ended_at.is_(None))).all()
        current = {(row.subject, row.position): row for row in open_rows}
        for key, row in current.items():
            person = declared.get(key)
            if person is None or any(getattr(row, f) != getattr(person, f) for f in FIELDS):
                row.ended_at, row.end_reason = now, "removed" if person is None else "replaced"
                changes += 1
        for (subject, position), person in declared.items():
            kept = current.get((subject, position))
            if kept is not None and kept.ended_at is None:
                continue
            values = {f: getattr(person, f) for f in FIELDS}
            session.add(ReferentTenure(subject=subject, position=position, started_at=now, **values))
            changes += 1
    return changes


@dataclass(frozen=True)
class Tenure:
    """One line of a role's history."""

    position: str
    name: str
    service: str | None
    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    vacant_since: datetime | None


def history(db: Database, subject: str) -> list[Tenure]:
    """Every tenure of the role ``subject`` (``dataset:rsa_communes``), the newest first."""
    with db.session() as session:
        rows = session.scalars(
            select(ReferentTenure)
            .where(ReferentTenure.subject == subject)
            .order_by(ReferentTenure.started_at.desc(), ReferentTenure.id.desc())
        ).all()
        return [
            Tenure(r.position, r.name, r.service, r.started_at, r.ended_at, r.end_reason, r.vacant_since) for r in rows
        ]


def departed(db: Database, accounts: set[str]) -> set[str]:
    """The accounts of ``accounts`` that are disabled or do not exist (one query)."""
    if not accounts:
        return set()
    rows = db.read(select(User.username, User.active).where(User.username.in_(sorted(accounts))))
    active = {row.username for row in rows if row.active}
    return set(accounts) - active


def notify_vacancies(db: Database, directory: Directory, gone: set[str]) -> list[str]:
    """Tell the administrators of each new vacancy once: ``vacant_since`` is set by a conditional
    UPDATE (of several workers or page views finding it together, one wins), and in the same
    transaction an e-mail to every active administrator with an address goes to the outbox
    (rule ``referent:<subject>``); then an audit line ``referent_vacant``. A holder whose account
    came back is no longer vacant (a later departure is told again). Returns the subjects newly
    found vacant."""
    vacant = {subject_key(kind, ident): person for kind, ident, person in directory.vacancies(gone)}
    told: list[str] = []
    now = utcnow()
    with db.session() as session:
        rows = session.scalars(
            select(ReferentTenure).where(ReferentTenure.ended_at.is_(None), ReferentTenure.position == "holder")
        ).all()
        for row in rows:
            if row.subject in vacant and row.account == vacant[row.subject].account:
                if row.vacant_since is None and _claim(session, row.id, now):
                    told.append(row.subject)
            elif row.vacant_since is not None:
                row.vacant_since = None
        if told:
            addresses = admin_addresses(session)
            for subject in told:
                session.add_all(
                    mail_rows(f"referent:{subject}", addresses, *_vacancy_mail(subject, vacant[subject]), now)
                )
    for subject in told:
        person = vacant[subject]
        audit.record(
            "referent_vacant",
            username=None,
            ip=None,
            target=subject,
            detail=f"{person.name} (compte {person.account}) : compte désactivé ou supprimé — référent à désigner",
            db=db,
        )
    return told


def _claim(session: Session, tenure_id: int, now: datetime) -> bool:
    """Mark the tenure vacant unless another transaction did it first."""
    done = session.execute(
        update(ReferentTenure)
        .where(ReferentTenure.id == tenure_id, ReferentTenure.vacant_since.is_(None))
        .values(vacant_since=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(done, "rowcount", 0))


def _vacancy_mail(subject: str, person: Person) -> tuple[str, str]:
    """(subject, body) of the e-mail telling the administrators a role has no holder."""
    body = (
        f"Le compte « {person.account} » de {person.name}, titulaire du rôle de référent {subject}, "
        "est désactivé ou a été supprimé.\n\nLe portail affiche désormais « référent à désigner » pour ce "
        "rôle (le suppléant reste affiché s'il est actif).\n\nDésignez un nouveau titulaire dans "
        "config/referents.yaml ou par un import (python -m pilotis referents import).\n\n"
        f"Annuaire des référents : {base_url()}/referents\n"
    )
    return f"Référent à désigner : {subject}", body
