"""Readings in: ``POST /capteurs/<source>/releves`` on SQLite and PostgreSQL, through the real app.

Payloads of the LoRaWAN formats follow the published examples: ChirpStack v4's ``up`` event
(chirpstack.io, « Event types », JSON encoding: ``deduplicationId``, ``time``, ``deviceInfo``,
``object``) and The Things Stack v3's uplink message (thethingsindustries.com, « Data
Formats »: ``end_device_ids``, ``received_at``, ``uplink_message.decoded_payload``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from dash import Dash
from flask.testing import FlaskClient
from sqlalchemy import text

from app import create_app
from pilotis.accounts import sensor_store
from pilotis.accounts.db import get_db
from pilotis.core.measures import parse_measure
from pilotis.core.query import Filter, Query
from pilotis.core.settings import Settings
from pilotis.web.sensors_api import LIMITER, TRIGGER, RateLimiter
from tests.dbutil import DB_KINDS, database_url
from tests.helpers import login_as

SOURCE = "crues-mayenne"
URL = f"/capteurs/{SOURCE}/releves"
LAVAL = "mayenne-laval"
RAIN = "pluvio-53130008"  # the Météo-France station Laval-Etronnier
RAIN_EUI = "70B3D500032AB318"  # its DevEUI in config/sensors/crues-mayenne.yaml


def _iso(moment: dt.datetime) -> str:
    return moment.replace(tzinfo=dt.UTC).isoformat().replace("+00:00", "Z")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


@pytest.fixture(scope="module", params=DB_KINDS)
def sensor_app(
    request: pytest.FixtureRequest, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dash]:
    """The real app on a database of its own (SQLite, then PostgreSQL)."""
    folder = tmp_path_factory.mktemp(f"sensors-{request.param}")
    with database_url(request.param, folder) as url:
        app = create_app(replace(settings, instance_dir=folder / "instance", database_url=url))
        db = get_db(app.server)
        # Demo mode filled the simulated source at start: keep the count, then start empty.
        app.server.config["SEEDED"] = int(db.read(text("SELECT count(*) FROM sensor_readings"))[0][0])
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM sensor_readings"))
        yield app
        assert app.server.extensions[TRIGGER].idle(10)  # the alert evaluations kicked by the readings
        get_db(app.server).dispose()
        for source in app.server.extensions["pilotis"].registry.datasets.values():
            if getattr(source, "_engine", None) is not None:  # sources reading the app database
                source._engine.dispose()


@pytest.fixture(scope="module")
def token(sensor_app: Dash) -> str:
    return sensor_store.create_token(get_db(sensor_app.server), SOURCE, "tests")[1]


@pytest.fixture
def client(sensor_app: Dash) -> FlaskClient:
    return sensor_app.server.test_client()


def post(client: FlaskClient, token: str | None, body: Any, query: str = "", addr: str = "127.0.0.1") -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(
        URL + query, data=json.dumps(body), content_type="application/json", headers=headers,
        environ_base={"REMOTE_ADDR": addr},
    )  # fmt: skip


def latest(app: Dash, device: str) -> tuple[float, dt.datetime] | None:
    """The device's last reading as the `crues_dernier` dataset serves it to widgets."""
    source = app.server.extensions["pilotis"].registry.datasets["crues_dernier"]
    query = Query(
        "crues_dernier",
        (("v", parse_measure("max(valeur)")), ("t", parse_measure("max(ts)"))),
        filters=(Filter("capteur", "=", device),),
    )
    frame = source.run(query)
    if frame.empty or frame["v"].isna().all():
        return None
    return float(frame["v"][0]), pd_time(frame["t"][0])


