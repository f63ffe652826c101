"""``python -m pilotis users import FILE [--dry-run]``: create or update accounts from a CSV file,
every row checked (columns, roles, directions, territories) before anything is written."""

from __future__ import annotations

import argparse
import csv
import functools
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pilotis.accounts import audit, passwords
from pilotis.accounts.db import Database
from pilotis.accounts.models import User
from pilotis.accounts.users import (
    TERRITORY,
    all_users,
    check_fields,
    end_sessions,
    find,
    normalize_username,
    split_roles,
)
from pilotis.cli.common import actor, departments_of, with_db
from pilotis.core.data import DataService
from pilotis.core.errors import ConfigError, did_you_mean
from pilotis.core.loader import registry_for
from pilotis.core.settings import Settings
from pilotis.core.territory import TerritoryIndex
from pilotis.plugins import register_builtins

CSV_COLUMNS = ("username", "display_name", "department", "roles", "territory", "password")


@dataclass
class ImportRow:
    """One valid line of an import file."""

    line: int
    username: str
    display_name: str
    department: str | None
    roles: list[str]
    territory: str | None
    password: str


Territories = Callable[[], dict[str, set[str]]]
"""Gives the known territory codes by level (``departement``, ``epci``, ``commune``); called at
most once, and only when a line names a territory (it reads the configuration and data)."""


def known_territories(settings: Settings) -> dict[str, set[str]]:
    """The département, EPCI and commune codes of the portal's reference table (ConfigError when invalid)."""
    register_builtins()  # the configuration names the shipped widget and source types
    registry = registry_for(settings)
    portal = registry.portal
    index = TerritoryIndex.of_portal(DataService(registry.datasets), portal)
    return {
        "departement": {portal.collectivite.code_departement},
        "epci": set(index.epcis),
        "commune": set(index.communes),
    }


def _read_text(path: Path) -> tuple[str | None, str]:
    """The file's text, or None and a `LINE:COL: message` locating the first non-UTF-8 byte."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, f"1: fichier illisible ({exc.strerror or exc.__class__.__name__})"
    try:
        return raw.decode("utf-8-sig"), ""
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, f"{line}: octet invalide en UTF-8 (colonne {col}) : enregistrez le fichier en UTF-8"


def parse_import(
    path: Path,
    departments: dict[str, str],
    existing: set[str],
    territories: Territories | None = None,
) -> tuple[list[ImportRow], list[str]]:
    """The rows of a users CSV and every problem found (as `FILE:LINE: message`).

    ``territories`` checks that each `epci:…` / `commune:…` code exists (a typo would give the
    account an empty scope); without it only the form of the code is checked.
    """
    shown = str(path)
    text, problem = _read_text(path)
    if text is None:
        return [], [f"{shown}:{problem}"]
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    expected = f"en-tête attendu : {','.join(CSV_COLUMNS)}"
    missing = [c for c in CSV_COLUMNS if c not in header]
    unknown = [h for h in header if h not in CSV_COLUMNS]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    header_problems = []
    if missing:
        header_problems.append(f"{shown}:1: colonne(s) manquante(s) : {', '.join(missing)} ({expected})")
    for name in unknown:
        header_problems.append(
            f"{shown}:1: colonne `{name}` inconnue ({did_you_mean(name, CSV_COLUMNS, 'colonnes possibles')})"
        )
    if duplicated:
        header_problems.append(f"{shown}:1: colonne(s) en double : {', '.join(duplicated)} ({expected})")
    if header_problems:
        return [], header_problems
    reader.fieldnames = header
    codes: dict[str, set[str]] | None = None
    rows: list[ImportRow] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        extra = record.get(None)
        values = {k: (v or "").strip() for k, v in record.items() if k is not None}
        username = normalize_username(values.get("username", ""))
        roles = split_roles(values.get("roles", ""))
        department = values.get("department") or None
        territory = values.get("territory") or None
        password = (record.get("password") or "").rstrip("\r\n")
        here = check_fields(username, department, roles, territory, departments)
        if extra:
            here.append(
                f"{len(extra)} valeur(s) en trop après la colonne `{header[-1]}` "
                f"(séparateur `{delimiter}` dans une valeur ? mettez-la entre guillemets)"
            )
        if territory and territories is not None and TERRITORY.match(territory):
            if codes is None:
                codes = territories()
            level, code = territory.split(":", 1)
            known = codes.get(level, set())
            if code not in known:
                hint = did_you_mean(code, known, "codes possibles") or "aucun code connu à ce niveau"
                here.append(f"territoire `{territory}` inconnu ({hint})")
        if username in seen:
            here.append(f"identifiant `{username}` déjà présent ligne {seen[username]}")
        seen.setdefault(username, line)
        if password:
            weak = passwords.check_strength(password)
            if weak:
                here.append(weak)
        elif username not in existing:
            here.append("mot de passe obligatoire pour un nouveau compte")
        problems += [f"{shown}:{line}: {p}" for p in here]
        rows.append(
            ImportRow(
                line,
                username,
                values.get("display_name", "") or username,
                department,
                roles,
                territory,
                password,
            )
        )
    return rows, problems


@with_db
def cmd_import(args: argparse.Namespace, db: Database) -> int:
    """Create or update the accounts of a CSV file, all or nothing."""
    path = Path(args.file)
    try:
        departments = departments_of(Settings.from_env())
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    existing = {u.username for u in all_users(db)}
    try:
        rows, problems = parse_import(
            path, departments, existing, functools.partial(known_territories, Settings.from_env())
        )
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(f"{len(problems)} erreur(s) : aucun compte importé.", file=sys.stderr)
        return 1
    if args.dry_run:
        print(f"vérification : {len(rows)} ligne(s) valides ; rien n'a été écrit (--dry-run).")
        return 0
    created: list[str] = []
    updated: list[str] = []
    with db.session() as session:
        for row in rows:
            user = find(session, row.username)
            if user is None:
                user = User(
                    username=row.username,
                    active=True,
                    demo=False,
                    session_version=1,
                    password_hash=passwords.hash_password(row.password),
                )
                session.add(user)
                created.append(row.username)
            else:
                updated.append(row.username)
                if row.password:
                    user.password_hash = passwords.hash_password(row.password)
                    user.demo = False
                rights = (row.department, row.territory, sorted(row.roles))
                if row.password or rights != (user.department, user.territory, sorted(user.roles)):
                    end_sessions(session, user, "password" if row.password else "account_changed")
            user.display_name = row.display_name
            user.department = row.department
            user.territory = row.territory
            user.roles = row.roles
    who = actor()
    for name in created:
        audit.record("user_created", who, f"import {path.name}", None, target=name, db=db)
    for name in updated:
        audit.record("user_updated", who, f"import {path.name}", None, target=name, db=db)
    print(f"import terminé : {len(created)} compte(s) créé(s), {len(updated)} mis à jour.")
    return 0
