"""``python -m pilotis db upgrade|current|revision|snapshot``: migrations of the application database."""

from __future__ import annotations

import argparse

from pilotis.accounts.db import Database, write_snapshot
from pilotis.accounts.db_snapshot import SNAPSHOT
from pilotis.core.settings import Settings


def _shown(db: Database) -> str:
    return db.url.render_as_string(hide_password=True)


def cmd_upgrade(args: argparse.Namespace) -> int:
    """Apply the migrations up to the latest revision (the app also does it at start-up)."""
    with Database(Settings.from_env().database_url) as db:
        db.upgrade(args.revision)
        print(f"base {_shown(db)} : schéma à la révision {db.current_revision()}.")
    return 0


def cmd_current(_args: argparse.Namespace) -> int:
    """Print the schema revision of the database."""
    with Database(Settings.from_env().database_url) as db:
        print(f"base {_shown(db)} : révision {db.current_revision() or 'aucune (base vide)'}.")
    return 0


def cmd_revision(args: argparse.Namespace) -> int:
    """Write a new migration file comparing the models with an up-to-date database (developers)."""
    from alembic import command

    with Database(Settings.from_env().database_url) as db:
        db.upgrade()
        config = db.alembic_config()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.revision(config, message=args.message, autogenerate=True, rev_id=args.rev_id)
    return 0


def cmd_snapshot(_args: argparse.Namespace) -> int:
    """Write the schema that Alembic's head makes on SQLite, from which new databases are created
    (developers, after a new migration: ``tests/test_db_snapshot.py`` asks for it)."""
    print(f"{SNAPSHOT.name} : schéma de la révision {write_snapshot()}.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``db …`` to the ``python -m pilotis`` parser."""
    db = sub.add_parser("db", help="base de données de l'application (migrations)")
    commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = commands.add_parser("upgrade", help="mettre le schéma à jour (migrations Alembic)")
    upgrade.add_argument("revision", nargs="?", default="head", help="révision cible (défaut : head)")
    upgrade.set_defaults(func=cmd_upgrade)
    current = commands.add_parser("current", help="afficher la révision du schéma")
    current.set_defaults(func=cmd_current)
    revision = commands.add_parser("revision", help="créer une migration (développeurs)")
    revision.add_argument("message", help="ce que change la migration")
    revision.add_argument("--rev-id", help="identifiant de révision (ex. 0002)")
    revision.set_defaults(func=cmd_revision)
    snapshot = commands.add_parser("snapshot", help="écrire le schéma des nouvelles bases SQLite (développeurs)")
    snapshot.set_defaults(func=cmd_snapshot)
