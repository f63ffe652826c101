"""/alertes in the real app: each user sees the alerts of the rules he receives, inside his
territory only; acknowledging and silencing are CSRF-protected POSTs, audited; the link of a
message asks for confirmation, then acknowledges once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from pilotis.accounts import display_links
from pilotis.accounts.alert_notify import ack_token
from pilotis.accounts.db import Database
from pilotis.accounts.models import AlertOutbox, AlertSilence, AlertState, AuditEvent
from tests import helpers

RULE = "rsa-foyers-epci"
LAVAL, OTHER = "200083392", "200055887"  # Laval Agglomération; another EPCI of the Mayenne


@pytest.fixture
def firing(db: Database) -> Iterator[None]:
    """Two EPCI of the example rule in alert, one inside agent.laval's territory."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with db.session() as session:
        for code, value in ((LAVAL, 2228.0), (OTHER, 2100.0)):
            session.add(
                AlertState(
                    rule=RULE,
                    instance=code,
                    state="firing",
                    since=now,
                    level="alerte",
                    fired_at=now,
                    episode=1,
                    value=value,
                    data_at=now,
                    territory=f"epci:{code}",
                )
            )
    yield
    with db.session() as session:
        session.execute(delete(AlertState).where(AlertState.rule == RULE))
        session.execute(delete(AlertSilence).where(AlertSilence.rule == RULE))


def _page(client: FlaskClient) -> str:
    response = client.get("/alertes")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_signed_out_visitors_go_to_the_login_page(client: FlaskClient) -> None:
    response = client.get("/alertes")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.usefixtures("firing")
