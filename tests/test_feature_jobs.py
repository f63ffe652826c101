"""`python -m pilotis worker --once` runs the features' jobs: a sensor over its threshold becomes
an alert e-mail received by a real SMTP server on loopback, with no `alerts evaluate` process; a
second pass in the same slot sends nothing more."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from pilotis.accounts import sensor_store
from pilotis.accounts.db import Database
from pilotis.accounts.models import AlertState
from pilotis.core.loader import load_sensors
from pilotis.core.settings import ROOT
from tests import alerting
from tests.cli_run import run_cli

RULE = """
label: Niveau d'eau
dataset: capteurs
measure: avg(valeur)
instance: capteur
time_column: horodatage
window: 10min
thresholds: {alerte: 35}
recipients: {roles: [admin]}
"""


def test_the_worker_evaluates_the_rules_and_sends_the_mail(tmp_path: Path) -> None:
    sensors = alerting.Sensors(tmp_path / "capteurs.db")
    config = alerting.make_config(tmp_path, {"niveau": RULE}, sensors.path)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    sensors.add(now - dt.timedelta(seconds=5), {"c1": 40.0})
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    with alerting.smtp_server() as (box, mail), Database(f"sqlite:///{instance / 'pilotis.db'}") as db:
        db.upgrade()
        alerting.add_user(db, "astreinte", email="astreinte@cd53.test", roles=["admin"])
        env = {
            "PILOTIS_CONFIG_DIR": str(config),
            "PILOTIS_INSTANCE_DIR": str(instance),
            "PILOTIS_SMTP_HOST": mail.host,
            "PILOTIS_SMTP_PORT": str(mail.port),
            "PILOTIS_JOB_MODULES": "",
        }
        first = run_cli(["worker", "--once"], env=env)
        assert first.returncode == 0, first.stdout + first.stderr
        received = box.to("astreinte@cd53.test")
        assert len(received) == 1, first.stdout
        assert "Niveau d'eau" in received[0]["Subject"] or "Niveau d'eau" in received[0].get_body().get_content()
        again = run_cli(["worker", "--once"], env=env)  # same slot: nothing new to evaluate or send
        assert again.returncode == 0
        assert len(box.to("astreinte@cd53.test")) == 1


def test_a_flood_reading_in_the_application_database_fires_the_shipped_rule(tmp_path: Path) -> None:
    """The shipped rule `crues-hauteur` reads the `capteurs` datasets, which live in the application
    database: the command must give them its address (it answered « base inconnue » before)."""
    url = f"sqlite:///{tmp_path / 'pilotis.db'}"
    with Database(url) as db:
        db.upgrade()
        ids = sensor_store.sync_devices(db, load_sensors(ROOT / "config"))
        laval = ids[("crues-mayenne", "mayenne-laval")]
        sensor_store.insert(db, [(laval, dt.datetime.now(dt.UTC).replace(tzinfo=None), 4.2)])
    done = run_cli(
        ["alerts", "evaluate", "--once"], env={"PILOTIS_INSTANCE_DIR": str(tmp_path), "PILOTIS_SMTP_PORT": "1"}
    )
    assert done.returncode == 0, done.stderr
    with Database(url) as db, db.sessions() as session:
        states = dict(
            session.execute(
                select(AlertState.instance, AlertState.level).where(AlertState.rule == "crues-hauteur")
            ).all()
        )
    assert states.get("La Mayenne à Laval") == "crise", states
