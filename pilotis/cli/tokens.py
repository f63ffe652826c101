"""``python -m pilotis tokens create-service|list|revoke``: API tokens, service accounts included.

A service account is a token with a direction, roles, an optional territory restriction and an
expiry (no password, no sign-in page): a program of the collectivité (an SIG, a reporting tool)
reads the API with exactly these rights. The token is printed once; only its SHA-256 is stored.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pilotis.accounts import api_tokens, audit
from pilotis.accounts.db import Database
from pilotis.cli.common import actor, departments_of, with_db
from pilotis.core.errors import ConfigError, did_you_mean
from pilotis.core.settings import Settings


@with_db
def cmd_create_service(args: argparse.Namespace, db: Database) -> int:
    """Create a service account's token and print it (shown once)."""
    if args.department is not None:
        try:
            known = departments_of(Settings.from_env())
        except ConfigError as exc:
            print(exc.report(), file=sys.stderr)
            return 1
        if args.department not in known:
            print(f"direction `{args.department}` inconnue ; {did_you_mean(args.department, known, 'directions')}")
            return 1
    try:
        row, token = api_tokens.create_service(
            db,
            args.name,
            department=args.department,
            roles=args.role or ["agent"],
            territory=args.territory,
            days=args.days,
            author=actor(),
            rate_per_minute=args.rate,
        )
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    audit.record(
        "api_token_created",
        username=actor(),
        ip=None,
        target=f"jeton {row.id}",
        detail=f"compte de service « {row.name} » ({row.prefix}…), rôles {row.roles}, "
        f"direction {row.department or '—'}, territoire {row.territory or 'tous'}, "
        f"jusqu'au {row.expires_at:%d/%m/%Y}",
        db=db,
    )
    print(
        f"Compte de service « {row.name} » (jeton n° {row.id}), valable jusqu'au {row.expires_at:%d/%m/%Y %H:%M} UTC :"
    )
    print(token)
    print(
        "Conservez-le : il n'est affiché qu'une fois. Usage : curl -H 'Authorization: Bearer <jeton>' …/api/v1/datasets"
    )
    return 0


@with_db
def cmd_list(args: argparse.Namespace, db: Database) -> int:
    """Tokens (service accounts only unless ``--all``), without their secret."""
    found = api_tokens.tokens(db, kind=None if args.all else "service")
    if not found:
        print("Aucun jeton.")
    for row in found:
        state = "révoqué" if row.revoked_at else "expiré" if row.expires_at <= api_tokens.utcnow() else "actif"
        used = f"{row.last_used_at:%d/%m/%Y %H:%M}" if row.last_used_at else "jamais"
        who = (
            f"rôles {row.roles} / {row.department or '—'} / {row.territory or 'tous'}"
            if row.kind == "service"
            else "personnel"
        )
        print(
            f"{row.id:>4}  {row.prefix}…  {row.name:<30} {state:<8} jusqu'au {row.expires_at:%d/%m/%Y}  "
            f"utilisé : {used}  {who}"
        )
    return 0


@with_db
def cmd_revoke(args: argparse.Namespace, db: Database) -> int:
    """Revoke a token (personal or service): the next call with it gets 401."""
    row = api_tokens.revoke(db, args.id, actor())
    if row is None:
        print(f"aucun jeton actif n° {args.id}", file=sys.stderr)
        return 1
    audit.record(
        "api_token_revoked", username=actor(), ip=None, target=f"jeton {row.id}", detail=f"« {row.name} »", db=db
    )
    print(f"Jeton n° {row.id} (« {row.name} ») révoqué.")
    return 0


def register(sub: Any) -> None:
    """Add ``tokens create-service|list|revoke`` to the command line."""
    parser = sub.add_parser("tokens", help="jetons de l'API (comptes de service)")
    commands = parser.add_subparsers(dest="tokens_command", required=True)
    create_p = commands.add_parser("create-service", help="créer un compte de service et son jeton")
    create_p.add_argument("name", help="nom du compte de service (« sig-agglo »)")
    create_p.add_argument("--department", help="direction (config/departments.yaml)")
    create_p.add_argument(
        "--role", action="append", choices=api_tokens.SERVICE_ROLES, help="rôle (répétable ; défaut : agent)"
    )
    create_p.add_argument("--territory", help="restriction aux lignes d'un territoire (`epci:200083392`)")
    create_p.add_argument("--days", type=int, default=365, help="durée de validité en jours (365, au plus 366)")
    create_p.add_argument("--rate", type=int, help="requêtes par minute (défaut : PILOTIS_API_RATE_PER_MINUTE)")
    create_p.set_defaults(func=cmd_create_service)
    list_p = commands.add_parser("list", help="lister les comptes de service")
    list_p.add_argument("--all", action="store_true", help="aussi les jetons personnels")
    list_p.set_defaults(func=cmd_list)
    revoke_p = commands.add_parser("revoke", help="révoquer un jeton")
    revoke_p.add_argument("id", type=int, help="numéro du jeton (affiché à la création et par `list`)")
    revoke_p.set_defaults(func=cmd_revoke)
