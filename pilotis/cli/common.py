"""What every command working on the application database shares: who acts (for the audit log),
running on the configured database, the org chart."""

from __future__ import annotations

import argparse
import functools
import getpass
from collections.abc import Callable

from pilotis.accounts.db import Database
from pilotis.core.loader import load_departments
from pilotis.core.settings import Settings


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
