"""``python -m pilotis users add|list|set-password|disable|enable|signout|import``: accounts.

Passwords are never read from the command line (visible in ``ps`` and the shell history): they
are typed twice at a hidden prompt, read from standard input (``--password-stdin``), generated
(``--generate``, printed once) or come from the CSV file of ``users import``. Every change is
written to the audit log as ``cli:<system account>``.
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from collections.abc import Callable

from pilotis.accounts import audit
from pilotis.accounts.db import Database
from pilotis.accounts.throttle import Throttle
from pilotis.accounts.users import (
    UserError,
    all_users,
    create,
    normalize_username,
    set_active,
    set_password,
    sign_out_everywhere,
    split_roles,
)
from pilotis.cli.common import actor, departments_of, with_db
from pilotis.cli.users_import import CSV_COLUMNS, cmd_import
from pilotis.core.access import ROLES
from pilotis.core.errors import ConfigError
from pilotis.core.settings import Settings


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
