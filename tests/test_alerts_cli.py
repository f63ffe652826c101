"""`python -m pilotis alerts evaluate --once` on the shipped configuration, and an evaluator
process killed with SIGKILL in the middle of its transaction: another one evaluates the slot
again, the transition is recorded and told once (SQLite, and PostgreSQL with PILOTIS_TEST_PG)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pilotis.accounts.db import Database
from pilotis.accounts.models import AlertRun, AlertState, AlertTransition, User
from pilotis.core.settings import ROOT
from tests import alerting
from tests.cli_run import run_cli
from tests.dbutil import DB_KINDS, database_url

RULE = """
label: Température
dataset: capteurs
measure: avg(valeur)
instance: capteur
time_column: horodatage
window: 1min
thresholds: {alerte: 35}
recipients: {roles: [admin]}
"""


def test_the_command_evaluates_the_shipped_rule_once_per_slot(tmp_path: Path) -> None:
    env = {"PILOTIS_INSTANCE_DIR": str(tmp_path), "PILOTIS_SMTP_PORT": "1"}
    first = run_cli(["alerts", "evaluate", "--once"], env=env)
    assert first.returncode == 0, first.stderr
    # The two shipped rules: RSA (`for: 1h`: pending first) and the flood stations (no reading yet).
    assert "2 évaluation(s), 0 changement(s) d'état" in first.stdout
    again = run_cli(["alerts", "evaluate", "--once"], env=env)  # same 15-minute slot of the RSA rule
    assert again.returncode == 0, again.stderr
    with Database(f"sqlite:///{tmp_path / 'pilotis.db'}") as db, db.sessions() as session:
        rsa_runs = session.scalar(select(func.count()).select_from(AlertRun).where(AlertRun.rule == "rsa-foyers-epci"))
        pending = session.scalars(select(AlertState.instance).where(AlertState.state == "pending")).all()
    assert rsa_runs == 1
    assert pending == ["200083392"]  # Laval Agglomération, 2 228 foyers ≥ 2 000, for less than 1 h


@pytest.mark.parametrize("kind", DB_KINDS)
def test_an_evaluator_killed_in_its_transaction_loses_nothing(kind: str, tmp_path: Path) -> None:
    sensors = alerting.Sensors(tmp_path / "capteurs.db")
    config = alerting.make_config(tmp_path, {"temperature": RULE}, sensors.path)
    registry = alerting.registry_of(config)
    sensors.add(alerting.START, {"c1": 40.0})
    now = alerting.START + dt.timedelta(seconds=30)
    marker = tmp_path / "marker"
    with database_url(kind, tmp_path) as url, alerting.smtp_server() as (box, mail), Database(url) as db:
        db.upgrade()
        alerting.add_user(db, "astreinte", email="astreinte@cd53.test", roles=["admin"])
        worker = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "alert_worker.py"), str(config), url, now.isoformat(), str(marker)],
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if not k.startswith("PILOTIS_")},
        )
        try:
            deadline = time.monotonic() + 60
            while not marker.exists():
                assert worker.poll() is None and time.monotonic() < deadline, "the worker did not reach its transaction"
                time.sleep(0.05)
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        evaluator = alerting.Evaluator(db, registry, "relève")
        assert len(evaluator.run(now)) == 1
        evaluator.drain(now, mail)
        with db.sessions() as session:
            assert session.scalar(select(func.count()).select_from(AlertRun)) == 1
            assert session.scalars(select(AlertTransition.kind)).all() == ["firing"]
    assert len(box.to("astreinte@cd53.test")) == 1


def test_the_address_of_a_users_alerts_is_set_from_the_command_line(tmp_path: Path) -> None:
    env = {"PILOTIS_INSTANCE_DIR": str(tmp_path)}
    assert run_cli(["users", "add", "agent.rsa", "--roles", "agent", "--generate"], env=env).returncode == 0
    done = run_cli(["alerts", "email", "agent.rsa", "agent.rsa@cd53.test"], env=env)
    assert done.returncode == 0, done.stderr
    bad = run_cli(["alerts", "email", "agent.rsa", "pas-une-adresse"], env=env)
    assert bad.returncode == 1 and "adresse e-mail `pas-une-adresse` invalide" in bad.stderr
    unknown = run_cli(["alerts", "email", "personne", "x@cd53.test"], env=env)
    assert unknown.returncode == 1 and "inconnu" in unknown.stderr
    with Database(f"sqlite:///{tmp_path / 'pilotis.db'}") as db, db.sessions() as session:
        assert session.scalar(select(User.email).where(User.username == "agent.rsa")) == "agent.rsa@cd53.test"
