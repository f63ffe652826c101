"""User accounts: validation, creation, password changes, demo accounts, org chart copy.

Used by the command line (:mod:`pilotis.cli.users`), the login view and the app start-up.
Every function takes the :class:`~pilotis.accounts.db.Database`; nothing is kept between calls.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pilotis.accounts import passwords, user_sessions
from pilotis.accounts.db import Database
from pilotis.accounts.models import Department, User, UserRole
from pilotis.core.access import ROLES, Grant, Principal
from pilotis.core.errors import did_you_mean

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,149}$")
TERRITORY = re.compile(r"^(departement|epci|commune):[0-9a-zA-Z]{2,15}$")
DEMO_PASSWORD = "demo-pilotis"
"""Password of every demo account (published in the README: demo mode only)."""
DEMO_PASSWORD_HASH = "$argon2id$v=19$m=19456,t=2,p=1$DkBeB0FPxx+YQYQoS9acng$GEFWAaxqOhWgIm5HL+syG/L13IYSbpv3EJzYQNF5h50"
""":data:`DEMO_PASSWORD` hashed once with today's parameters (the password is public: a hash made
at each first start protected nothing). Hashing it at start cost 30 ms of CPU (and left 19 MB of
Argon2's memory in the worker's heap, before pilotis/web/worker_memory.py). Hashed
again at start if the parameters change (``tests/test_security.py`` checks it is current)."""


@dataclass(frozen=True)
class DemoUser:
    """A demo account created on first start in demo mode."""

    username: str
    display_name: str
    roles: tuple[str, ...]
    department: str | None = None
    territory: str | None = None


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("agent.rsa", "Agent RSA (démo)", ("agent",), "solidarites"),
    DemoUser(
        "agent.laval",
        "Agent de Laval Agglomération (démo)",
        ("agent",),
        "solidarites",
        "epci:200083392",
    ),
    DemoUser("manager.finances", "Responsable finances (démo)", ("manager",), "finances"),
    DemoUser("agent.rh", "Agent RH (démo)", ("agent",), "rh"),
    DemoUser("agent.numerique", "Agent du numérique (démo)", ("agent",), "numerique"),
    DemoUser("president", "Présidence (démo)", ("president",), "direction-generale"),
    DemoUser("admin", "Administrateur (démo)", ("admin",), "numerique"),
)


class UserError(ValueError):
    """A refused user operation, with a French message."""


def normalize_username(name: str) -> str:
    """User names are compared trimmed, lower-case, in Unicode NFC form."""
    return unicodedata.normalize("NFC", name or "").strip().lower()[:150]


def split_roles(text: str | Iterable[str]) -> list[str]:
    """Roles from `agent|manager` or `agent,manager` (or a list), trimmed, lower-case, unique."""
    items = re.split(r"[|,]", text) if isinstance(text, str) else list(text)
    return sorted({r.strip().lower() for r in items if r and r.strip()})


def check_fields(
    username: str,
    department: str | None,
    roles: list[str],
    territory: str | None,
    departments: dict[str, str],
) -> list[str]:
    """Every French problem with these account fields (empty list: all good)."""
    problems: list[str] = []
    if not USERNAME.match(username):
        problems.append(
            f"identifiant `{username}` invalide : lettres minuscules sans accent, chiffres, "
            "`.`, `_`, `-` ou `@` (2 à 150 caractères)"
        )
    if department and department not in departments:
        problems.append(f"direction `{department}` inconnue ({did_you_mean(department, departments)})")
    if not roles:
        problems.append(f"au moins un rôle est nécessaire ({', '.join(ROLES)})")
    for role in roles:
        if role not in ROLES:
            problems.append(f"rôle `{role}` inconnu ({did_you_mean(role, ROLES)})")
    if territory and not TERRITORY.match(territory):
        problems.append(f"territoire `{territory}` invalide : écrivez `epci:<SIREN>` ou `commune:<code INSEE>`")
    return problems


def principal_of(user: User, grants: tuple[Grant, ...] = ()) -> Principal:
    """What access decisions need to know about ``user``, with the dashboards granted to them
    (:func:`pilotis.accounts.access_requests.active_grants`), as a session or a token carries."""
    return Principal(
        username=user.username,
        department=user.department,
        roles=frozenset(user.roles),
        territory=user.territory,
        grants=grants,
    )


def find(session: Session, username: str) -> User | None:
    """The user called ``username`` (normalised), or None."""
    return session.scalar(select(User).where(User.username == normalize_username(username)))


def get(session: Session, username: str) -> User:
    """The user called ``username``; :class:`UserError` when there is none."""
    user = find(session, username)
    if user is None:
        raise UserError(f"utilisateur `{normalize_username(username)}` inconnu")
    return user


def create(
    db: Database,
    *,
    username: str,
    display_name: str,
    department: str | None,
    roles: list[str],
    territory: str | None,
    password: str,
    departments: dict[str, str],
    demo: bool = False,
) -> User:
    """Create an account after checking every field; :class:`UserError` lists the problems."""
    username = normalize_username(username)
    problems = check_fields(username, department, roles, territory, departments)
    weak = None if demo else passwords.check_strength(password)
    if weak:
        problems.append(weak)
    if problems:
        raise UserError(" ; ".join(problems))
    with db.session() as session:
        if find(session, username) is not None:
            raise UserError(f"l'utilisateur `{username}` existe déjà")
        user = User(
            username=username,
            display_name=display_name or username,
            department=department or None,
            territory=territory or None,
            active=True,
            demo=demo,
            password_hash=passwords.hash_password(password),
        )
        user.roles = roles
        session.add(user)
    return user


def set_password(db: Database, username: str, password: str) -> None:
    """Give ``username`` a new password; ends the user's open sessions, clears the demo flag."""
    weak = passwords.check_strength(password)
    if weak:
        raise UserError(weak)
    with db.session() as session:
        user = get(session, username)
        user.password_hash = passwords.hash_password(password)
        end_sessions(session, user, "password")
        user.demo = False