def test_each_user_sees_the_alerts_he_may_see(app, admin_client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    laval = app.server.test_client()
    login_as(laval, "agent.laval")
    html = _page(laval)
    assert f">{LAVAL}<" in html and f">{OTHER}<" not in html
    assert "▲ alerte" in html and "2\u202f228" in html  # level with icon and word, French number
    outsider = app.server.test_client()
    login_as(outsider, "agent.rh")  # not a recipient of the rule
    assert LAVAL not in _page(outsider)
    admin = _page(admin_client)
    assert f">{LAVAL}<" in admin and f">{OTHER}<" in admin


@pytest.mark.usefixtures("firing")
def test_acknowledging_needs_the_csrf_token_and_is_audited(app, db: Database, login_as) -> None:  # type: ignore[no-untyped-def]
    laval = app.server.test_client()
    login_as(laval, "agent.laval")
    token = helpers.form_token(_page(laval))
    refused = laval.post("/alertes/acquitter", data={"rule": RULE, "instance": LAVAL})
    assert refused.status_code == 400
    hidden = laval.post("/alertes/acquitter", data={"rule": RULE, "instance": OTHER, "csrf_token": token})
    assert hidden.status_code == 404  # outside his territory: as if it did not exist
    done = laval.post("/alertes/acquitter", data={"rule": RULE, "instance": LAVAL, "csrf_token": token})
    assert done.status_code == 303
    with db.sessions() as session:
        assert session.get(AlertState, (RULE, LAVAL)).acked_by == "agent.laval"  # type: ignore[union-attr]
        assert session.get(AlertState, (RULE, OTHER)).acked_at is None  # type: ignore[union-attr]
        event = session.scalar(select(AuditEvent).where(AuditEvent.event == "alert_ack").order_by(AuditEvent.id.desc()))
    assert event is not None and event.username == "agent.laval" and event.target == f"/alertes/{RULE}/{LAVAL}"


@pytest.mark.usefixtures("firing")
def test_the_link_of_a_message_asks_then_acknowledges_once(app, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    secret = app.server.extensions["pilotis"].settings.secret_key
    url = f"/alertes/acquitter/{ack_token(secret, RULE, OTHER, 1)}"
    page = client.get(url)
    assert page.status_code == 200 and "Acquitter" in page.get_data(as_text=True)
    token = helpers.form_token(page.get_data(as_text=True))
    assert client.post(url, data={"csrf_token": token}).status_code == 200
    again = client.post(url, data={"csrf_token": token})
    assert again.status_code == 409 and "déjà acquittée" in again.get_data(as_text=True)
    assert client.get("/alertes/acquitter/faux-jeton").status_code == 404


@pytest.mark.usefixtures("firing")
def test_a_silence_needs_a_reason_and_a_future_date(admin_client: FlaskClient, db: Database) -> None:
    token = helpers.form_token(_page(admin_client))
    bad = admin_client.post(
        "/alertes/silence", data={"rule": RULE, "until": "demain", "reason": "x", "csrf_token": token}
    )
    assert "Jusqu" in admin_client.get(bad.headers["Location"]).get_data(as_text=True)
    no_reason = admin_client.post(
        "/alertes/silence", data={"rule": RULE, "until": "2099-01-01T08:00", "reason": " ", "csrf_token": token}
    )
    assert "Motif" in admin_client.get(no_reason.headers["Location"]).get_data(as_text=True)
    good = admin_client.post(
        "/alertes/silence", data={"rule": RULE, "until": "2099-01-01T08:00", "reason": "travaux", "csrf_token": token}
    )
    assert good.status_code == 303
    with db.sessions() as session:
        row = session.scalar(select(AlertSilence).where(AlertSilence.rule == RULE))
    assert row is not None and row.reason == "travaux" and row.ends_at == dt.datetime(2099, 1, 1, 7, 0)


@pytest.mark.usefixtures("firing")
def test_a_restricted_agent_silences_only_instances_inside_his_territory(app, db: Database, login_as) -> None:  # type: ignore[no-untyped-def]
    laval = app.server.test_client()
    login_as(laval, "agent.laval")
    token = helpers.form_token(_page(laval))
    form = {"rule": RULE, "until": "2099-01-01T08:00", "reason": "travaux", "csrf_token": token}
    for instance in ("", OTHER, "inconnue"):
        refused = laval.post("/alertes/silence", data={**form, "instance": instance})
        assert "Instance" in laval.get(refused.headers["Location"]).get_data(as_text=True)
    laval.post("/alertes/silence", data={**form, "instance": LAVAL})
    with db.sessions() as session:
        rows = session.scalars(select(AlertSilence).where(AlertSilence.rule == RULE)).all()
    assert [row.instance for row in rows] == [LAVAL]


def test_deliveries_are_shown_to_administrators_only(app, admin_client: FlaskClient, login_as, db: Database) -> None:  # type: ignore[no-untyped-def]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with db.session() as session:
        session.add(
            AlertOutbox(
                created_at=now,
                rule=RULE,
                channel="email",
                recipient="astreinte@cd53.test",
                subject="x",
                body="x",
                html="",
                status="pending",
                attempts=2,
                next_attempt_at=now,
                last_error="SMTPRecipientsRefused : boîte pleine",
            )
        )
    try:
        assert "SMTPRecipientsRefused : boîte pleine" in _page(admin_client)
        agent = app.server.test_client()
        login_as(agent, "agent.rsa")
        assert "astreinte@cd53.test" not in _page(agent)
    finally:
        with db.session() as session:
            session.execute(delete(AlertOutbox).where(AlertOutbox.rule == RULE))


def _screen(app, seance: str) -> FlaskClient:  # type: ignore[no-untyped-def]
    """A browser session opened with a display link to ``seance`` (a wall screen, nobody signed in)."""
    _link, token = display_links.create(app.server.extensions["pilotis_db"], app.server.secret_key, seance, 1)
    client: FlaskClient = app.server.test_client()
    assert client.get(f"/seance/{seance}?jeton={token}").status_code == 302
    return client


@pytest.mark.usefixtures("firing")
def test_a_wall_screen_gets_the_alerts_of_the_dashboards_its_seance_shows(app, db: Database) -> None:  # type: ignore[no-untyped-def]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with db.session() as session:
        session.add(
            AlertState(
                rule="crues-hauteur", instance="La Mayenne à Laval", state="firing", since=now, level="crise",
                fired_at=now, episode=1, value=4.2, data_at=now, territory="commune:53130",
            )
        )  # fmt: skip
    try:
        flood = _screen(app, "crues").get("/alertes/en-cours.json")
        assert flood.status_code == 200
        answer = flood.get_json()
        assert (answer["count"], answer["level"], answer["link"]) == (1, "crise", None)  # not the RSA rule's
        assert answer["text"] == "Alertes en cours : 1 — niveau le plus élevé : ⛔ crise"
        assert flood.headers["Cache-Control"] == "private, no-store"
        rsa = _screen(app, "commission-rsa")
        assert rsa.get("/alertes/en-cours.json").get_json()["count"] == 2  # both EPCI: the séance shows them all
        assert rsa.get("/alertes").status_code == 403  # the band only, nothing else of /alertes
    finally:
        with db.session() as session:
            session.execute(delete(AlertState).where(AlertState.rule == "crues-hauteur"))
