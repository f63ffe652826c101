"""``python -m pilotis``: check the configuration, write the JSON Schema and the YAML reference,
and the commands of each concern (``users``, ``audit``, ``db``, ``display-link``, ``tokens``,
``sensors``, ``referents``, ``worker``, ``alerts``).

A command imports only what it needs, because every run of the CLI (a cron job, a deployment
script, a test) pays its imports: each command lives in the module named in :data:`COMMANDS`,
imported only when that command runs (all of them for ``--help`` or an unknown command, so that
argparse lists every choice).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS: dict[str, str] = {
    "check": "pilotis.cli.check",
    "schema": "pilotis.cli.schema",
    "docs": "pilotis.cli.docs",
    "users": "pilotis.cli.users",
    "audit": "pilotis.cli.audit",
    "db": "pilotis.cli.db",
    "display-link": "pilotis.cli.display_links",
    "tokens": "pilotis.cli.tokens",
    "sensors": "pilotis.cli.sensors",
    "referents": "pilotis.cli.referents",
    "worker": "pilotis.cli.worker",
    "alerts": "pilotis.cli.alerts",
    "report": "pilotis.cli.report",
}
"""Command name → the module whose ``register(sub)`` adds it (imported on use;
tests/test_cli.py checks that each module registers exactly its command)."""
OWN_COMMANDS: tuple[str, ...] = ()
"""Commands defined in this module itself (none: each lives in its module of :data:`COMMANDS`)."""


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser (sub-commands are added by each concern).

    With ``argv``, only the module of the command it names is imported and registered (all of
    them when it names none or an unknown one); without, every command is there.
    """
    parser = argparse.ArgumentParser(prog="python -m pilotis", description="Pilotis, portail de données")
    sub = parser.add_subparsers(dest="command", required=True)
    chosen = next((a for a in argv if not a.startswith("-")), None) if argv is not None else None
    known = chosen in COMMANDS
    for name, module in COMMANDS.items():
        if not known or chosen == name:
            importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    return int(args.func(args))
