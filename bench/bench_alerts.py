"""Benchmark of an alert's latency: from a data change to the e-mail accepted by the SMTP server.

One sample = a sensor reading committed to the table of the `capteurs` dataset (a `sql` source
on a SQLite file; the clock starts once it is committed), then what the worker does at the
rule's slot: :func:`evaluate_due_rules` (read the values through the Scope, step the states, write
history and outbox in one transaction) and :func:`drain_outbox` (SMTP) — timed until the real
SMTP server (aiosmtpd, loopback) has accepted the message. Values alternate above and below the
thresholds so that every sample is a transition (alert, then recovery); each sample is its own
one-minute slot of a simulated clock.
Two cases: one sensor, and a storm of 40 sensors changing together (one grouped e-mail per
recipient, two recipients).

Third case, end to end and without any worker: a reading over the threshold POSTed to
``/capteurs/crues-mayenne/releves`` of the real app (shipped configuration, rule
``crues-hauteur``, Flask test client, SQLite): the clock starts before the request and stops when
the SMTP server has accepted the e-mail sent by the evaluation the ingestion kicked in the
background (:mod:`pilotis.accounts.alert_trigger`). The HTTP answer's own time is reported too
(it must not include the evaluation). Between two samples the readings and the rule's states are
wiped and the trigger's ``min_interval`` (1 s) waited (not timed), so that each sample fires and
is a lone reading: a reading within a second of the previous evaluation waits for the rest of
that second (evaluations of a stream are spaced so).

Baseline, measured in the same run: the same e-mail sent with a bare ``smtplib`` call (what any
mailer costs): the ratio is Pilotis's overhead. Target: p95 ≤ 2 s.

Usage: ``python bench/bench_alerts.py [--samples 30]`` (about 1 min).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import smtplib
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from app import create_app  # noqa: E402
from bench.common import machine, md_table, median_ms, p95_ms  # noqa: E402
from pilotis.accounts import sensor_store  # noqa: E402
from pilotis.accounts.db import Database, get_db  # noqa: E402
from pilotis.accounts.models import AlertState  # noqa: E402
from pilotis.core.settings import Settings  # noqa: E402
from pilotis.web.sensors_api import TRIGGER  # noqa: E402
from tests import alerting  # noqa: E402  (the test kit: dataset, users, SMTP server)

RULE = """
label: Température des capteurs
dataset: capteurs
measure: avg(valeur)
instance: capteur
territory_column: commune
time_column: horodatage
window: 1min
thresholds: {alerte: 35}
recovery: 30
recipients: {roles: [admin], departments: [solidarites]}
"""


def _wait_for(box: alerting.Mailbox, count: int, timeout: float = 10.0) -> float:
    """The moment the SMTP server holds ``count`` messages."""
    deadline = time.perf_counter() + timeout
    with box.event:
        while len(box.messages) < count:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"{len(box.messages)} messages reçus sur {count}")
            box.event.wait(left)
    return time.perf_counter()


def posted_to_mail(
    samples: int, box: alerting.Mailbox, mail: alerting.MailSettings, tmp: Path
) -> tuple[list[float], list[float]]:
    """Reading POSTed → e-mail accepted, and the HTTP answer's time, in seconds (third case)."""
    os.environ.update(
        {"PILOTIS_SMTP_HOST": mail.host, "PILOTIS_SMTP_PORT": str(mail.port), "PILOTIS_SMTP_FROM": mail.sender}
    )
    settings = Settings.from_env(
        root=ROOT, config_dir=ROOT / "config", dashboards_dir=ROOT / "dashboards", instance_dir=tmp / "instance",
        database_url=f"sqlite:///{tmp / 'pilotis.db'}", mode="demo", host="0.0.0.0", secure_cookies=False, proxies=0,
    )  # fmt: skip
    server = create_app(settings).server
    db = get_db(server)
    token = sensor_store.create_token(db, "crues-mayenne", "bench")[1]
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE users SET email = 'astreinte@cd53.test' WHERE username = 'admin'"))
    client = server.test_client()
    total, answers = [], []
    for sample in range(samples + 1):  # the first one warms up (first query, first thread)
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM sensor_readings"))
            connection.execute(AlertState.__table__.delete())
        time.sleep(server.extensions[TRIGGER].min_interval)  # a lone reading (see the docstring)
        moment = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        body = json.dumps({"readings": [{"device": "mayenne-laval", "ts": moment, "value": 4.2}]})
        before = len(box.messages)
        start = time.perf_counter()
        response = client.post(
            "/capteurs/crues-mayenne/releves", data=body, content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
            environ_base={"REMOTE_ADDR": f"10.0.{sample // 250}.{sample % 250}"},  # under the rate limit
        )  # fmt: skip
        answered = time.perf_counter()
        if response.status_code != 200:
            raise RuntimeError(f"relevé refusé : {response.get_json()}")
        done = _wait_for(box, before + 1)
        if sample:
            total.append(done - start)
            answers.append(answered - start)
    server.extensions[TRIGGER].idle(10)
    db.dispose()
    return total, answers


