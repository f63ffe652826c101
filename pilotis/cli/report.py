"""``python -m pilotis report <id> --territoire … --periode … [--utilisateur login] -o file.pdf``:
a commission report (``config/reports/<id>.yaml``) as an accessible PDF.

Without ``--utilisateur`` the report is produced with every row (the operator's command, like
``alerts evaluate``); with it, with that account's rights and territory — refused, as on
``/rapports``, when the account may not see the report. Recorded in the audit log.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pilotis.accounts import audit
from pilotis.accounts.db import Database
from pilotis.accounts.users import find, principal_of
from pilotis.cli.common import actor
from pilotis.core.access import Principal, can_view_report
from pilotis.core.cache import TTLCache
from pilotis.core.data import DataService
from pilotis.core.errors import ConfigError, did_you_mean
from pilotis.core.exports import BadExportRequest
from pilotis.core.loader import registry_for
from pilotis.core.report_content import compute, read_filters
from pilotis.core.report_pdf import render_pdf
from pilotis.core.settings import Settings
from pilotis.core.territory import TerritoryIndex
from pilotis.plugins import register_builtins

OPERATOR = Principal(username="operateur", roles=frozenset({"admin"}))
"""Who a report is produced for without ``--utilisateur``: every row, like the other operator commands."""


def cmd_report(args: argparse.Namespace) -> int:
    """Write the PDF; 1 with a French message on any problem (never a traceback)."""
    settings = Settings.from_env()
    register_builtins()
    try:
        registry = registry_for(settings)
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    spec = registry.reports.get(args.report)
    if spec is None:
        print(
            f"rapport `{args.report}` inconnu ; {did_you_mean(args.report, registry.reports, 'rapports')}",
            file=sys.stderr,
        )
        return 1
    principal = OPERATOR
    with Database(settings.database_url) as db:
        db.upgrade()
        if args.utilisateur:
            with db.session() as session:
                user = find(session, args.utilisateur)
                principal = principal_of(user) if user is not None and user.active else None  # type: ignore[assignment]
            if principal is None or not can_view_report(principal, spec, registry):
                print(f"--utilisateur : `{args.utilisateur}` ne peut pas voir le rapport `{spec.id}`", file=sys.stderr)
                return 1
        data = DataService(registry.datasets, TTLCache())
        portal = registry.portal
        index = TerritoryIndex.of_portal(data, portal)
        try:
            filters = read_filters(spec, registry, data, index, args.territoire, args.periode)
        except BadExportRequest as bad:
            print(f"--{bad.parameter} : {bad.message}", file=sys.stderr)
            return 1
        content = compute(spec, registry, data, index, principal, filters)
        pdf = render_pdf(content, settings.root / "assets")
        Path(args.output).write_bytes(pdf)
        audit.record(
            "report",
            username=actor(),
            ip=None,
            target=f"rapport {spec.id}",
            detail=f"ligne de commande, pour {principal.username}, territoire {filters.territory.value}, "
            f"année {filters.year or 'la plus récente'}, {len(pdf) // 1024} ko",
            db=db,
        )
    print(f"{args.output} : {content.title} — {content.territory}, {content.period} ({len(pdf) // 1024} ko)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``report``."""
    parser = sub.add_parser("report", help="produire un rapport de commission en PDF accessible")
    parser.add_argument("report", help="identifiant du rapport (config/reports/<id>.yaml)")
    parser.add_argument("--territoire", help="epci:200083392, commune:53130… (défaut : celui du rapport)")
    parser.add_argument("--periode", help="une année (2020) ou latest (défaut : celle du rapport)")
    parser.add_argument("--utilisateur", help="produire avec les droits et le territoire de ce compte")
    parser.add_argument("-o", "--output", required=True, help="fichier PDF à écrire")
    parser.set_defaults(func=cmd_report)
