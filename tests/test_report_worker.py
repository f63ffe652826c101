"""`python -m pilotis worker --once` sends a scheduled report: the run is claimed once (a second
pass in the same minute queues nothing more), each recipient's PDF is computed with his own
scope, and the outbox sends it with the PDF attached to a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from pilotis.accounts.alert_outbox import drain_outbox
from pilotis.accounts.db import Database
from pilotis.accounts.models import AlertOutbox
from pilotis.core.settings import ROOT
from tests import alerting
from tests.cli_run import run_cli

REPORT = (ROOT / "config" / "reports" / "commission-rsa.yaml").read_text(encoding="utf-8")


def _config(folder: Path) -> Path:
    """The shipped configuration, with the commission report due every minute to two users."""
    config = folder / "config"
    (config / "reports").mkdir(parents=True)
    for item in (ROOT / "config").iterdir():
        if item.name != "reports":
            (config / item.name).symlink_to(item)
    schedule = REPORT[REPORT.index("schedule:") :]
    text = REPORT.replace(schedule, 'schedule:\n  cron: "* * * * *"\n  recipients: {users: [chef.rsa, laval.rsa]}\n')
    (config / "reports" / "commission-rsa.yaml").write_text(text, encoding="utf-8")
    return config


def test_the_worker_sends_the_scheduled_report_once_per_recipient(tmp_path: Path) -> None:
    config = _config(tmp_path)
    instance = tmp_path / "instance"
    instance.mkdir()
    with alerting.smtp_server() as (box, mail), Database(f"sqlite:///{instance / 'pilotis.db'}") as db:
        db.upgrade()
        alerting.add_user(db, "chef.rsa", email="chef@cd53.test", roles=["agent"], department="solidarites")
        alerting.add_user(
            db,
            "laval.rsa",
            email="laval@cd53.test",
            roles=["agent"],
            department="solidarites",
            territory="epci:200083392",
        )
        env = {"PILOTIS_CONFIG_DIR": str(config), "PILOTIS_INSTANCE_DIR": str(instance), "PILOTIS_JOB_MODULES": ""}
        env |= {"PILOTIS_SMTP_HOST": mail.host, "PILOTIS_SMTP_PORT": str(mail.port)}
        for _ in range(2):  # the second pass, in the same minute, finds the run claimed already
            done = run_cli(["worker", "--once"], env=env)
            assert done.returncode == 0, done.stdout + done.stderr
        query = select(AlertOutbox.created_at, AlertOutbox.recipient).where(
            AlertOutbox.rule == "rapport:commission-rsa"
        )
        by_due: dict[dt.datetime, list[str]] = {}
        for due, recipient in db.read(query):
            by_due.setdefault(due, []).append(recipient)
        assert by_due  # one due time (two if the passes straddled a minute): each run once, one mail each
        assert all(sorted(people) == ["chef@cd53.test", "laval@cd53.test"] for people in by_due.values())
        drain_outbox(
            db, dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=1), mail=mail, webhook_secret="x"
        )
        with box.event:
            box.event.wait_for(lambda: len(box.to("laval@cd53.test")) >= 1, timeout=60)
        message = box.to("laval@cd53.test")[0]
        assert message["Subject"] == "Rapport de la commission RSA — CA Laval Agglomération"
        (attachment,) = list(message.iter_attachments())
        pdf = PdfReader(io.BytesIO(attachment.get_content()))
        assert pdf.trailer["/Root"]["/Lang"] == "fr"
        chef = box.to("chef@cd53.test")[0]
        assert chef["Subject"] == "Rapport de la commission RSA — Mayenne"