def end_sessions(session: Session, user: User, reason: str) -> int:
    """End every open session of ``user`` in the caller's transaction; returns how many.

    Called on a password change, a deactivation and a change of roles, direction or territory
    (what decides what the user may see): the user signs in again under the new rules.
    """
    user.session_version += 1
    session.flush()
    return user_sessions.revoke_all(session, user.id, reason)


def sign_out_everywhere(db: Database, username: str, reason: str = "signout_everywhere") -> int:
    """End every open session of ``username`` (the user's button, the admin's CLI); how many."""
    with db.session() as session:
        return end_sessions(session, get(session, username), reason)


def set_active(db: Database, username: str, active: bool) -> bool:
    """Enable or disable an account (disabling ends its sessions); False if nothing changed."""
    with db.session() as session:
        user = get(session, username)
        if user.active == active:
            return False
        user.active = active
        end_sessions(session, user, "enabled" if active else "disabled")
        return True


def admin_addresses(session: Session) -> list[str]:
    """E-mail addresses of the active administrators (their ``email``, else a username that is one):
    who is told when no referent answers for a dataset or a role has no holder."""
    rows = session.execute(
        select(User.email, User.username)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == "admin", User.active.is_(True))
    ).all()
    found = (email or (username if "@" in username else None) for email, username in rows)
    return sorted({address for address in found if address})


def all_users(db: Database) -> list[User]:
    """Every account, by user name."""
    with db.session() as session:
        return list(session.scalars(select(User).order_by(User.username)).all())


def active_demo_users(db: Database) -> list[str]:
    """Names of active accounts whose password is the published demo one."""
    with db.session() as session:
        return list(
            session.scalars(
                select(User.username).where(User.demo.is_(True), User.active.is_(True)).order_by(User.username)
            ).all()
        )


def ensure_demo_users(db: Database) -> int:
    """Create the demo accounts when the users table is empty (demo mode); returns how many."""
    with db.session() as session:
        if session.scalar(select(User.id).limit(1)) is not None:
            return 0
    try:
        with db.session() as session:
            hashed = passwords.stored_or_new(DEMO_PASSWORD_HASH, DEMO_PASSWORD)
            for demo in DEMO_USERS:
                user = User(
                    username=demo.username,
                    display_name=demo.display_name,
                    department=demo.department,
                    territory=demo.territory,
                    active=True,
                    demo=True,
                    password_hash=hashed,
                )
                user.roles = list(demo.roles)
                session.add(user)
    except IntegrityError:
        return 0  # another worker created them at the same moment
    return len(DEMO_USERS)


def sync_departments(db: Database, departments: dict[str, str]) -> None:
    """Copy the org chart of `config/departments.yaml` into the ``departments`` table."""
    try:
        with db.session() as session:
            existing = {d.id: d for d in session.scalars(select(Department)).all()}
            for dep_id, label in departments.items():
                row = existing.pop(dep_id, None)
                if row is None:
                    session.add(Department(id=dep_id, label=label))
                elif row.label != label:
                    row.label = label
            for row in existing.values():
                session.delete(row)
    except IntegrityError:
        pass  # another worker did the same copy at the same moment
