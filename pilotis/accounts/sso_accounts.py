"""Accounts vouched for by an OpenID provider or a directory: created at the first sign-in, their
direction, roles and territory rewritten from the mapping rules at every sign-in.

An account is found again by ``(auth_source, external_subject)`` — the provider's ``sub`` or the
directory's user name — never by its user name alone, so that a person of a provider can never take
over a local account (or one of another provider) that happens to bear the same name: that is
refused as a conflict. When the rights change (an agent moved to another direction), every other
open session of the account ends at once (:func:`pilotis.accounts.users.end_sessions`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pilotis.accounts.db import Database
from pilotis.accounts.models import User
from pilotis.accounts.users import USERNAME, end_sessions, find, normalize_username
from pilotis.core.sso_config import Rule

UNUSABLE_PASSWORD = "!sso"
"""The ``password_hash`` of single sign-on accounts: no password ever matches it."""


@dataclass(frozen=True)
class Identity:
    """What a provider or the directory says about the person signing in."""

    source: str
    """OpenID provider id, or ``ldap``."""
    subject: str
    """Stable id at the source (OpenID ``sub``; the directory's user name)."""
    username: str
    display_name: str
    groups: tuple[str, ...] = ()
    claims: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Admitted:
    """The account after the rules were applied: what the new session is opened for."""

    user: Any
    """A detached copy of the ``users`` row (id, username, display_name, department, territory)."""
    roles: tuple[str, ...]
    rights_changed: bool
    """The direction, roles or territory differ from the previous sign-in."""
    sessions_ended: int


class SsoRefused(Exception):
    """The person is known to the provider but may not sign in; ``reason`` is French, for the audit."""

    def __init__(self, reason: str, *, conflict: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.conflict = conflict


@dataclass(frozen=True)
class _Row:
    id: int
    username: str
    display_name: str
    department: str | None
    territory: str | None


def _lookup(session: Any, identity: Identity) -> User | None:
    return session.scalar(
        select(User).where(User.auth_source == identity.source, User.external_subject == identity.subject)
    )


def deny(db: Database, identity: Identity) -> int:
    """No rule admits this person: end the open sessions of their account, if any; how many."""
    with db.session() as session:
        user = _lookup(session, identity)
        return end_sessions(session, user, "sso_denied") if user is not None else 0


def admit(db: Database, identity: Identity, rule: Rule) -> Admitted:
    """Create or update the account of ``identity`` with what ``rule`` grants; :class:`SsoRefused`."""
    username = normalize_username(identity.username)
    if not USERNAME.match(username):
        raise SsoRefused(f"identifiant `{username[:60]}` fourni par `{identity.source}` invalide")
    try:
        return _admit(db, identity, rule, username)
    except IntegrityError:  # the same person signing in twice at the same moment: the other one won
        return _admit(db, identity, rule, username)


def _admit(db: Database, identity: Identity, rule: Rule, username: str) -> Admitted:
    roles = sorted(set(rule.roles))
    with db.session() as session:
        user = _lookup(session, identity)
        holder = find(session, username)
        if holder is not None and holder is not user:
            raise SsoRefused(f"l'identifiant `{username}` appartient déjà à un autre compte", conflict=True)
        changed = False
        ended = 0
        if user is None:
            user = User(
                username=username,
                display_name=identity.display_name or username,
                department=rule.department,
                territory=rule.territory,
                active=True,
                demo=False,
                password_hash=UNUSABLE_PASSWORD,
                auth_source=identity.source,
                external_subject=identity.subject,
            )
            user.roles = roles
            session.add(user)
        else:
            if not user.active:
                raise SsoRefused("compte désactivé dans le portail")
            changed = (user.department, user.territory, user.roles) != (rule.department, rule.territory, roles)
            user.username = username
            user.display_name = identity.display_name or username
            user.department = rule.department
            user.territory = rule.territory
            user.roles = roles
            if changed:
                ended = end_sessions(session, user, "sso_rights")
        session.flush()
        row = _Row(user.id, user.username, user.display_name, user.department, user.territory)
    return Admitted(user=row, roles=tuple(roles), rights_changed=changed, sessions_ended=ended)
