"""Supervision addresses: /healthz, /readyz, /metrics (token), the request id, JSON logs."""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

import pytest
from dash import Dash
from flask.testing import FlaskClient

from pilotis.accounts.db import Database
from pilotis.core import logs
from pilotis.core.routes import reserved_route
from pilotis.ui.portal import Portal
from tests import helpers

TOKEN = "jeton-de-test-metriques"


@pytest.fixture
def with_token(portal: Portal, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(portal, "settings", dataclasses.replace(portal.settings, metrics_token=TOKEN))
    return TOKEN


def test_supervision_addresses_are_reserved() -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert reserved_route(path) is not None


def test_healthz_answers_without_the_database(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("postgresql://pilotis:secret@db/pilotis injoignable")

    monkeypatch.setattr(Database, "read", down)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["database"] == "error"
    assert b"secret" not in ready.data and b"postgresql" not in ready.data  # no URL, no message


def test_readyz_lists_checks_and_sources_without_paths(client: FlaskClient, portal: Portal) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.data
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok", "cache": "ok"}
    assert set(body["sources"]) == set(portal.registry.datasets)
    assert set(body["sources"].values()) <= {"ok", "failing", "unknown"}
    assert b"/" not in response.data and str(portal.settings.instance_dir).encode() not in response.data


def test_readyz_is_503_when_the_cache_fails(
    client: FlaskClient, portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise OSError("/var/lib/pilotis/cache: disque plein")

    monkeypatch.setattr(portal.data.cache, "set", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["cache"] == "error"
    assert b"/var/lib" not in response.data


def test_a_failing_source_is_listed_but_the_instance_stays_ready(client: FlaskClient, portal: Portal) -> None:
    dataset = sorted(portal.registry.datasets)[0]
    portal.data.status.failure(dataset, 9e9, "délai dépassé", "timeout")
    try:
        response = client.get("/readyz")
        assert response.status_code == 200
        assert response.get_json()["sources"][dataset] == "failing"
    finally:
        portal.data.status.success(dataset, 9e9 + 1)


def test_metrics_is_404_without_a_configured_token(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 404


def test_metrics_needs_the_bearer_token(client: FlaskClient, with_token: str) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer faux"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {with_token}"}).status_code == 401
    response = client.get("/metrics", headers={"Authorization": f"Bearer {with_token}"})
    assert response.status_code == 200 and response.content_type.startswith("text/plain")
    assert response.headers["Cache-Control"] == "no-store"


def _samples(client: FlaskClient, token: str) -> dict[str, float]:
    text = client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).get_data(as_text=True)
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


def test_metrics_count_callbacks_cache_and_logins(app: Dash, portal: Portal, with_token: str) -> None:
    dashboard = portal.registry.dashboards["rsa"]
    widget = next(w for w in dashboard.widgets if getattr(w, "dataset", None))
    agent = app.server.test_client()
    helpers.login_as(agent, "agent.rsa")
    helpers.login_as(app.server.test_client(), "compte.inconnu.metriques", "mauvais", expect=401)
    before = _samples(agent, with_token)
    helpers.widget_content(agent, dashboard, widget.id, "departement:53", None)
    helpers.widget_content(agent, dashboard, widget.id, "departement:53", None)
    after = _samples(agent, with_token)
    count = f'pilotis_callback_seconds_count{{dashboard="rsa",status="2xx",widget="{widget.id}"}}'
    assert after[count] - before.get(count, 0) == 2
    hits = 'pilotis_cache_requests_total{result="hit"}'
    assert after[hits] > before.get(hits, 0)  # the second rendering came from the cache
    assert after['pilotis_logins_total{result="success"}'] >= 1
    assert after['pilotis_logins_total{result="failure"}'] >= 1


def test_an_unknown_output_does_not_create_labels(agent_client: FlaskClient, with_token: str) -> None:
    helpers.post_callback(agent_client, "rsa--nimporte-quoi-123", "children", [])
    text = agent_client.get("/metrics", headers={"Authorization": f"Bearer {with_token}"}).get_data(as_text=True)
    assert "nimporte-quoi-123" not in text


def test_request_id_is_kept_or_generated(client: FlaskClient) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": "abc123-nginx"})
    assert kept.headers["X-Request-ID"] == "abc123-nginx"
    made = client.get("/healthz")
    assert len(made.headers["X-Request-ID"]) == 32
    forged = 'x" {"level":"ERROR"}'
    hostile = client.get("/healthz", headers={"X-Request-ID": forged})
    assert hostile.headers["X-Request-ID"] != forged and len(hostile.headers["X-Request-ID"]) == 32
    assert client.get("/nexiste-pas", headers={"X-Request-ID": "r-404"}).headers["X-Request-ID"] == "r-404"


def test_json_logs_carry_the_request_id(client: FlaskClient, capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    level = root.level
    try:
        logs.configure("json")
        client.get("/healthz", headers={"X-Request-ID": "req-json-1"})
    finally:
        for handler in [h for h in root.handlers if getattr(h, "_pilotis", False)]:
            root.removeHandler(handler)
        root.setLevel(level)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    access = [entry for entry in lines if entry["logger"] == "pilotis.access"]
    assert access and access[-1]["request_id"] == "req-json-1"
    assert access[-1]["path"] == "/healthz" and access[-1]["status"] == 200
    assert {"time", "level", "message", "duration_ms"} <= set(access[-1])


def test_an_unknown_log_format_is_refused_in_french() -> None:
    with pytest.raises(ValueError, match="PILOTIS_LOG_FORMAT"):
        logs.configure("xml")