def run(samples: int) -> int:
    with tempfile.TemporaryDirectory() as folder, alerting.smtp_server() as (box, mail):
        tmp = Path(folder)
        sensors = alerting.Sensors(tmp / "capteurs.db")
        registry = alerting.registry_of(alerting.make_config(tmp, {"temperature": RULE}, sensors.path))
        with Database(f"sqlite:///{tmp / 'app.db'}") as db:
            db.upgrade()
            alerting.add_user(db, "astreinte", email="astreinte@cd53.test", roles=["admin"])
            alerting.add_user(
                db, "agent.laval", email="agent.laval@cd53.test", roles=["agent"],
                territory=f"epci:{alerting.LAVAL_EPCI}", department="solidarites",
            )  # fmt: skip
            evaluator = alerting.Evaluator(db, registry, "bench")
            rows = []
            minute = 0
            for label, width in (("1 capteur", 1), ("40 capteurs ensemble", 40)):
                names = [f"s{i:02d}" for i in range(width)]
                communes = {n: (alerting.INSIDE + alerting.OUTSIDE)[i % 6] for i, n in enumerate(names)}
                latencies = []
                evaluator.run(alerting.START + minute * dt.timedelta(minutes=1))  # warm: first query, first slot
                for sample in range(samples):
                    minute += 1
                    moment = alerting.START + minute * dt.timedelta(minutes=1)
                    value = 40.0 if sample % 2 == 0 else 20.0
                    before = len(box.messages)
                    sensors.add(moment, dict.fromkeys(names, value), communes)
                    start = time.perf_counter()  # the change is committed: the clock starts
                    now = moment + dt.timedelta(seconds=1)
                    evaluator.run(now)
                    sent = evaluator.drain(now, mail).sent
                    if not sent:
                        raise RuntimeError(f"{label}, mesure {sample} : aucun message envoyé")
                    latencies.append(_wait_for(box, before + sent) - start)
                rows.append((label, median_ms(latencies), p95_ms(latencies)))
            baseline = []
            for _ in range(samples):
                message = EmailMessage()
                message["Subject"], message["From"], message["To"] = "test", mail.sender, "astreinte@cd53.test"
                message.set_content("x" * 2000)
                count = len(box.messages) + 1
                start = time.perf_counter()
                with smtplib.SMTP(mail.host, mail.port) as smtp:
                    smtp.send_message(message)
                baseline.append(_wait_for(box, count) - start)
            total, answers = posted_to_mail(samples, box, mail, tmp)
            rows.append(("relevé POSTé → e-mail, sans worker", median_ms(total), p95_ms(total)))
            base = median_ms(baseline)
            table = [
                (label, f"{p50:.1f}", f"{p95:.1f}", f"{p50 / base:.1f}×", "oui" if p95 <= 2000 else "NON")
                for label, p50, p95 in rows
            ]
            answer = median_ms(answers)
            table.append(
                ("… dont la réponse HTTP", f"{answer:.1f}", f"{p95_ms(answers):.1f}", f"{answer / base:.1f}×", "")
            )
            table.append(("smtplib seul (référence)", f"{base:.1f}", f"{p95_ms(baseline):.1f}", "1.0×", ""))
            print(f"## Latence d'une alerte (changement de données → e-mail accepté), {samples} mesures\n")
            print(machine() + "\n")
            print(md_table(["Cas", "p50 (ms)", "p95 (ms)", "p50 / référence", "p95 ≤ 2 s"], table))
            return 0 if all(p95 <= 2000 for _, _, p95 in rows) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30)
    return run(parser.parse_args().samples)


if __name__ == "__main__":
    sys.exit(main())
