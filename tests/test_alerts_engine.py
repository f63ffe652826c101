"""Alert rules evaluated for real: a sensor table read through the `sql` source, the application
database (SQLite, and PostgreSQL when PILOTIS_TEST_PG is set), a real SMTP server and a real
webhook receiver on loopback, a simulated clock (one evaluation per simulated minute)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pilotis.accounts import alert_actions
from pilotis.accounts.alert_outbox import MailSettings
from pilotis.accounts.db import Database
from pilotis.accounts.models import AlertOutbox, AlertRun, AlertState, AlertTransition
from pilotis.core.registry import Registry
from tests import alerting
from tests.alerting import INSIDE, OUTSIDE, START, Evaluator, Hooks, Mailbox, Sensors
from tests.dbutil import DB_KINDS, database_url

MINUTE = dt.timedelta(minutes=1)
RULE = """
label: Température des capteurs
dataset: capteurs
measure: avg(valeur)
instance: capteur
territory_column: commune
time_column: horodatage
window: 1min
condition: above
thresholds: {{vigilance: 30, alerte: 35}}
recovery: {recovery}
for: {for_}
every: 1min
nodata: {{after: 10min}}
recipients: {{roles: [admin], departments: [solidarites]}}
channels: [email, webhook]
webhooks: ["{hook}"]
{extra}
"""


@dataclass
class Kit:
    db: Database
    url: str
    registry: Registry
    sensors: Sensors
    box: Mailbox
    mail: MailSettings
    hooks: Hooks
    evaluator: Evaluator

    def tick(self, minute: int, values: dict[str, float] | None, commune: str | dict[str, str] = "53130") -> None:
        """Readings at START + minute, evaluated 30 s later, outbox drained."""
        moment = START + minute * MINUTE
        if values:
            self.sensors.add(moment, values, commune)
        self.evaluator.run(moment + dt.timedelta(seconds=30))
        self.evaluator.drain(moment + dt.timedelta(seconds=30), self.mail)

    def kinds(self) -> list[tuple[str, str]]:
        with self.db.sessions() as session:
            rows = session.execute(select(AlertTransition.instance, AlertTransition.kind).order_by(AlertTransition.id))
            return [(r[0], r[1]) for r in rows]


@pytest.fixture(params=DB_KINDS)
def make_kit(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    """``make_kit(recovery=…, for_=…, extra=…)``: everything of the module docstring, running."""
    with ExitStack() as stack:

        def build(recovery: float = 29, for_: str = "0", extra: str = "") -> Kit:
            url = stack.enter_context(database_url(request.param, tmp_path))
            box, mail = stack.enter_context(alerting.smtp_server())
            hooks, hook_url = stack.enter_context(alerting.webhook_server())
            sensors = Sensors(tmp_path / "capteurs.db")
            rule = RULE.format(recovery=recovery, for_=for_, hook=hook_url, extra=extra)
            registry = alerting.registry_of(alerting.make_config(tmp_path, {"temperature": rule}, sensors.path))
            db = stack.enter_context(Database(url))
            db.upgrade()
            alerting.add_user(db, "astreinte", email="astreinte@cd53.test", roles=["admin"])
            alerting.add_user(
                db,
                "agent.laval",
                email="agent.laval@cd53.test",
                roles=["agent"],
                territory=f"epci:{alerting.LAVAL_EPCI}",
                department="solidarites",
            )
            return Kit(db, url, registry, sensors, box, mail, hooks, Evaluator(db, registry))

        yield build


def test_flapping_around_the_threshold_notifies_once(make_kit) -> None:
    """±0.05 around the threshold every minute for an hour: the recovery threshold (29) holds the
    alert, one message; with `for: 5min` the threshold never holds long enough: none."""
    kit = make_kit(recovery=29)
    for minute in range(60):
        kit.tick(minute, {"c1": 30.05 if minute % 2 == 0 else 29.95})
    assert kit.kinds() == [("c1", "firing")]
    mails = kit.box.to("astreinte@cd53.test")
    assert len(mails) == 1
    text = mails[0].get_body(("plain",)).get_content()
    assert "⚠ vigilance" in text and "30,05" in text and "seuil 30" in text and "/alertes/acquitter/" in text
    assert len(kit.hooks.calls) == 1 and kit.hooks.calls[0][0]


def test_flapping_with_a_delay_never_fires(make_kit) -> None:
    kit = make_kit(recovery=29, for_="5min")
    for minute in range(60):
        kit.tick(minute, {"c1": 30.05 if minute % 2 == 0 else 29.95})
    assert kit.kinds() == []
    assert kit.box.messages == []


def test_a_series_that_stops_gives_one_nodata_and_one_recovery(make_kit) -> None:
    kit = make_kit()
    for minute in range(60):
        kit.tick(minute, {"c1": 20.0} if not 15 <= minute < 45 else None)
    assert kit.kinds() == [("c1", "nodata"), ("c1", "recovered")]
    subjects = [m["Subject"] for m in kit.box.to("astreinte@cd53.test")]
    assert len(subjects) == 2
    assert "plus de données" in subjects[0] and "retour à la normale" in subjects[1]


def test_restricted_agent_is_told_only_inside_his_territory_and_a_storm_is_one_message(make_kit) -> None:
    """40 sensors fire together, half in Laval Agglomération: one e-mail per recipient; the
    agent restricted to that EPCI reads only its 20 sensors, the administrator all 40."""
    kit = make_kit()
    names = [f"s{i:02d}" for i in range(40)]
    communes = {name: (INSIDE if i < 20 else OUTSIDE)[i % 3] for i, name in enumerate(names)}
    kit.tick(0, dict.fromkeys(names, 36.0), communes)
    assert len(kit.box.to("astreinte@cd53.test")) == 1
    agent = kit.box.to("agent.laval@cd53.test")
    assert len(agent) == 1
    text = agent[0].get_body(("plain",)).get_content()
    assert all(f"- {name} " in text for name in names[:20])
    assert not any(f"- {name} " in text for name in names[20:])
    assert "▲ alerte" in text
    assert len(kit.box.to("astreinte@cd53.test")[0].get_body(("plain",)).get_content().split("\n- ")) == 41
    assert len(kit.hooks.calls) == 1 and kit.hooks.calls[0][0] and len(kit.hooks.calls[0][1]["events"]) == 40


def test_three_concurrent_evaluators_run_each_minute_once(make_kit) -> None:
    """Three evaluators (threads, each with its own connections) on the same clock for an hour:
    60 runs, each transition recorded and told once."""
    kit = make_kit()
    values = {m: (36.0 if 10 <= m < 30 or m >= 45 else 20.0) for m in range(60)}
    for minute, value in values.items():
        kit.sensors.add(START + minute * MINUTE, {"c1": value})
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        with Database(kit.url) as db:
            evaluator = Evaluator(db, kit.registry, name)
            try:
                for minute in range(60):
                    barrier.wait(timeout=60)
                    now = START + minute * MINUTE + dt.timedelta(seconds=30)
                    evaluator.run(now)
                    evaluator.drain(now, kit.mail)
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)
                barrier.abort()

    threads = [threading.Thread(target=work, args=(f"evaluateur-{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors
    with kit.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AlertRun)) == 60
        assert session.scalar(select(func.count(func.distinct(AlertRun.worker)))) >= 1
        assert session.scalar(select(func.count()).select_from(AlertOutbox).where(AlertOutbox.status != "sent")) == 0
    assert kit.kinds() == [("c1", "firing"), ("c1", "recovered"), ("c1", "firing")]
    assert len(kit.box.to("astreinte@cd53.test")) == 3
    assert len(kit.hooks.calls) == 3


def test_an_evaluator_killed_mid_run_loses_no_transition(make_kit, monkeypatch: pytest.MonkeyPatch) -> None:
    kit = make_kit()
    kit.sensors.add(START, {"c1": 36.0})
    now = START + dt.timedelta(seconds=30)

    def crash(*args, **kwargs):  # the process dies after the states were stepped, before commit
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr("pilotis.accounts.alert_notify.Outbox.write", crash)
        with pytest.raises(KeyboardInterrupt):
            kit.evaluator.run(now)
    assert kit.kinds() == []
    with Database(kit.url) as db:
        other = Evaluator(db, kit.registry, "relève")
        assert len(other.run(now)) == 1
        assert other.run(now) == []  # the slot is taken now
        other.drain(now, kit.mail)
    assert kit.kinds() == [("c1", "firing")]
    assert len(kit.box.to("astreinte@cd53.test")) == 1


def test_a_restarted_evaluator_resumes_the_for_delay(make_kit) -> None:
    """`for: 5min`: the delay counts from the time stored in the database, across a restart."""
    kit = make_kit(for_="5min")
    for minute in range(3):
        kit.tick(minute, {"c1": 36.0})
    with Database(kit.url) as db:
        kit.evaluator = Evaluator(db, kit.registry, "redémarré")  # another process, its own connections
        for minute in range(3, 7):
            kit.tick(minute, {"c1": 36.0})
    with kit.db.sessions() as session:
        fired = session.scalar(select(AlertTransition.at).where(AlertTransition.kind == "firing"))
    assert fired == START + 5 * MINUTE + dt.timedelta(seconds=30)


ESCALATING = "repeat: 10min\nescalation: {after: 30min, recipients: {emails: [chef@cd53.test]}}"


def test_unacknowledged_alert_is_repeated_then_escalated(make_kit) -> None:
    kit = make_kit(extra=ESCALATING)
    for minute in range(35):
        kit.tick(minute, {"c1": 36.0})
    assert [k for _, k in kit.kinds()] == ["firing", "reminder", "reminder", "escalation"]
    assert len(kit.box.to("astreinte@cd53.test")) == 3
    (escalation,) = kit.box.to("chef@cd53.test")
    assert "non acquittée" in escalation.get_body(("plain",)).get_content()


def test_the_link_in_the_message_acknowledges_once_and_stops_reminders(make_kit) -> None:
    kit = make_kit(extra=ESCALATING)
    kit.tick(0, {"c1": 36.0})
    text = kit.box.to("astreinte@cd53.test")[0].get_body(("plain",)).get_content()
    token = text.split("/alertes/acquitter/")[1].split()[0]
    now = START + 2 * MINUTE
    first = alert_actions.acknowledge_token(kit.db, alerting.SECRET, token, now)
    second = alert_actions.acknowledge_token(kit.db, alerting.SECRET, token, now)
    forged = alert_actions.acknowledge_token(kit.db, alerting.SECRET, token[:-2] + "xx", now)
    assert first.ok and not second.ok and "déjà acquittée" in second.message
    assert not forged.ok and "invalide" in forged.message
    for minute in range(1, 40):
        kit.tick(minute, {"c1": 36.0})
    assert [k for _, k in kit.kinds()] == ["firing"]
    assert kit.box.to("chef@cd53.test") == []


def test_a_silence_records_transitions_without_telling_anyone(make_kit) -> None:
    kit = make_kit()
    alert_actions.silence(kit.db, "temperature", None, START + 30 * MINUTE, "travaux", "admin", START)
    kit.tick(0, {"c1": 36.0})
    kit.tick(40, {"c1": 20.0})
    with kit.db.sessions() as session:
        muted = [r[0] for r in session.execute(select(AlertTransition.muted).order_by(AlertTransition.id))]
    assert muted == ["silence : travaux", None]
    assert [m["Subject"] for m in kit.box.to("astreinte@cd53.test")] == [
        "[Pilotis] Température des capteurs : retour à la normale"
    ]


def test_a_maintenance_window_mutes_notifications(make_kit) -> None:
    """Every day from 09:00 Paris time (08:00 UTC in December) for one hour."""
    kit = make_kit(extra='maintenance: [{cron: "0 9 * * *", duration: 1h}]')
    kit.tick(0, {"c1": 36.0})
    kit.tick(70, {"c1": 20.0})
    assert kit.kinds() == [("c1", "firing"), ("c1", "recovered")]
    assert len(kit.box.to("astreinte@cd53.test")) == 1


def test_a_failing_webhook_is_retried_with_backoff(make_kit) -> None:
    kit = make_kit()
    kit.hooks.fail_next = 2
    kit.sensors.add(START, {"c1": 36.0})
    now = START + dt.timedelta(seconds=30)
    kit.evaluator.run(now)
    assert kit.evaluator.drain(now, kit.mail).retried == 1
    assert kit.evaluator.drain(now + dt.timedelta(seconds=29), kit.mail).retried == 0  # not yet: 30 s
    assert kit.evaluator.drain(now + dt.timedelta(seconds=30), kit.mail).retried == 1
    assert kit.evaluator.drain(now + dt.timedelta(seconds=89), kit.mail).sent == 0  # then 60 s
    assert kit.evaluator.drain(now + dt.timedelta(seconds=90), kit.mail).sent == 1
    with kit.db.sessions() as session:
        hook = session.scalar(select(AlertOutbox).where(AlertOutbox.channel == "webhook"))
    assert hook is not None and (hook.status, hook.attempts) == ("sent", 3)
    assert len(kit.hooks.calls) == 1 and kit.hooks.calls[0][0]


def test_a_failing_source_gives_one_error_then_one_recovery(make_kit) -> None:
    kit = make_kit()
    kit.tick(0, {"c1": 20.0})
    kit.sensors.rename("mesures", "ailleurs")  # the table disappears: the source fails
    for minute in (1, 2, 3):
        kit.tick(minute, None)
    kit.sensors.rename("ailleurs", "mesures")
    for minute in (4, 5, 6):
        kit.tick(minute, {"c1": 20.0})
    assert kit.kinds() == [("c1", "error"), ("c1", "recovered")]
    subjects = [m["Subject"] for m in kit.box.to("astreinte@cd53.test")]
    assert len(subjects) == 2 and "erreur d'évaluation" in subjects[0]
    with kit.db.sessions() as session:
        errors = session.scalars(select(AlertRun.error).where(AlertRun.error.is_not(None))).all()
    assert len(errors) == 3


def test_a_rule_failing_before_any_instance_is_known_clears_its_error_once_readings_come(make_kit) -> None:
    """The source fails from the first evaluation: the rule as a whole (instance ``*``) is in
    error. Once readings come back per sensor, that error is over: one recovery, no row left in
    the current alerts, and no « plus de données » about ``*`` afterwards (it has no data of its own)."""
    kit = make_kit()
    kit.sensors.rename("mesures", "ailleurs")
    for minute in (0, 1):
        kit.tick(minute, None)
    kit.sensors.rename("ailleurs", "mesures")
    for minute in range(2, 20):
        kit.tick(minute, {"c1": 20.0})
    assert kit.kinds() == [("*", "error"), ("*", "recovered")]
    with kit.db.sessions() as session:
        current = dict(session.execute(select(AlertState.instance, AlertState.state)).all())
    assert current == {"c1": "normal"}
    subjects = [m["Subject"] for m in kit.box.to("astreinte@cd53.test")]
    assert len(subjects) == 2 and "erreur d'évaluation" in subjects[0]
