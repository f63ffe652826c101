"""A reading over a threshold posted to ``POST /capteurs/<source>/releves`` is told by e-mail within
seconds, without any worker: the web process evaluates the rules reading that source right after
the ingestion, in the background, and drains the outbox (SQLite and PostgreSQL, real SMTP server).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from dash import Dash
from sqlalchemy import func, select, text, update

from app import create_app
from pilotis.accounts import sensor_store
from pilotis.accounts.alert_engine import evaluate_due_rules, naive_utc
from pilotis.accounts.alert_trigger import rules_reading
from pilotis.accounts.db import Database, get_db
from pilotis.accounts.models import AlertRun, AlertTransition, User
from pilotis.core.settings import Settings
from pilotis.web.sensors_api import TRIGGER
from tests.alerting import OPTIONS, smtp_server
from tests.dbutil import DB_KINDS, database_url

SOURCE, RULE, LAVAL = "crues-mayenne", "crues-hauteur", "mayenne-laval"
ON_CALL = "astreinte.crues@cd53.test"


@pytest.fixture(scope="module", params=DB_KINDS)
def flood_app(
    request: pytest.FixtureRequest, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dash]:
    """The real app (shipped configuration: the flood rule) on a database of its own, no readings."""
    folder = tmp_path_factory.mktemp(f"ingest-alert-{request.param}")
    with database_url(request.param, folder) as url:
        app = create_app(replace(settings, instance_dir=folder / "instance", database_url=url))
        with get_db(app.server).engine.begin() as connection:
            connection.execute(text("DELETE FROM sensor_readings"))  # the demo's simulated 48 h
        yield app
        assert app.server.extensions[TRIGGER].idle(10)  # no evaluation left running on a closed database
        get_db(app.server).dispose()
        for source in app.server.extensions["pilotis"].registry.datasets.values():
            if getattr(source, "_engine", None) is not None:
                source._engine.dispose()


def _post(app: Dash, token: str, value: float, device: str = LAVAL, ahead: float = 0.0) -> dict[str, object]:
    """POST one reading of ``device`` stamped now (+ ``ahead`` seconds: a device whose clock is ahead)."""
    moment = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=ahead)
    body = {"readings": [{"device": device, "ts": moment.isoformat().replace("+00:00", "Z"), "value": value}]}
    response = app.server.test_client().post(
        f"/capteurs/{SOURCE}/releves",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.get_json()
    answer: dict[str, object] = response.get_json()
    return answer


def _on_call(db: Database) -> None:
    """The demo administrator (a recipient of the rule) gets an e-mail address."""
    with db.session() as session:
        session.execute(update(User).where(User.username == "admin").values(email=ON_CALL))


def test_the_flood_rule_reads_the_sensor_source(flood_app: Dash) -> None:
    registry = flood_app.server.extensions["pilotis"].registry
    assert rules_reading(registry, SOURCE) == {RULE}
    assert rules_reading(registry, "inconnue") == set()


def test_a_reading_over_the_threshold_is_mailed_within_seconds_without_a_worker(
    flood_app: Dash, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = get_db(flood_app.server)
    registry = flood_app.server.extensions["pilotis"].registry
    # The periodic evaluation of this minute's slot has run already (nothing was over the threshold):
    # the reading must not wait for the next slot.
    evaluate_due_rules(db, registry, dt.datetime.now(dt.UTC), options=OPTIONS, rules={RULE})
    token = sensor_store.create_token(db, SOURCE, "tests")[1]
    _on_call(db)
    with smtp_server() as (box, mail):
        monkeypatch.setenv("PILOTIS_SMTP_HOST", mail.host)
        monkeypatch.setenv("PILOTIS_SMTP_PORT", str(mail.port))
        monkeypatch.setenv("PILOTIS_SMTP_FROM", mail.sender)
        assert _post(flood_app, token, 3.0)["acceptes"] == 1
        with box.event:
            assert box.event.wait_for(lambda: bool(box.to(ON_CALL)), timeout=10), "aucun e-mail reçu"
        message = box.to(ON_CALL)[0]
    assert "alerte déclenchée" in str(message["Subject"])
    assert "La Mayenne à Laval" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    fired = db.read(select(AlertTransition.instance, AlertTransition.kind).where(AlertTransition.rule == RULE))
    assert [tuple(row) for row in fired] == [("La Mayenne à Laval", "firing")]
    assert flood_app.server.extensions[TRIGGER].idle(10)
    assert flood_app.server.extensions[TRIGGER].runs == 1


def test_an_ingestion_evaluates_a_moment_once_and_the_periodic_slot_is_skipped(flood_app: Dash) -> None:
    """The ingestion's run claimed a moment after the slot's start: the worker's run of that slot
    finds it evaluated already (no transition told twice), the ingestion's runs are recorded."""
    db = get_db(flood_app.server)
    registry = flood_app.server.extensions["pilotis"].registry
    runs = db.read(select(AlertRun.due_at).where(AlertRun.rule == RULE).order_by(AlertRun.due_at))
    last = runs[-1][0]
    assert last.second or last.microsecond  # a moment, not a minute slot
    assert evaluate_due_rules(db, registry, last, options=OPTIONS, rules={RULE}) == []
    assert evaluate_due_rules(db, registry, last, options=OPTIONS, rules={RULE}, at_once=True) == []


