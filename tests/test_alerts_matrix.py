"""The Matrix / Tchap alert channel against a real homeserver: Synapse on loopback (started once
for the module, ~7 s), a bot account posting, a reader account reading the room as a person's
client would, a real SMTP server for the e-mail channel of the same rule, a simulated clock; the
application database on SQLite, and on PostgreSQL when PILOTIS_TEST_PG is set."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from pilotis.accounts import alert_actions
from pilotis.accounts.alert_outbox import MAX_ATTEMPTS, MailSettings
from pilotis.accounts.db import Database
from pilotis.accounts.models import AlertOutbox
from tests import alerting
from tests.alerting import INSIDE, LAVAL_EPCI, OUTSIDE, START, Evaluator, Mailbox, Sensors
from tests.dbutil import DB_KINDS, database_url
from tests.matrix_server import Account, Homeserver, lossy_proxy, synapse

NOW = START + dt.timedelta(seconds=30)
RULE = """
label: Hauteur d'eau des stations
dataset: capteurs
measure: avg(valeur)
instance: capteur
territory_column: commune
time_column: horodatage
window: 1min
thresholds: {{vigilance: 30, alerte: 35}}
recovery: 29
every: 1min
recipients: {{roles: [admin]}}
channels: [email, matrix]
dashboard: crues
matrix:
{rooms}
"""


@dataclass
class Matrix:
    server: Homeserver
    bot: Account
    reader: Account


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    """Synapse, a bot and a reader (registered once for the module)."""
    with synapse(tmp_path_factory.mktemp("synapse")) as server:
        yield Matrix(server, server.register("pilotis-bot"), server.register("lecteur"))


@dataclass
class Kit:
    db: Database
    sensors: Sensors
    box: Mailbox
    mail: MailSettings
    evaluator: Evaluator

    def fire(self, values: dict[str, float], commune: str | dict[str, str] = "53130") -> None:
        """Readings at START, evaluated and drained 30 s later."""
        self.sensors.add(START, values, commune)
        self.evaluator.run(NOW)
        self.evaluator.drain(NOW, self.mail)

    def matrix_rows(self) -> list[AlertOutbox]:
        with self.db.sessions() as session:
            return list(session.scalars(select(AlertOutbox).where(AlertOutbox.channel == "matrix")))


@pytest.fixture(params=DB_KINDS)
def make_kit(request: pytest.FixtureRequest, tmp_path: Path, matrix: Matrix) -> Iterator:
    """``make_kit(rooms)``: a rule whose ``matrix:`` block is ``rooms`` (YAML lines), an admin with an address."""
    with ExitStack() as stack:

        def build(rooms: str) -> Kit:
            box, mail = stack.enter_context(alerting.smtp_server())
            sensors = Sensors(tmp_path / "capteurs.db")
            rule = RULE.format(rooms=rooms)
            registry = alerting.registry_of(alerting.make_config(tmp_path, {"crues": rule}, sensors.path))
            db = stack.enter_context(Database(stack.enter_context(database_url(request.param, tmp_path))))
            db.upgrade()
            alerting.add_user(db, "astreinte", email="astreinte@cd53.test", roles=["admin"])
            return Kit(db, sensors, box, mail, Evaluator(db, registry))

        yield build


def room_for(matrix: Matrix, alias: str | None = None) -> str:
    """A room created by the reader, the bot invited (not joined: it accepts at its first message)."""
    return matrix.server.create_room(matrix.reader, [matrix.bot.user_id], alias)


def entry(matrix: Matrix, room: str, extra: str = "", server: str = "") -> str:
    """One item of the rule's ``matrix:`` list (``server``: another address for the homeserver)."""
    url = server or matrix.server.url
    return f'  - {{homeserver: "{url}", room: "{room}", token_env: PILOTIS_TEST_MATRIX_TOKEN{extra}}}'


def test_a_storm_is_one_message_in_the_room_with_levels_values_thresholds_and_links(
    make_kit, matrix: Matrix, monkeypatch: pytest.MonkeyPatch
) -> None:
    """40 sensors fire together: the reader sees ONE message from the bot listing the 40, with the
    level's icon and word, value, threshold, since when, the dashboard and acknowledgement links;
    the e-mail channel of the rule delivers too."""
    monkeypatch.setenv("PILOTIS_TEST_MATRIX_TOKEN", matrix.bot.token)
    room = room_for(matrix)
    kit = make_kit(entry(matrix, room))
    names = [f"station-{i:02d}" for i in range(40)]
    kit.fire(dict.fromkeys(names, 36.5))
    events = matrix.server.messages(matrix.reader, room)
    assert len(events) == 1 and events[0]["sender"] == matrix.bot.user_id
    content = events[0]["content"]
    assert content["msgtype"] == "m.text" and content["format"] == "org.matrix.custom.html"
    body, html = content["body"], content["formatted_body"]
    for text in (body, html):
        assert all(name in text for name in names)
        assert "▲ alerte" in text and "36,5" in text and "seuil 35" in text and "Alerte déclenchée" in text
        assert "07/12/2026 à 09 h 00" in text  # since when, Paris time
        assert "https://pilotis.test/alertes/acquitter/" in text and "https://pilotis.test/crues" in text
    assert (
        "Tableau de bord : https://pilotis.test/crues" in body
        and "Alertes en cours : https://pilotis.test/alertes\n" in body
    )
    assert html.count("<li>") == 40 and html.count('<a href="https://pilotis.test/alertes/acquitter/') == 40
    assert '<a href="https://pilotis.test/crues">Tableau de bord</a>' in html
    (row,) = kit.matrix_rows()
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert len(kit.box.to("astreinte@cd53.test")) == 1


