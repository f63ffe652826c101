"""``python -m pilotis users add|list|set-password|disable|enable|signout|import``: accounts.

Passwords are never read from the command line (visible in ``ps`` and the shell history): they
are typed twice at a hidden prompt, read from standard input (``--password-stdin``), generated
(``--generate``, printed once) or come from the CSV file of ``users import``. Every change is
written to the audit log as ``cli:<system account>``.
"""

from __future__ import annotations

import argparse
import csv
import functools
import getpass
import io
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pilotis.accounts import audit, passwords
from pilotis.accounts.db import Database
from pilotis.accounts.models import User
from pilotis.accounts.throttle import Throttle
from pilotis.accounts.users import (
    TERRITORY,
    UserError,
    all_users,
    check_fields,
    create,
    end_sessions,
    find,
    normalize_username,
    set_active,
    set_password,
    sign_out_everywhere,
    split_roles,
)
from pilotis.core.access import ROLES
from pilotis.core.data import DataService
from pilotis.core.errors import ConfigError, did_you_mean
from pilotis.core.loader import load_departments, load_registry
from pilotis.core.settings import Settings
from pilotis.core.territory import TerritoryIndex
from pilotis.plugins import register_builtins

CSV_COLUMNS = ("username", "display_name", "department", "roles", "territory", "password")


def actor() -> str:
    """Who acts, for the audit log: ``cli:<system account>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:inconnu"


def with_db(
    command: Callable[[argparse.Namespace, Database], int],
) -> Callable[[argparse.Namespace], int]:
    """Run ``command(args, db)`` on the configured database (migrated first, closed after)."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        with Database(Settings.from_env().database_url) as db:
            db.upgrade()
            return command(args, db)

    return run


def departments_of(settings: Settings) -> dict[str, str]:
    """The org chart of ``config/departments.yaml`` (ConfigError when invalid)."""
    return load_departments(settings.config_dir)


def read_new_password(args: argparse.Namespace) -> tuple[str, bool]:
    """The password to set and whether it was generated (then it must be shown once)."""
    if getattr(args, "generate", False):
        return secrets.token_urlsafe(15), True
    if getattr(args, "password_stdin", False) or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n"), False
    first = getpass.getpass("Mot de passe : ")
    second = getpass.getpass("Mot de passe (confirmation) : ")
    if first != second:
        raise UserError("les deux mots de passe saisis sont différents")
    return first, False


def _fail(message: str) -> int:
    print(f"erreur : {message}", file=sys.stderr)
    return 1


# --------------------------------------------------------------------------- commands


@with_db
def cmd_add(args: argparse.Namespace, db: Database) -> int:
    """Create an account."""
    try:
        departments = departments_of(Settings.from_env())
        password, generated = read_new_password(args)
        user = create(
            db,
            username=args.username,
            display_name=args.name or "",
            department=args.department,
            roles=split_roles(args.roles),
            territory=args.territory,
            password=password,
            departments=departments,
        )
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    except UserError as exc:
        return _fail(str(exc))
    audit.record(
        "user_created",
        actor(),
        f"rôles {', '.join(user.roles)} ; direction {user.department or '—'} ; territoire {user.territory or '—'}",
        None,
        target=user.username,
        db=db,
    )
    print(f"compte `{user.username}` créé.")
    if generated:
        print(f"mot de passe (affiché une seule fois) : {password}")
    return 0


@with_db
def cmd_list(args: argparse.Namespace, db: Database) -> int:
    """Print every account (tab-separated with ``--tsv``)."""
    users = [u for u in all_users(db) if args.all or u.active]
    rows = [("identifiant", "nom", "direction", "rôles", "territoire", "état")]
    for u in users:
        state = "actif" if u.active else "désactivé"
        if u.demo:
            state += " (démo)"
        rows.append(
            (
                u.username,
                u.display_name,
                u.department or "—",
                ",".join(u.roles),
                u.territory or "—",
                state,
            )
        )
    if args.tsv:
        for row in rows:
            print("\t".join(row))
        return 0
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    print(f"{len(users)} compte(s).")
    return 0


@with_db
def cmd_set_password(args: argparse.Namespace, db: Database) -> int:
    """Give an account a new password (ends its open sessions, lifts its lockout)."""
    try:
        password, generated = read_new_password(args)
        set_password(db, args.username, password)
    except UserError as exc:
        return _fail(str(exc))
    username = normalize_username(args.username)
    Throttle(db).reset(username)
    audit.record("user_password", actor(), "", None, target=username, db=db)
    print(f"mot de passe de `{username}` changé ; ses sessions ouvertes sont fermées.")
    if generated:
        print(f"mot de passe (affiché une seule fois) : {password}")
    return 0