def pd_time(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def count(app: Dash, device: str) -> int:
    db = get_db(app.server)
    rows = db.read(
        text(
            "SELECT count(*) FROM sensor_readings r JOIN sensor_devices d ON d.id = r.device_id "
            "WHERE d.source = :s AND d.code = :c"
        ),
        {"s": SOURCE, "c": device},
    )
    return int(rows[0][0])


def test_demo_mode_fills_an_empty_simulated_source(sensor_app: Dash) -> None:
    spec = sensor_app.server.extensions["pilotis"].registry.sensors[SOURCE]
    assert spec.simulated
    assert sensor_app.server.config["SEEDED"] == len(spec.devices) * (48 * 4 + 1)  # 48 h, every 15 min


def test_plain_batch_is_stored_and_read_as_a_dataset(sensor_app: Dash, client: FlaskClient, token: str) -> None:
    now = _now()
    body = {
        "readings": [
            {"device": LAVAL, "ts": _iso(now - dt.timedelta(minutes=m)), "value": 1.5 + m / 100} for m in (30, 15, 0)
        ]
    }
    response = post(client, token, body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"format": "json", "acceptes": 3, "doublons": 0, "refuses": []}
    assert "Set-Cookie" not in response.headers  # no session, no CSRF cookie for a device
    assert latest(sensor_app, LAVAL) == (1.5, now)


def test_duplicates_are_skipped_and_late_readings_accepted(sensor_app: Dash, client: FlaskClient, token: str) -> None:
    device = "mayenne-daon"
    first = _now() - dt.timedelta(minutes=5)
    reading = {"device": device, "ts": _iso(first), "value": 2.0}
    assert post(client, token, [reading]).get_json()["acceptes"] == 1
    again = post(client, token, [reading, {**reading, "value": 9.0}])
    assert again.status_code == 200
    assert again.get_json()["acceptes"] == 0 and again.get_json()["doublons"] == 2
    late = post(client, token, {"device": device, "ts": _iso(first - dt.timedelta(days=3)), "value": 1.0})
    assert late.status_code == 200 and late.get_json()["acceptes"] == 1
    assert count(sensor_app, device) == 2
    assert latest(sensor_app, device) == (2.0, first)  # the late reading is not « the last one »


def test_refused_readings_name_device_and_field_and_the_rest_is_kept(
    sensor_app: Dash, client: FlaskClient, token: str
) -> None:
    device = "oudon-craon"
    now = _now()
    body = {
        "readings": [
            {"device": device, "ts": _iso(now), "value": 1.25},
            {"device": device, "ts": _iso(now - dt.timedelta(minutes=15)), "value": 42.0},  # range [-0.5, 6]
            {"device": "capteur-fantome", "ts": _iso(now), "value": 1.0},
            {"device": device, "ts": "hier soir", "value": 1.0},
            {"device": device, "ts": "2026-12-05T10:00:00", "value": 1.0},  # no time zone
            {"device": device, "ts": _iso(now - dt.timedelta(minutes=30)), "value": "1,2"},
            {"device": device, "ts": _iso(now + dt.timedelta(hours=2)), "value": 1.0},
            "pas un objet",
        ]
    }
    response = post(client, token, body)
    assert response.status_code == 400
    answer = response.get_json()
    assert answer["acceptes"] == 1
    refused = {(r["index"], r["capteur"], r["champ"]) for r in answer["refuses"]}
    assert refused == {
        (1, device, "value"),
        (2, "capteur-fantome", "device"),
        (3, device, "ts"),
        (4, device, "ts"),
        (5, device, "value"),
        (6, device, "ts"),
        (7, "", ""),
    }
    by_index = {r["index"]: r["message"] for r in answer["refuses"]}
    assert "42.0 hors de l'intervalle plausible [-0.5 ; 6.0] m" in by_index[1]
    assert "inconnu" in by_index[2] and "non numérique" in by_index[5]
    assert latest(sensor_app, device) == (1.25, now)
    english = client.post(
        URL, data=json.dumps(body), content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
    )  # fmt: skip
    assert "outside the plausible range" in {r["index"]: r["message"] for r in english.get_json()["refuses"]}[1]


def test_chirpstack_v4_up_event(sensor_app: Dash, client: FlaskClient, token: str) -> None:
    when = _now() - dt.timedelta(minutes=1)
    event = {  # ChirpStack v4 « up » event, JSON encoding (as in its documentation)
        "deduplicationId": "3ac7e3c4-4401-4b8d-9386-a5c902f9202d",
        "time": when.isoformat() + ".823500726+00:00",
        "deviceInfo": {
            "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
            "tenantName": "ChirpStack",
            "applicationId": "17c82e96-be03-4f38-aef3-f83d48582d97",
            "applicationName": "Crues",
            "deviceProfileId": "14855bf7-d10d-4aee-b618-ebfcb64dc7ad",
            "deviceProfileName": "Pluviomètre",
            "deviceName": "Pluviomètre Laval",
            "devEui": RAIN_EUI.lower(),
            "tags": {},
        },
        "devAddr": "00189440",
        "adr": True,
        "dr": 1,
        "fCnt": 10,
        "fPort": 1,
        "confirmed": False,
        "data": "qg==",
        "object": {"pluie": 3.4, "batterie": 3.6},
        "rxInfo": [{"gatewayId": "0016c001f153a14c", "uplinkId": 4217106255, "rssi": -36, "snr": 10.5}],
        "txInfo": {"frequency": 868100000, "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": 7}}},
    }
    response = post(client, token, event, "?event=up")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["format"] == "chirpstack" and response.get_json()["acceptes"] == 1
    assert latest(sensor_app, RAIN) == (3.4, when.replace(microsecond=823500))
    joined = post(client, token, {"deviceInfo": event["deviceInfo"], "devAddr": "00189440"}, "?event=join")
    assert joined.status_code == 200 and joined.get_json()["acceptes"] == 0
    no_codec = post(client, token, {k: v for k, v in event.items() if k != "object"}, "?event=up")
    assert no_codec.status_code == 400
    assert no_codec.get_json()["refuses"][0]["champ"] == "object.pluie"


