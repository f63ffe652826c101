"""``python -m pilotis audit export FILE.csv [--since D] [--until D] [--event T] [--user NAME]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pilotis.accounts import audit
from pilotis.accounts.db import Database
from pilotis.cli.common import actor
from pilotis.core.settings import Settings


def cmd_export(args: argparse.Namespace) -> int:
    """Write the audit log (filtered) as CSV; ``-`` writes to standard output."""
    try:
        filters = audit.AuditFilter(
            event=args.event,
            username=args.user,
            since=audit.parse_day(args.since),
            until=audit.parse_day(args.until),
        )
    except ValueError as exc:
        print(f"erreur : {exc}", file=sys.stderr)
        return 1
    if args.event and args.event not in audit.EVENTS:
        print(
            f"erreur : événement `{args.event}` inconnu ({', '.join(audit.EVENTS)})",
            file=sys.stderr,
        )
        return 1
    with Database(Settings.from_env().database_url) as db:
        db.upgrade()
        if args.file == "-":
            count = audit.write_csv(db, sys.stdout, filters)
        else:
            path = Path(args.file)
            with path.open("w", encoding="utf-8-sig", newline="") as out:
                count = audit.write_csv(db, out, filters)
            print(f"{count} événement(s) écrit(s) dans {path}.", file=sys.stderr)
        audit.record("audit_export", actor(), f"{count} lignes vers {args.file}", None, target="cli", db=db)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``audit …`` to the ``python -m pilotis`` parser."""
    parser = sub.add_parser("audit", help="journal d'audit")
    commands = parser.add_subparsers(dest="audit_command", required=True)
    export = commands.add_parser("export", help="exporter le journal en CSV")
    export.add_argument("file", help="fichier CSV à écrire (`-` : sortie standard)")
    export.add_argument("--since", help="à partir du jour (2026-05-01 ou 01/05/2026, inclus)")
    export.add_argument("--until", help="jusqu'au jour (inclus)")
    export.add_argument("--event", help=f"type d'événement ({', '.join(audit.EVENTS)})")
    export.add_argument("--user", help="début de l'identifiant")
    export.set_defaults(func=cmd_export)