def test_a_reading_stamped_ahead_of_the_server_is_evaluated_once_its_time_has_come(
    flood_app: Dash, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A device clock 2 s ahead: evaluated at once, the rule (window ending now) would not see the
    reading and the alert would wait for the next slot; the trigger waits for the reading's time."""
    db = get_db(flood_app.server)
    token = sensor_store.create_token(db, SOURCE, "tests")[1]
    _on_call(db)
    with smtp_server() as (box, mail):
        monkeypatch.setenv("PILOTIS_SMTP_HOST", mail.host)
        monkeypatch.setenv("PILOTIS_SMTP_PORT", str(mail.port))
        posted = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        assert _post(flood_app, token, 3.0, device="mayenne-daon", ahead=2)["acceptes"] == 1
        with box.event:
            assert box.event.wait_for(lambda: bool(box.to(ON_CALL)), timeout=10), "aucun e-mail reçu"
        body = box.to(ON_CALL)[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "La Mayenne à Daon" in body
    at = db.read(
        select(AlertTransition.at).where(AlertTransition.rule == RULE, AlertTransition.instance == "La Mayenne à Daon")
    )[0][0]
    assert at >= posted.replace(microsecond=0) + dt.timedelta(seconds=2)


def test_a_stream_of_readings_is_evaluated_at_most_once_a_second_and_to_its_end(flood_app: Dash) -> None:
    """Hundreds of webhooks a second must not each start an evaluation (they took a third of the
    web process and made ingestion 5 times slower, bench/bench_ingest.py): the evaluations of a
    stream start at least ``min_interval`` apart, and the last one comes after the last reading."""
    db = get_db(flood_app.server)
    trigger = flood_app.server.extensions[TRIGGER]
    assert trigger.idle(10) and trigger.min_interval == 1.0
    token = sensor_store.create_token(db, SOURCE, "tests")[1]
    client = flood_app.server.test_client()
    before, began, posted = trigger.runs, time.monotonic(), 0
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    while time.monotonic() - began < 2.5 and posted < 550:  # a rain gauge, one reading a request (under the rate limit)
        moment = (start + dt.timedelta(seconds=posted)).isoformat().replace("+00:00", "Z")
        body = {"device": "pluvio-53130008", "ts": moment, "value": 0.0}
        headers = {"Authorization": f"Bearer {token}"}
        answer = client.post(
            f"/capteurs/{SOURCE}/releves", json=body, headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.90"}
        )
        assert answer.status_code == 200 and answer.get_json()["acceptes"] == 1
        posted += 1
    last_post = naive_utc(dt.datetime.now(dt.UTC))
    elapsed = time.monotonic() - began
    assert trigger.idle(10)
    runs = trigger.runs - before
    assert posted > 20  # a stream indeed
    assert 1 <= runs <= int(elapsed / trigger.min_interval) + 2, (runs, posted, elapsed)
    last_run = db.read(select(func.max(AlertRun.ran_at)).where(AlertRun.rule == RULE))[0][0]
    assert last_run >= last_post  # the readings posted during the last interval were evaluated too
