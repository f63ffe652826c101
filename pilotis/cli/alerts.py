"""``python -m pilotis alerts evaluate [--once]``: evaluate the alert rules that are due, then
deliver the outbox (e-mails, webhooks). Without ``--once`` it keeps going, every ``--interval``
seconds; several may run at once on one database (each slot is evaluated once, each message sent
once: see :mod:`pilotis.accounts.alert_engine`). ``alerts email USER ADDRESS``: where the alerts
of a user are sent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from typing import Any

from pilotis.accounts import audit
from pilotis.accounts.alert_actions import set_email
from pilotis.accounts.alert_engine import evaluate_due_rules, naive_utc, territory_index
from pilotis.accounts.alert_notify import AlertOptions
from pilotis.accounts.alert_outbox import MailSettings, drain_outbox
from pilotis.accounts.db import Database
from pilotis.accounts.users import UserError
from pilotis.cli.common import actor, with_db
from pilotis.core.cache import make_cache
from pilotis.core.data import DataService
from pilotis.core.errors import ConfigError
from pilotis.core.loader import registry_for
from pilotis.core.settings import Settings
from pilotis.plugins import register_builtins


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Evaluate the due rules and drain the outbox, once or in a loop."""
    register_builtins()
    settings = Settings.from_env()
    try:
        registry = registry_for(settings)
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    data = DataService(registry.datasets, make_cache(settings.cache_url, prefix=settings.cache_prefix))
    territories = territory_index(registry, data)
    options = AlertOptions.from_env(settings.secret_key)
    mail = MailSettings.from_env()
    with Database(settings.database_url) as db:
        db.upgrade()
        while True:
            now = naive_utc(dt.datetime.now(dt.UTC))
            runs = evaluate_due_rules(db, registry, now, options=options, data=data, territories=territories)
            sent = drain_outbox(db, now, mail=mail, webhook_secret=options.signing_secret)
            events = sum(len(run.events) for run in runs)
            print(
                f"{now:%Y-%m-%d %H:%M:%S} UTC : {len(runs)} évaluation(s), {events} changement(s) d'état, "
                f"{sent.sent} message(s) envoyé(s), {sent.retried} à réessayer, {sent.failed} en échec",
                flush=True,
            )
            if args.once:
                return 0
            time.sleep(args.interval)


@with_db
def cmd_email(args: argparse.Namespace, db: Database) -> int:
    """Set (or remove, with ``-``) the address a user's alerts are sent to; audited."""
    address = None if args.address == "-" else args.address.strip()
    try:
        set_email(db, args.username, address)
    except UserError as exc:
        print(f"erreur : {exc}", file=sys.stderr)
        return 1
    audit.record("user_updated", username=actor(), ip=None, target=args.username,
                 detail=f"adresse des alertes : {address or 'aucune'}", db=db)  # fmt: skip
    print(f"{args.username} : alertes envoyées à {address or '(aucune adresse)'}")
    return 0


def register(sub: Any) -> None:
    """Add ``alerts evaluate`` to the command line."""
    parser = sub.add_parser("alerts", help="alertes : évaluer les règles de config/alerts, envoyer les messages")
    commands = parser.add_subparsers(dest="alerts_command", required=True)
    evaluate = commands.add_parser("evaluate", help="évaluer les règles dues puis envoyer les messages")
    evaluate.add_argument("--once", action="store_true", help="une seule passe (sinon : en boucle)")
    evaluate.add_argument("--interval", type=float, default=20, help="secondes entre deux passes (20)")
    evaluate.set_defaults(func=cmd_evaluate)
    email = commands.add_parser("email", help="adresse e-mail où envoyer les alertes d'un compte")
    email.add_argument("username", help="identifiant du compte")
    email.add_argument("address", help="adresse e-mail, ou - pour la retirer")
    email.set_defaults(func=cmd_email)
