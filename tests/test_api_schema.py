"""Property-based test of the API against its own served OpenAPI document (schemathesis, on the
real WSGI app): whatever the parameters, no 500, and every answer (status, content type, body)
matches the document, and no 503 (the demo sources are local files: a 503 would be a
parameter that reached the database unchecked, and a failure counted against the source for
every user). Each generated case is sent twice: as generated (mostly unknown ids: the
404 path), then with its path parameters mapped onto real ids, so that the generated query
parameters reach real datasets, widgets and indicators."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from markupsafe import escape
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers import api_token, bearer

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def api_schema(app):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app.server)


@pytest.fixture(scope="module")
def caller(db) -> dict[str, str]:  # type: ignore[no-untyped-def]
    # identity: the WSGI transport hands the body over as sent (Flask-Compress would answer brotli)
    return {**bearer(api_token(db, "president")), "Accept-Encoding": "identity"}


@pytest.fixture(scope="module")
def real_ids(portal) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    registry = portal.registry
    return {
        "dataset": sorted(registry.datasets),
        "indicator": sorted(registry.indicators),
        "dashboard": {d.id: [w.id for w in d.widgets] for d in registry.ordered()},
    }


def _pick(options: list[str], seed: Any) -> str:
    digest = hashlib.sha256(repr(seed).encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def _real(path_parameters: dict[str, Any], ids: dict[str, Any]) -> dict[str, Any]:
    mapped = dict(path_parameters)
    for name in ("dataset", "indicator"):
        if name in mapped:
            mapped[name] = _pick(ids[name], mapped[name])
    if "dashboard" in mapped:
        dashboard = _pick(sorted(ids["dashboard"]), mapped["dashboard"])
        mapped["dashboard"] = dashboard
        mapped["widget"] = _pick(ids["dashboard"][dashboard], mapped.get("widget"))
    return mapped


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_answers_match_its_document(case, caller, real_ids) -> None:  # type: ignore[no-untyped-def]
    answer = case.call_and_validate(headers=caller, checks=CHECKS)
    assert answer.status_code != 503  # local files never fail: a 503 is input the API let reach the database
    if case.path_parameters:
        case.path_parameters = _real(case.path_parameters, real_ids)
        answer = case.call_and_validate(headers=caller, checks=CHECKS)
        assert answer.status_code != 503, case.as_curl_command()


def test_documentation_page_is_offline_html_drawn_from_the_document(app) -> None:  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for path, item in document["paths"].items():
        assert (
            f"/api/v1{path}" in html and str(escape(item["get"]["summary"])) in html
        )  # every operation, drawn on the server
    assert "<script" not in html and "https://" not in html and "http://" not in html  # no CDN, no script
    assert 'lang="fr"' in html and "<caption>" in html