def test_a_retry_after_a_lost_answer_does_not_post_twice(
    make_kit, matrix: Matrix, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The homeserver posted but its answer was lost on the way (a proxy drops the connection): the
    row is retried after its back-off with the same transaction id, the homeserver recognises it,
    and the room still holds ONE message."""
    monkeypatch.setenv("PILOTIS_TEST_MATRIX_TOKEN", matrix.bot.token)
    room = room_for(matrix)
    matrix.server.join(matrix.bot, room)
    with lossy_proxy(matrix.server.url) as proxy:
        proxy.lose = 1
        kit = make_kit(entry(matrix, room, server=proxy.url))
        kit.fire({"c1": 36.0})
        assert len(matrix.server.messages(matrix.reader, room)) == 1  # posted…
        (row,) = kit.matrix_rows()
        assert row.status == "pending" and row.last_error is not None  # …but not known to be
        assert kit.evaluator.drain(NOW + dt.timedelta(seconds=29), kit.mail).sent == 0  # back-off: 30 s
        assert kit.evaluator.drain(NOW + dt.timedelta(seconds=30), kit.mail).sent == 1
    assert len(matrix.server.messages(matrix.reader, room)) == 1
    assert len(proxy.sends) == 2 and proxy.sends[0] == proxy.sends[1]  # the same transaction id
    (row,) = kit.matrix_rows()
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def test_a_wrong_token_fails_visibly_and_the_email_still_goes(
    make_kit, matrix: Matrix, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A revoked or mistyped token: retried with back-off, then given up, the homeserver's refusal
    in the deliveries administrators see; the e-mail of the same alert is delivered at once."""
    monkeypatch.setenv("PILOTIS_TEST_MATRIX_TOKEN", "syt_jeton_faux")
    room = room_for(matrix)
    kit = make_kit(entry(matrix, room))
    kit.fire({"c1": 36.0})
    assert len(kit.box.to("astreinte@cd53.test")) == 1
    moment = NOW
    for _ in range(MAX_ATTEMPTS):
        moment += dt.timedelta(hours=2)
        kit.evaluator.drain(moment, kit.mail)
    (row,) = kit.matrix_rows()
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS
    shown = {d.id: d for d in alert_actions.deliveries(kit.db)}[row.id]
    assert shown.last_error is not None and "401" in shown.last_error and "M_UNKNOWN_TOKEN" in shown.last_error
    assert matrix.server.messages(matrix.reader, room) == []


def test_a_missing_token_variable_is_named_in_the_error(
    make_kit, matrix: Matrix, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PILOTIS_TEST_MATRIX_TOKEN", raising=False)
    kit = make_kit(entry(matrix, room_for(matrix)))
    kit.fire({"c1": 36.0})
    (row,) = kit.matrix_rows()
    assert row.status == "pending" and row.last_error is not None and "PILOTIS_TEST_MATRIX_TOKEN" in row.last_error
    assert len(kit.box.to("astreinte@cd53.test")) == 1


def test_a_room_limited_to_a_territory_is_told_only_about_it_and_an_alias_and_english_work(
    make_kit, matrix: Matrix, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two rooms: Laval Agglomération's crisis cell (``territory: epci:…``, named by its alias,
    in English) reads only its 3 sensors, as an agent restricted to that EPCI would; the
    département's room reads all 6."""
    monkeypatch.setenv("PILOTIS_TEST_MATRIX_TOKEN", matrix.bot.token)
    name = f"crues-laval-{secrets.token_hex(3)}"  # an alias is taken once per homeserver (module-wide)
    laval = room_for(matrix, alias=name)
    everything = room_for(matrix)
    alias = f"#{name}:pilotis.test"
    kit = make_kit(
        entry(matrix, alias, f", territory: 'epci:{LAVAL_EPCI}', lang: en") + "\n" + entry(matrix, everything)
    )
    communes = {f"in-{c}": c for c in INSIDE} | {f"out-{c}": c for c in OUTSIDE}
    kit.fire(dict.fromkeys(communes, 36.0), communes)
    (local,) = matrix.server.messages(matrix.reader, laval)
    body = local["content"]["body"]
    assert all(f"in-{c}" in body for c in INSIDE) and not any(f"out-{c}" in body for c in OUTSIDE)
    assert "Alert fired" in body and "▲ alert" in body and "threshold 35" in body and "Acknowledge" in body
    (wide,) = matrix.server.messages(matrix.reader, everything)
    assert all(name in wide["content"]["body"] for name in communes)
    rows = kit.matrix_rows()
    assert [r.status for r in rows] == ["sent", "sent"] and alias in rows[0].recipient