def test_a_chirpstack_up_event_built_from_its_official_definitions(
    sensor_app: Dash, client: FlaskClient, token: str
) -> None:
    """The event as ChirpStack's HTTP integration (``marshaler: json``) serialises it: the
    ``integration.UplinkEvent`` message of ChirpStack's published API (PyPI ``chirpstack-api``)
    through protobuf's JSON mapping — field names, timestamp and ``object`` as ChirpStack writes them."""
    from chirpstack_api.integration import integration_pb2  # test-only dependency (requirements-dev)
    from google.protobuf import json_format

    when = _now()  # the latest reading of the device (the test module shares one database)
    event = integration_pb2.UplinkEvent(deduplication_id="0b4a5f1e-9d1c-4c1e-8b1a-5f2d0c9e7a31", f_cnt=11, f_port=1)
    event.time.FromDatetime(when.replace(tzinfo=dt.UTC))
    event.device_info.dev_eui = RAIN_EUI.lower()
    event.device_info.device_name = "Pluviomètre Laval"
    event.device_info.application_name = "Crues"
    event.object.update({"pluie": 1.2, "batterie": 3.6})
    body = json.loads(json_format.MessageToJson(event))
    response = post(client, token, body, "?event=up")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["format"] == "chirpstack" and response.get_json()["acceptes"] == 1
    assert latest(sensor_app, RAIN) == (1.2, when.replace(microsecond=0))


def test_the_things_stack_uplink_webhook(sensor_app: Dash, client: FlaskClient, token: str) -> None:
    when = _now() - dt.timedelta(minutes=2)
    uplink = {  # The Things Stack v3 uplink message (as in its « Data Formats » documentation)
        "end_device_ids": {
            "device_id": "jouanne-force",
            "application_ids": {"application_id": "crues-mayenne"},
            "dev_eui": "0004A30B001C0530",
            "join_eui": "800000000000000C",
            "dev_addr": "00BCB929",
        },
        "correlation_ids": ["as:up:01..."],
        "received_at": when.isoformat() + ".787Z",
        "uplink_message": {
            "session_key_id": "AXA50...",
            "f_port": 1,
            "f_cnt": 42,
            "frm_payload": "gkHe",
            "decoded_payload": {"hauteur": 0.87},
            "rx_metadata": [{"gateway_ids": {"gateway_id": "gtw1", "eui": "9C5C8E00001A05C4"}, "rssi": -35}],
            "settings": {"data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": 7}}},
            "received_at": when.isoformat() + ".573Z",
            "consumed_airtime": "0.056576s",
        },
    }
    response = post(client, token, uplink)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["format"] == "tts"
    assert latest(sensor_app, "jouanne-force") == (0.87, when.replace(microsecond=787000))


