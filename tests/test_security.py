"""Start-up safety (production mode), cookie flags over HTTPS, schema migrations, demo accounts."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from app import create_app
from pilotis.accounts import users
from pilotis.accounts.db import Database
from pilotis.accounts.models import Base, Department, User
from pilotis.accounts.users import DEMO_PASSWORD, DEMO_USERS
from pilotis.core.errors import StartupError
from pilotis.core.settings import DEMO_SECRET_KEY, ROOT, Settings
from tests.dbutil import DB_KINDS, database_url
from tests.helpers import form_token, login_as

STRONG_KEY = "k" * 20 + "une-vraie-cle-secrete-de-production"


@pytest.fixture(params=DB_KINDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        yield url


def app_settings(settings: Settings, url: str, **changes: object) -> Settings:
    return dataclasses.replace(settings, database_url=url, **changes)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- production mode


def test_production_refuses_the_demo_secret(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="clé secrète de démonstration"):
        create_app(app_settings(settings, f"sqlite:///{tmp_path / 'p.db'}", mode="production"))
    with pytest.raises(StartupError, match="trop courte"):
        create_app(app_settings(settings, f"sqlite:///{tmp_path / 'p.db'}", mode="production", secret_key="court"))


def test_unknown_mode_is_refused(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="PILOTIS_MODE"):
        create_app(app_settings(settings, f"sqlite:///{tmp_path / 'p.db'}", mode="prod"))


def test_production_refuses_demo_accounts(settings: Settings, empty_url: str) -> None:
    with Database(empty_url) as db:
        db.upgrade()
        users.ensure_demo_users(db)
    with pytest.raises(StartupError, match="comptes de démonstration actifs") as info:
        create_app(app_settings(settings, empty_url, mode="production", secret_key=STRONG_KEY))
    assert "admin" in str(info.value) and "users disable" in str(info.value)


def test_production_starts_without_demo_accounts(settings: Settings, empty_url: str) -> None:
    with Database(empty_url) as db:
        db.upgrade()
        users.ensure_demo_users(db)
        for demo in DEMO_USERS:  # what an administrator does before switching to production
            if demo.username == "admin":
                users.set_password(db, "admin", "un-vrai-mot-de-passe-long")
            else:
                users.set_active(db, demo.username, False)
    app = create_app(app_settings(settings, empty_url, mode="production", secret_key=STRONG_KEY))
    client = app.server.test_client()
    login_as(client, "agent.rsa", DEMO_PASSWORD, expect=401)
    login_as(client, "admin", "un-vrai-mot-de-passe-long")
    app.server.extensions["pilotis_db"].dispose()


def test_production_creates_no_demo_account(settings: Settings, empty_url: str) -> None:
    app = create_app(app_settings(settings, empty_url, mode="production", secret_key=STRONG_KEY))
    db = app.server.extensions["pilotis_db"]
    with db.session() as session:
        assert session.scalar(select(func.count(User.id))) == 0
    db.dispose()


def test_gunicorn_entry_point_exits_with_a_french_message(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTIS_")}
    env.update(PILOTIS_MODE="production", PILOTIS_INSTANCE_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", "import app; app.server"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Pilotis refuse de démarrer" in result.stderr and "PILOTIS_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_secret_key_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret"
    secret.write_text(STRONG_KEY + "\n", encoding="utf-8")
    monkeypatch.delenv("PILOTIS_SECRET_KEY", raising=False)
    monkeypatch.setenv("PILOTIS_SECRET_KEY_FILE", str(secret))
    assert Settings.from_env().secret_key == STRONG_KEY
    monkeypatch.delenv("PILOTIS_SECRET_KEY_FILE")
    assert Settings.from_env().secret_key == DEMO_SECRET_KEY


# --------------------------------------------------------------------------- HTTPS


def test_secure_cookies_over_https(settings: Settings, tmp_path: Path) -> None:
    app = create_app(app_settings(settings, f"sqlite:///{tmp_path / 's.db'}", secure_cookies=True))
    client = app.server.test_client()
    base = "https://pilotis.example"
    page = client.get("/login", base_url=base)
    assert "Secure" in page.headers["Set-Cookie"]
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    data = {
        "username": "president",
        "password": DEMO_PASSWORD,
        "csrf_token": form_token(page.get_data(as_text=True)),
    }
    no_referrer = client.post("/login", data=data, base_url=base)
    assert no_referrer.status_code == 400  # over HTTPS the CSRF check also wants a same-site Referer
    response = client.post("/login", data=data, base_url=base, headers={"Referer": f"{base}/login"})
    assert response.status_code == 302
    for header in response.headers.getlist("Set-Cookie"):
        assert "; Secure" in header, header
    app.server.extensions["pilotis_db"].dispose()


def test_behind_a_proxy_the_client_address_is_used(settings: Settings, tmp_path: Path) -> None:
    app = create_app(app_settings(settings, f"sqlite:///{tmp_path / 'x.db'}", proxies=1))
    client = app.server.test_client()
    headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    page = client.get("/login", headers=headers)
    data = {
        "username": "inconnu",
        "password": "x" * 12,
        "csrf_token": form_token(page.get_data(as_text=True)),
    }
    client.post("/login", data=data, headers={**headers, "Referer": "https://localhost/login"})
    db = app.server.extensions["pilotis_db"]
    from pilotis.accounts.models import AuditEvent

    with db.session() as session:
        row = session.scalars(select(AuditEvent).where(AuditEvent.event == "login_failure")).one()
    assert row.ip == "203.0.113.9"
    db.dispose()


# --------------------------------------------------------------------------- database


def test_migrations_match_the_models(empty_url: str) -> None:
    with Database(empty_url) as db:
        db.upgrade()
        db.upgrade()  # idempotent
        from alembic.script import ScriptDirectory

        heads = ScriptDirectory.from_config(db.alembic_config()).get_heads()
        assert len(heads) == 1, f"several migration heads: {heads}"
        assert db.current_revision() == heads[0]
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []


def test_demo_accounts_and_org_chart_on_first_start(db: Database, portal) -> None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        names = set(session.scalars(select(User.username).where(User.demo.is_(True))).all())
        departments = {d.id: d.label for d in session.scalars(select(Department)).all()}
    assert {d.username for d in DEMO_USERS} <= names
    assert departments == portal.registry.departments
    assert users.ensure_demo_users(db) == 0  # not twice


def test_demo_accounts_have_their_documented_rights(db: Database) -> None:
    with db.session() as session:
        laval = users.find(session, "agent.laval")
        president = users.find(session, "president")
        assert laval is not None and president is not None
        assert users.principal_of(laval).territory == "epci:200083392"
        assert users.principal_of(president).roles == frozenset({"president"})


def test_readme_lists_the_demo_accounts() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("Comptes de démonstration", 1)[1]
    assert DEMO_PASSWORD in section
    for demo in DEMO_USERS:
        assert f"`{demo.username}`" in section, demo.username