def _cmd_active(active: bool) -> Callable[[argparse.Namespace], int]:
    def command(args: argparse.Namespace, db: Database) -> int:
        try:
            changed = set_active(db, args.username, active)
        except UserError as exc:
            return _fail(str(exc))
        username = normalize_username(args.username)
        word = "réactivé" if active else "désactivé"
        if not changed:
            print(f"compte `{username}` déjà {word}.")
            return 0
        audit.record("user_enabled" if active else "user_disabled", actor(), "", None, target=username, db=db)
        print(f"compte `{username}` {word}." + ("" if active else " Ses sessions ouvertes sont fermées."))
        return 0

    command.__doc__ = "Re-enable an account." if active else "Disable an account (ends its sessions)."
    return with_db(command)


@with_db
def cmd_signout(args: argparse.Namespace, db: Database) -> int:
    """End every open session of an account (stolen laptop, departure): audited."""
    try:
        count = sign_out_everywhere(db, args.username, "admin_signout")
    except UserError as exc:
        return _fail(str(exc))
    username = normalize_username(args.username)
    audit.record(
        "sessions_revoked", actor(), f"{count} session(s) fermée(s) en ligne de commande", None, target=username, db=db
    )
    print(f"{count} session(s) de `{username}` fermée(s) : la prochaine requête de chacune est anonyme.")
    return 0


# --------------------------------------------------------------------------- import


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
    registry = load_registry(
        settings.root, settings.config_dir, settings.dashboards_dir, instance_dir=settings.instance_dir
    )
    portal = registry.portal
    index = TerritoryIndex.load(
        DataService(registry.datasets), portal.communes_dataset, portal.collectivite.code_departement, ""
    )
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


# --------------------------------------------------------------------------- parser


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``users …`` to the ``python -m pilotis`` parser."""
    users = sub.add_parser("users", help="gérer les comptes (ajout, liste, mot de passe, import)")
    commands = users.add_subparsers(dest="users_command", required=True)

    add = commands.add_parser("add", help="créer un compte")
    add.add_argument("username", help="identifiant (minuscules, ex. prenom.nom)")
    add.add_argument("--name", help="nom affiché (ex. « Camille Martin »)")
    add.add_argument("--department", help="direction (identifiant de config/departments.yaml)")
    add.add_argument("--roles", required=True, help=f"rôles séparés par | ou , parmi : {', '.join(ROLES)}")
    add.add_argument("--territory", help="restriction territoriale, ex. epci:200083392")
    add.add_argument("--password-stdin", action="store_true", help="lire le mot de passe sur l'entrée standard")
    add.add_argument("--generate", action="store_true", help="générer un mot de passe (affiché une fois)")
    add.set_defaults(func=cmd_add)

    listing = commands.add_parser("list", help="lister les comptes")
    listing.add_argument("--all", action="store_true", help="inclure les comptes désactivés")
    listing.add_argument("--tsv", action="store_true", help="sortie séparée par des tabulations")
    listing.set_defaults(func=cmd_list)

    setpw = commands.add_parser("set-password", help="changer le mot de passe d'un compte")
    setpw.add_argument("username")
    setpw.add_argument("--password-stdin", action="store_true", help="lire le mot de passe sur l'entrée standard")
    setpw.add_argument("--generate", action="store_true", help="générer un mot de passe (affiché une fois)")
    setpw.set_defaults(func=cmd_set_password)

    disable = commands.add_parser("disable", help="désactiver un compte (ferme ses sessions)")
    disable.add_argument("username")
    disable.set_defaults(func=_cmd_active(False))

    enable = commands.add_parser("enable", help="réactiver un compte")
    enable.add_argument("username")
    enable.set_defaults(func=_cmd_active(True))

    signout = commands.add_parser("signout", help="fermer toutes les sessions ouvertes d'un compte")
    signout.add_argument("username")
    signout.set_defaults(func=cmd_signout)

    imp = commands.add_parser("import", help="créer ou mettre à jour des comptes depuis un CSV")
    imp.add_argument("file", help=f"CSV avec l'en-tête {','.join(CSV_COLUMNS)} (rôles séparés par |)")
    imp.add_argument("--dry-run", action="store_true", help="vérifier le fichier sans rien écrire")
    imp.set_defaults(func=cmd_import)