def test_token_is_required_and_revocation_takes_effect(sensor_app: Dash, client: FlaskClient) -> None:
    db = get_db(sensor_app.server)
    token_id, own = sensor_store.create_token(db, SOURCE, "à révoquer")
    body = {"device": LAVAL, "ts": _iso(_now() - dt.timedelta(hours=1)), "value": 1.0}
    assert post(client, own, body).status_code == 200
    assert sensor_store.revoke_token(db, token_id)
    refused = post(client, own, body)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert post(client, None, body).status_code == 401
    assert post(client, own[:-2] + "xx", body).status_code == 401
    bad = {"device": LAVAL, "ts": "hier", "value": 99.0}
    for query, payload in (("", bad), ("?event=join", {"deviceInfo": {"devEui": RAIN_EUI}}), ("", None)):
        answer = post(client, own, payload, query)  # a revoked token learns nothing about its readings
        assert answer.status_code == 401 and "refuses" not in answer.get_json(), query
    assert client.post("/capteurs/inconnue/releves", json=body).status_code == 404


def test_a_session_cookie_is_neither_read_nor_set(sensor_app: Dash, client: FlaskClient, token: str) -> None:
    """The address is for machines: a session cookie sent along (a browser signed in on the portal)
    is not read — the answer does not vary with it — and no answer sets one."""
    login_as(client, "admin")
    body = {"device": LAVAL, "ts": _iso(_now() - dt.timedelta(hours=2)), "value": 1.0}
    for answer in (post(client, token, body), post(client, None, body), post(client, token, "{")):
        assert answer.status_code in (200, 400, 401)
        assert "Set-Cookie" not in answer.headers
        assert "cookie" not in answer.headers.get("Vary", "").lower()  # Flask adds it when the session is read
    assert client.get("/").status_code == 200  # the session itself still works on pages


def test_an_upload_token_reads_nothing(sensor_app: Dash, client: FlaskClient, token: str) -> None:
    bearer = {"Authorization": f"Bearer {token}"}
    page = client.get("/crues", headers=bearer)
    assert page.status_code in (302, 401) and "/login" in page.headers.get("Location", "/login")
    layout = client.get("/_dash-layout", headers=bearer)
    assert layout.status_code == 401
    assert client.get(URL, headers=bearer).status_code in (302, 401, 405)  # never the readings
    assert client.get("/donnees", headers=bearer).status_code in (302, 401)


def test_rate_limit_answers_429_with_retry_after(sensor_app: Dash, client: FlaskClient, token: str) -> None:
    limiter: RateLimiter = sensor_app.server.extensions[LIMITER]
    spec = sensor_app.server.extensions["pilotis"].registry.sensors[SOURCE]
    address = "127.0.0.77"
    for _ in range(spec.rate_limit):
        assert limiter.allow((SOURCE, address), spec.rate_limit) == 0
    body = {"device": LAVAL, "ts": _iso(_now()), "value": 1.0}
    limited = post(client, token, body, addr=address)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert post(client, token, body, addr="127.0.0.78").status_code == 200  # another client is not slowed


def test_rate_limiter_window_slides() -> None:
    limiter = RateLimiter(window=60)
    assert [limiter.allow(("s", "a"), 2, now=t) for t in (0.0, 1.0)] == [0, 0]
    assert limiter.allow(("s", "a"), 2, now=30.0) == pytest.approx(30.0)
    assert limiter.allow(("s", "a"), 2, now=60.5) == 0  # the first request left the window
