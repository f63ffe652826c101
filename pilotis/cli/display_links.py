"""``python -m pilotis display-link create|list|revoke``: display links of wall screens."""

from __future__ import annotations

import argparse
import sys
from typing import Any
from urllib.parse import urlencode

from pilotis.accounts import audit
from pilotis.accounts.db import Database
from pilotis.accounts.display_links import PARAM, create, links, revoke
from pilotis.cli.common import actor
from pilotis.core.errors import ConfigError, did_you_mean
from pilotis.core.loader import registry_for
from pilotis.core.settings import Settings


def _seance_key(value: str) -> str:
    """``d/rsa`` or ``@rsa`` (a dashboard presented alone) → ``@rsa``; a séance id unchanged."""
    value = value.strip().strip("/")
    if value.startswith("seance/"):
        value = value.removeprefix("seance/")
    if value.startswith("d/"):
        return "@" + value[2:]
    return value


def cmd_create(args: argparse.Namespace) -> int:
    """Create a link and print its address (shown once: the token is not stored)."""
    settings = Settings.from_env()
    key = _seance_key(args.seance)
    try:
        registry = registry_for(settings)
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    seance = registry.seance(key)
    if seance is None:
        known = list(registry.seances) + [f"d/{d}" for d in registry.dashboards]
        print(
            f"séance `{args.seance}` inconnue ; {did_you_mean(args.seance, known, 'séances')}",
            file=sys.stderr,
        )
        return 1
    with Database(settings.database_url) as db:
        db.upgrade()
        link, token = create(db, settings.secret_key, key, args.days, label=args.label, author=actor())
        audit.record(
            "display_link_created",
            username=actor(),
            ip=None,
            target=seance.url,
            detail=f"lien {link.id}, valable jusqu'au {link.expires_at:%d/%m/%Y %H:%M} UTC",
            db=db,
        )
    base = args.base_url.rstrip("/")
    print(
        f"Lien d'affichage {link.id} pour « {seance.spec.title} », "
        f"valable jusqu'au {link.expires_at:%d/%m/%Y à %H:%M} (UTC) :"
    )
    print(f"{base}{seance.url}?{urlencode({PARAM: token})}")
    print(f"Conservez-le : il n'est affiché qu'une fois. Révocation : python -m pilotis display-link revoke {link.id}")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    """Revoke a link: the screens using it stop at their next refresh."""
    with Database(Settings.from_env().database_url) as db:
        db.upgrade()
        if not revoke(db, args.id, actor()):
            print(f"aucun lien actif `{args.id}`", file=sys.stderr)
            return 1
        audit.record("display_link_revoked", username=actor(), ip=None, target=args.id, db=db)
    print(f"Lien {args.id} révoqué.")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """The links (active only unless ``--all``)."""
    with Database(Settings.from_env().database_url) as db:
        db.upgrade()
        found = links(db, everything=args.all)
    if not found:
        print("Aucun lien d'affichage.")
    for link in found:
        state = "révoqué" if link.revoked_at else "expiré" if not link.active else "actif"
        print(f"{link.id}  {link.seance:<24} {state:<8} jusqu'au {link.expires_at:%d/%m/%Y %H:%M}  {link.label}")
    return 0


def register(sub: Any) -> None:
    """Add ``display-link create|list|revoke`` to the command line."""
    parser = sub.add_parser("display-link", help="liens d'affichage des écrans muraux (séances)")
    commands = parser.add_subparsers(dest="display_command", required=True)
    create_p = commands.add_parser("create", help="créer un lien vers une séance")
    create_p.add_argument("seance", help="identifiant de la séance, ou d/<tableau de bord>")
    create_p.add_argument("--days", type=float, default=30, help="durée de validité en jours (30)")
    create_p.add_argument("--label", default="", help="où est l'écran (« hall de l'hôtel du département »)")
    create_p.add_argument("--base-url", default="http://127.0.0.1:8050", help="adresse publique du portail")
    create_p.set_defaults(func=cmd_create)
    list_p = commands.add_parser("list", help="lister les liens actifs")
    list_p.add_argument("--all", action="store_true", help="aussi les liens expirés ou révoqués")
    list_p.set_defaults(func=cmd_list)
    revoke_p = commands.add_parser("revoke", help="révoquer un lien")
    revoke_p.add_argument("id", help="identifiant du lien (affiché à la création et par `list`)")
    revoke_p.set_defaults(func=cmd_revoke)
