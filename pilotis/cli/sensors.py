"""``python -m pilotis sensors token create|list|revoke | rollup | purge | simulate``: sensor readings.

Upload tokens are write-only: they let a device or a network server post readings to
``/capteurs/<source>/releves`` and nothing else. A token is shown once, stored hashed, and
revoked by its id. ``rollup`` and ``purge`` are what the worker runs every few minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from pilotis.accounts import audit, sensor_store
from pilotis.accounts.db import Database
from pilotis.cli import sensors_simulate
from pilotis.cli.common import actor, with_db
from pilotis.core.errors import ConfigError, did_you_mean
from pilotis.core.loader import load_sensors
from pilotis.core.settings import Settings


def _sensors() -> dict[str, Any] | None:
    try:
        return load_sensors(Settings.from_env().config_dir)
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return None


@with_db
def cmd_token_create(args: argparse.Namespace, db: Database) -> int:
    """Create a token of a source and print it (once)."""
    sensors = _sensors()
    if sensors is None:
        return 1
    if args.source not in sensors:
        print(f"source de capteurs `{args.source}` inconnue ; {did_you_mean(args.source, sensors)}", file=sys.stderr)
        return 1
    token_id, token = sensor_store.create_token(db, args.source, args.label, actor())
    audit.record(
        "sensor_token_created", username=actor(), ip=None, target=args.source, detail=f"jeton {token_id}", db=db
    )
    print(f"Jeton d'envoi {token_id} de la source « {args.source} » (affiché une seule fois, conservez-le) :")
    print(token)
    print(f"Usage : Authorization: Bearer <jeton> sur POST /capteurs/{args.source}/releves")
    return 0


@with_db
def cmd_token_list(args: argparse.Namespace, db: Database) -> int:
    """The tokens (never their value)."""
    found = sensor_store.list_tokens(db, args.source)
    if not found:
        print("Aucun jeton d'envoi.")
    for row in found:
        state = f"révoqué le {row.revoked_at:%d/%m/%Y %H:%M}" if row.revoked_at else "actif"
        print(f"{row.id:>4}  {row.source:<24} {state:<28} créé le {row.created_at:%d/%m/%Y %H:%M}  {row.label}")
    return 0


@with_db
def cmd_token_revoke(args: argparse.Namespace, db: Database) -> int:
    """Revoke a token: refused from the next request on."""
    if not sensor_store.revoke_token(db, args.id):
        print(f"aucun jeton actif n° {args.id}", file=sys.stderr)
        return 1
    audit.record("sensor_token_revoked", username=actor(), ip=None, target=str(args.id), db=db)
    print(f"Jeton {args.id} révoqué.")
    return 0


@with_db
def cmd_rollup(args: argparse.Namespace, db: Database) -> int:
    """Hourly aggregates of the last 48 h (or since ``--depuis``)."""
    since = dt.datetime.fromisoformat(args.depuis) if args.depuis else None
    written = sensor_store.rollup(db, since=since)
    print(f"{written} moyenne(s) horaire(s) calculée(s).")
    return 0


@with_db
def cmd_purge(args: argparse.Namespace, db: Database) -> int:
    """Delete the raw readings older than each source's ``raw_days``."""
    sensors = _sensors()
    if sensors is None:
        return 1
    removed = sensor_store.purge(db, sensors)
    print(f"{removed} relevé(s) brut(s) supprimé(s) (les moyennes horaires sont gardées).")
    return 0


def register(sub: Any) -> None:
    """Add ``sensors …`` to the command line."""
    parser = sub.add_parser("sensors", help="capteurs : jetons d'envoi, agrégats horaires, purge, simulation")
    commands = parser.add_subparsers(dest="sensors_command", required=True)
    token = commands.add_parser("token", help="jetons d'envoi des relevés")
    tokens = token.add_subparsers(dest="token_command", required=True)
    create_p = tokens.add_parser("create", help="créer un jeton d'envoi pour une source")
    create_p.add_argument("source", help="identifiant de la source (config/sensors/<source>.yaml)")
    create_p.add_argument("--label", default="", help="qui l'utilise (« serveur ChirpStack »)")
    create_p.set_defaults(func=cmd_token_create)
    list_p = tokens.add_parser("list", help="lister les jetons")
    list_p.add_argument("source", nargs="?", default=None, help="seulement cette source")
    list_p.set_defaults(func=cmd_token_list)
    revoke_p = tokens.add_parser("revoke", help="révoquer un jeton")
    revoke_p.add_argument("id", type=int, help="numéro du jeton (affiché à la création et par `list`)")
    revoke_p.set_defaults(func=cmd_token_revoke)
    rollup_p = commands.add_parser("rollup", help="calculer les moyennes horaires (48 dernières heures)")
    rollup_p.add_argument(
        "--depuis", default="", help="depuis cette date UTC (2026-12-01T00:00) : relevés très tardifs"
    )
    rollup_p.set_defaults(func=cmd_rollup)
    purge_p = commands.add_parser("purge", help="supprimer les relevés bruts plus vieux que `raw_days`")
    purge_p.set_defaults(func=cmd_purge)
    sensors_simulate.register(commands)
