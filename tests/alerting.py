"""Alert test kit: a configuration with a sensor dataset (a real SQLite table the test writes to,
read through the `sql` source) and alert rules, an application database with users, a real SMTP
server (aiosmtpd) and a real HTTP webhook receiver on loopback, a controlled clock.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import http.server
import json
import socket
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from pilotis.accounts import users
from pilotis.accounts.alert_engine import RunReport, evaluate_due_rules, territory_index
from pilotis.accounts.alert_notify import AlertOptions
from pilotis.accounts.alert_outbox import DrainReport, MailSettings, drain_outbox, signature
from pilotis.accounts.db import Database
from pilotis.accounts.models import User
from pilotis.core.cache import TTLCache
from pilotis.core.data import DataService
from pilotis.core.loader import load_registry
from pilotis.core.registry import Registry
from pilotis.core.settings import ROOT
from pilotis.plugins import register_builtins

START = dt.datetime(2026, 12, 7, 8, 0)
"""Monday 7 December 2026, 08:00 UTC: the simulated clock starts here."""
SECRET = "secret-de-test-des-alertes"
HOOK_SECRET = "secret-des-webhooks"
PASSWORD = "Un-mot-de-passe-solide-42"
# Laval agglomération (EPCI 200083392) holds 53130 (Laval) and 53001; 53002 is in another EPCI.
LAVAL_EPCI = "200083392"
INSIDE = ("53001", "53007", "53026")
OUTSIDE = ("53002", "53008", "53021")

SENSORS_DATASET = """
capteurs:
  type: sql
  url: sqlite:///{path}
  table: mesures
  title: Capteurs de test
  columns:
    capteur: {{label: Capteur}}
    commune: {{label: Commune}}
    horodatage: {{label: Horodatage}}
    valeur: {{label: Valeur}}
  ttl: 1h
  retry: 0s  # the simulated clock runs faster than the source's back-off (real seconds)
"""


class Sensors:
    """The sensor readings table (the dataset `capteurs`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE mesures (capteur TEXT, commune TEXT, horodatage TIMESTAMP, valeur REAL)")

    def rename(self, old: str, new: str) -> None:
        """Rename the table (the source then fails with « table introuvable »)."""
        with sqlite3.connect(self.path) as connection:
            connection.execute(f"ALTER TABLE {old} RENAME TO {new}")

    def add(self, moment: dt.datetime, values: dict[str, float], commune: str | dict[str, str] = "53130") -> None:
        """One reading per sensor at ``moment`` (stored as SQLite compares datetime parameters)."""
        with sqlite3.connect(self.path) as connection:
            connection.executemany(
                "INSERT INTO mesures VALUES (?, ?, ?, ?)",
                [
                    (name, commune if isinstance(commune, str) else commune[name], str(moment), value)
                    for name, value in values.items()
                ],
            )


def make_config(folder: Path, rules: dict[str, str], sensors: Path) -> Path:
    """A configuration folder: the shipped one, plus the dataset `capteurs` and ``rules``."""
    config = folder / "config"
    (config / "datasets").mkdir(parents=True)
    for item in (ROOT / "config").iterdir():
        if item.name not in ("datasets", "alerts"):
            (config / item.name).symlink_to(item)
    for item in (ROOT / "config" / "datasets").iterdir():
        (config / "datasets" / item.name).symlink_to(item)
    # A file name of its own: writing through a symlink of the same name would overwrite the
    # repository's config/datasets/capteurs.yaml (the flood demo's datasets).
    test_file = config / "datasets" / "zz_alert_test_sensors.yaml"
    test_file.write_text(SENSORS_DATASET.format(path=sensors), encoding="utf-8")
    (config / "alerts").mkdir()
    for name, text in rules.items():
        (config / "alerts" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return config


def registry_of(config: Path) -> Registry:
    register_builtins()
    return load_registry(ROOT, config, ROOT / "dashboards", instance_dir=config.parent / "instance")


def add_user(
    db: Database,
    name: str,
    *,
    email: str | None,
    roles: list[str],
    territory: str | None = None,
    department: str | None = None,
) -> None:
    """An active account with an e-mail address."""
    users.create(
        db,
        username=name,
        display_name=name,
        department=department,
        roles=roles,
        territory=territory,
        password=PASSWORD,
        departments={"solidarites": "Solidarités"},
        demo=True,
    )
    with db.session() as session:
        user = users.get(session, name)
        user.email = email
        session.add(user)


@dataclass
class Mailbox:
    """What the real SMTP server accepted."""

    messages: list[EmailMessage] = field(default_factory=list)
    event: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd API)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.event:
            for rcpt in envelope.rcpt_tos:
                copy = email.message_from_bytes(envelope.content, policy=email.policy.default)
                copy["X-Envelope-To"] = rcpt
                self.messages.append(copy)  # type: ignore[arg-type]
            self.event.notify_all()
        del message
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["X-Envelope-To"] == address]


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, MailSettings]]:
    """A real SMTP server on a free loopback port."""
    box = Mailbox()
    with socket.socket() as probe:  # aiosmtpd checks its own port after starting: it needs a real one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, MailSettings(host="127.0.0.1", port=port, sender="alertes@pilotis.test")
    finally:
        controller.stop()


@dataclass
class Hooks:
    """What the real webhook receiver got: (verified signature?, JSON document)."""

    calls: list[tuple[bool, dict[str, Any]]] = field(default_factory=list)
    fail_next: int = 0


@contextmanager
def webhook_server() -> Iterator[tuple[Hooks, str]]:
    """A real HTTP server on loopback checking the HMAC of each call (answers 500 ``fail_next`` times)."""
    hooks = Hooks()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            header = self.headers.get("X-Pilotis-Signature", "")
            stamp = int(dict(part.split("=", 1) for part in header.split(","))["t"]) if header else 0
            good = header == signature(HOOK_SECRET, body, stamp)
            if hooks.fail_next:
                hooks.fail_next -= 1
                self.send_response(500)
                self.end_headers()
                return
            hooks.calls.append((good, json.loads(body)))
            self.send_response(204 if good else 401)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hooks, f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


OPTIONS = AlertOptions(secret=SECRET, base_url="https://pilotis.test", worker="test", webhook_secret=HOOK_SECRET)


@dataclass
class Evaluator:
    """One evaluator process: its own database connections and data service, like a worker."""

    db: Database
    registry: Registry
    name: str = "test"

    def __post_init__(self) -> None:
        self.data = DataService(self.registry.datasets, TTLCache())
        self.territories = territory_index(self.registry, self.data)  # read once, as a worker does

    def run(self, now: dt.datetime) -> list[RunReport]:
        options = AlertOptions(secret=SECRET, base_url=OPTIONS.base_url, worker=self.name, webhook_secret=HOOK_SECRET)
        return evaluate_due_rules(
            self.db, self.registry, now, options=options, data=self.data, territories=self.territories
        )

    def drain(self, now: dt.datetime, mail: MailSettings) -> DrainReport:
        return drain_outbox(self.db, now, mail=mail, webhook_secret=HOOK_SECRET)


def user_row(db: Database, name: str) -> User:
    with db.sessions() as session:
        return users.get(session, name)
