"""API tokens: created on the account page (CSRF, shown once) or by the command line (service
accounts), hashed, audited on every use, rate-limited, revoked; session cookies never accepted."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlalchemy import select, update

from pilotis.accounts import api_tokens
from pilotis.accounts.db import utcnow
from pilotis.accounts.models import ApiToken, AuditEvent
from pilotis.accounts.users import set_active
from tests.cli_run import run_cli
from tests.helpers import api_token, bearer, form_token, login_as

CREATED = re.compile(r'id="nouveau-jeton"[^>]*value="(pilotis_[A-Za-z0-9_-]+)"')


def _create_on_page(client, name: str = "tableur") -> str:  # type: ignore[no-untyped-def]
    page = client.get("/compte/jetons")
    assert page.status_code == 200
    answer = client.post(
        "/compte/jetons", data={"name": name, "days": "30", "csrf_token": form_token(page.get_data(as_text=True))}
    )
    assert answer.status_code == 201
    assert answer.headers["Cache-Control"] == "no-store"
    found = CREATED.search(answer.get_data(as_text=True))
    assert found, "the new token is shown once on the page"
    return found.group(1)


def test_personal_token_lifecycle(app, db, client) -> None:  # type: ignore[no-untyped-def]
    login_as(client, "agent.rsa")
    token = _create_on_page(client)
    with db.session() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.prefix == token[:16])).one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()  # stored hashed, never in clear
        assert token not in (row.prefix, row.token_hash)
    listing = client.get("/compte/jetons").get_data(as_text=True)
    assert token[:16] in listing and token not in listing  # shown once, then only its prefix

    api = app.server.test_client()
    answer = api.get("/api/v1/datasets", headers=bearer(token))
    assert answer.status_code == 200
    assert "rsa_communes" in {d["id"] for d in answer.get_json()["datasets"]}
    with db.session() as session:
        assert session.get(ApiToken, row.id).last_used_at is not None
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "api_call").order_by(AuditEvent.id.desc())
        ).first()
    assert event.username == "agent.rsa" and "tableur" in event.detail and event.target == "/api/v1/datasets"

    page = client.get("/compte/jetons")
    revoked = client.post(
        f"/compte/jetons/{row.id}/revoquer", data={"csrf_token": form_token(page.get_data(as_text=True))}
    )
    assert revoked.status_code == 200
    refused = api.get("/api/v1/datasets", headers=bearer(token))
    assert refused.status_code == 401 and refused.get_json()["code"] == "jeton_invalide"


def test_token_forms_need_csrf_and_a_session(app, client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/compte/jetons").status_code == 302  # signed out: to the login page
    login_as(client, "agent.rsa")
    assert client.post("/compte/jetons", data={"name": "sans jeton csrf"}).status_code == 400


def test_a_user_cannot_revoke_another_users_token(app, db, client) -> None:  # type: ignore[no-untyped-def]
    token = api_token(db, "agent.rh")
    with db.session() as session:
        other = session.scalars(select(ApiToken).where(ApiToken.prefix == token[:16])).one().id
    login_as(client, "agent.rsa")
    page = client.get("/compte/jetons")
    answer = client.post(
        f"/compte/jetons/{other}/revoquer", data={"csrf_token": form_token(page.get_data(as_text=True))}
    )
    assert answer.status_code == 404
    assert app.server.test_client().get("/api/v1/datasets", headers=bearer(token)).status_code == 200


def test_expired_tokens_and_disabled_accounts_are_refused(app, db) -> None:  # type: ignore[no-untyped-def]
    api = app.server.test_client()
    expired = api_token(db, "agent.numerique")
    with db.session() as session:
        session.execute(
            update(ApiToken).where(ApiToken.prefix == expired[:16]).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert api.get("/api/v1/datasets", headers=bearer(expired)).status_code == 401
    for bad in ("", "Bearer", "Basic abc", "Bearer pilotis_" + "x" * 43, "Bearer " + expired[:-1]):
        answer = api.get("/api/v1/datasets", headers={"Authorization": bad})
        assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer")
    token = api_token(db, "manager.finances")
    assert api.get("/api/v1/datasets", headers=bearer(token)).status_code == 200
    set_active(db, "manager.finances", False)
    try:
        assert api.get("/api/v1/datasets", headers=bearer(token)).status_code == 401
    finally:
        set_active(db, "manager.finances", True)


def test_session_cookies_are_not_accepted_and_never_set(app, client) -> None:  # type: ignore[no-untyped-def]
    login_as(client, "president")
    assert client.get("/").status_code == 200  # the session works on pages
    for url in ("/api/v1/datasets", "/api/v1/openapi.json", "/api/v1/docs", "/api/v1/inconnu"):
        answer = client.get(url)
        assert answer.headers.get("Set-Cookie") is None, url
        if url == "/api/v1/datasets":
            assert answer.status_code == 401 and answer.get_json()["code"] == "authentification_requise"
    assert client.post("/api/v1/datasets").status_code == 405  # no state-changing address at all


def test_rate_limit_per_token(app, db) -> None:  # type: ignore[no-untyped-def]
    api = app.server.test_client()
    token = api_token(db, "agent.rh", rate=3)
    other = api_token(db, "agent.rh", rate=3)
    codes = [api.get("/api/v1/dashboards", headers=bearer(token)).status_code for _ in range(4)]
    if codes != [200, 200, 200, 429]:  # the minute turned during the calls: one more try
        codes = [api.get("/api/v1/dashboards", headers=bearer(token)).status_code for _ in range(4)]
    assert codes[-1] == 429
    limited = api.get("/api/v1/dashboards", headers=bearer(token))
    assert limited.get_json()["code"] == "trop_de_requetes" and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert api.get("/api/v1/dashboards", headers=bearer(other)).status_code == 200  # per token


def test_service_accounts_from_the_command_line(app, db, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"PILOTIS_DATABASE_URL": settings.database_url, "PILOTIS_INSTANCE_DIR": str(settings.instance_dir)}
    created = run_cli(
        [
            "tokens",
            "create-service",
            "sig-agglo",
            "--department",
            "solidarites",
            "--role",
            "agent",
            "--territory",
            "epci:200083392",
            "--days",
            "10",
        ],
        env=env,
    )
    assert created.returncode == 0, created.stderr
    token = next(line for line in created.stdout.splitlines() if line.startswith("pilotis_"))
    listed = run_cli(["tokens", "list"], env=env)
    assert "sig-agglo" in listed.stdout and token[:16] in listed.stdout and token not in listed.stdout
    api = app.server.test_client()
    answer = api.get("/api/v1/datasets/rsa_communes/query?group_by=epci_siren", headers=bearer(token))
    assert answer.status_code == 200
    assert {row["epci_siren"] for row in answer.get_json()["rows"]} == {"200083392"}  # its territory only
    with db.session() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "api_call").order_by(AuditEvent.id.desc())
        ).first()
        token_id = session.scalars(select(ApiToken.id).where(ApiToken.prefix == token[:16])).one()
    assert event.username == "service:sig-agglo"
    assert (
        run_cli(["tokens", "create-service", "x", "--role", "agent", "--territory", "nulle-part"], env=env).returncode
        == 1
    )
    assert run_cli(["tokens", "revoke", str(token_id)], env=env).returncode == 0
    assert api.get("/api/v1/datasets", headers=bearer(token)).status_code == 401


def test_tokens_are_high_entropy_and_checked_before_lookup() -> None:
    first, second = api_tokens.new_token(), api_tokens.new_token()
    assert first != second and api_tokens.TOKEN.fullmatch(first) and len(first) == len("pilotis_") + 43
    assert api_tokens.authenticate(None, "pas un jeton") is None  # type: ignore[arg-type]  # refused before any query


def test_service_accounts_from_the_admin_page(app, db, client, agent_client) -> None:  # type: ignore[no-untyped-def]
    assert agent_client.get("/admin/jetons").status_code == 403  # administrators only
    login_as(client, "admin")
    page = client.get("/admin/jetons")
    assert page.status_code == 200
    answer = client.post(
        "/admin/jetons",
        data={
            "name": "tableau-rh",
            "department": "rh",
            "roles": ["agent"],
            "days": "5",
            "csrf_token": form_token(page.get_data(as_text=True)),
        },
    )
    assert answer.status_code == 201
    token = CREATED.search(answer.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    api = app.server.test_client()
    seen = {d["id"] for d in api.get("/api/v1/datasets", headers=bearer(token)).get_json()["datasets"]}
    assert "rh_effectifs" in seen and "rsa_communes" not in seen  # the rights of direction RH
    with db.session() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.prefix == token[:16])).one()
    assert row.created_by == "admin" and row.kind == "service"
    page = client.get("/admin/jetons")
    assert token[:16] in page.get_data(as_text=True) and token not in page.get_data(as_text=True)
    bad = client.post(
        "/admin/jetons", data={"name": "x", "roles": ["display"], "csrf_token": form_token(page.get_data(as_text=True))}
    )
    assert bad.status_code == 400
    revoked = client.post(
        f"/admin/jetons/{row.id}/revoquer", data={"csrf_token": form_token(page.get_data(as_text=True))}
    )
    assert revoked.status_code == 200
    assert api.get("/api/v1/datasets", headers=bearer(token)).status_code == 401
