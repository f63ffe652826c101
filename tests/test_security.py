"""Start-up safety (production mode), cookie flags over HTTPS, schema migrations, demo accounts."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import flask
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from argon2 import PasswordHasher
from dash import Dash
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app import create_app
from pilotis.accounts import passwords, users
from pilotis.accounts.db import Database
from pilotis.accounts.models import Base, Department, User
from pilotis.accounts.users import DEMO_PASSWORD, DEMO_USERS
from pilotis.core.errors import StartupError
from pilotis.core.instance_secret import demo_secret_key
from pilotis.core.settings import ROOT, Settings
from tests.conftest import DashClient
from tests.dbutil import DB_KINDS, database_url
from tests.helpers import form_token, login_as

STRONG_KEY = "k" * 20 + "une-vraie-cle-secrete-de-production"
PUBLISHED_KEY = "pilotis-demo-cle-secrete-a-ne-pas-utiliser-en-production"
"""Demo mode's key until 2026-12, published in the source: anyone could sign a session with it."""


@pytest.fixture(params=DB_KINDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        yield url


def app_settings(settings: Settings, url: str, **changes: object) -> Settings:
    return dataclasses.replace(settings, database_url=url, **changes)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- production mode


def test_production_requires_a_key_of_its_own(settings: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    with pytest.raises(StartupError, match="mode production sans clé secrète. Définissez PILOTIS_SECRET_KEY"):
        create_app(app_settings(settings, url, mode="production", secret_key=""))
    assert not (settings.instance_dir / "other" / "secret_key").exists()
    for mode in ("production", "demo"):  # the key once published in the source: refused everywhere
        with pytest.raises(StartupError, match="publiée dans le code source"):
            create_app(app_settings(settings, url, mode=mode, secret_key=PUBLISHED_KEY))
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
    monkeypatch.setenv("PILOTIS_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.delenv("PILOTIS_MODE", raising=False)
    generated = Settings.from_env().secret_key  # demo mode: the installation's own key
    assert generated == (tmp_path / "instance" / "secret_key").read_text(encoding="utf-8").strip()
    monkeypatch.setenv("PILOTIS_MODE", "production")
    assert Settings.from_env().secret_key == ""  # production never falls back on it


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
    app = create_app(app_settings(settings, f"sqlite:///{tmp_path / 'x.db'}", proxies=1, host="0.0.0.0"))
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


def test_the_app_starts_without_hashing_a_password(
    settings: Settings, empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown user's password is checked against a constant made with today's parameters
    (no hash made at each worker start: 40 ms of CPU), and still costs a real check."""
    assert not passwords.hasher().check_needs_rehash(passwords.DUMMY_HASH)  # today's parameters
    passwords._dummy_hash.cache_clear()

    def refused(*_args: object) -> str:
        raise AssertionError("a password was hashed at start")

    monkeypatch.setattr(PasswordHasher, "hash", refused)
    app = create_app(app_settings(settings, empty_url))  # demo mode, empty database: the demo accounts too
    app.server.extensions["pilotis_db"].dispose()
    checked: list[str] = []
    real_verify = PasswordHasher.verify
    monkeypatch.setattr(PasswordHasher, "verify", lambda self, h, p: checked.append(h) or real_verify(self, h, p))
    assert not passwords.verify(None, "un-mot-de-passe-au-hasard")
    assert checked == [passwords.DUMMY_HASH]


def test_demo_accounts_are_created_with_the_published_password_without_hashing_it(
    empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert passwords.verify(users.DEMO_PASSWORD_HASH, DEMO_PASSWORD)
    assert not passwords.needs_rehash(users.DEMO_PASSWORD_HASH)  # made with today's parameters

    def refused(_password: str) -> str:
        raise AssertionError("hashed at start")

    monkeypatch.setattr(passwords, "hash_password", refused)
    with Database(empty_url) as db:
        db.upgrade()
        assert users.ensure_demo_users(db) == len(DEMO_USERS)
        with db.session() as session:
            president = users.find(session, "president")
            assert president is not None and passwords.verify(president.password_hash, DEMO_PASSWORD)


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


# --------------------------------------------------------------------------- demo mode: no published key


def demo_app(settings: Settings, tmp_path: Path, instance: str = "instance", **changes: object) -> Dash:
    """A demo-mode app given no key (as `make run`), on its own instance folder and database."""
    values: dict[str, object] = {
        "instance_dir": tmp_path / instance,
        "database_url": f"sqlite:///{tmp_path / 'demo.db'}",
        "mode": "demo",
        "secret_key": "",
        "host": "127.0.0.1",
    }
    values.update(changes)
    app = create_app(dataclasses.replace(settings, **values))  # type: ignore[arg-type]
    app.server.test_client_class = DashClient
    return app


def session_serializer(secret: str) -> Any:
    """Flask's session cookie signer for ``secret`` (what anyone holding the key can build)."""
    forge = flask.Flask("forge")
    forge.secret_key = secret
    return SecureCookieSessionInterface().get_signing_serializer(forge)


def test_a_session_forged_with_the_published_key_is_refused(settings: Settings, tmp_path: Path) -> None:
    """Before: demo mode signed sessions with a key in the source, so anyone could become admin."""
    app = demo_app(settings, tmp_path)
    client = app.server.test_client()
    login_as(client, "admin")
    cookie = client.get_cookie("pilotis_session")
    assert cookie is not None
    # The admin's own session, re-signed: what an attacker holding the key and a session id could send.
    payload = session_serializer(str(app.server.secret_key)).loads(cookie.value)

    def audit_page_with(secret: str) -> int:
        attacker = app.server.test_client()
        attacker.set_cookie("pilotis_session", session_serializer(secret).dumps(payload))
        return int(attacker.get("/admin/audit").status_code)

    assert audit_page_with(str(app.server.secret_key)) == 200  # the forgery itself is sound…
    assert audit_page_with(PUBLISHED_KEY) == 302  # …but the published key signs nothing: login page
    assert app.server.secret_key != PUBLISHED_KEY and len(str(app.server.secret_key)) >= 64
    app.server.extensions["pilotis_db"].dispose()


def test_app_instances_of_one_installation_share_its_generated_key(settings: Settings, tmp_path: Path) -> None:
    first = demo_app(settings, tmp_path)
    second = demo_app(settings, tmp_path)  # another worker, or a restart
    key_file = tmp_path / "instance" / "secret_key"
    assert first.server.secret_key == second.server.secret_key == key_file.read_text(encoding="utf-8").strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    client = first.server.test_client()
    login_as(client, "president")
    cookie = client.get_cookie("pilotis_session")
    assert cookie is not None
    other = second.server.test_client()
    other.set_cookie("pilotis_session", cookie.value)
    assert other.get("/").status_code == 200  # a session opened on one worker is valid on the other
    elsewhere = demo_app(settings, tmp_path, instance="other-installation")
    assert elsewhere.server.secret_key != first.server.secret_key
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "instance/" in ignored, "the instance folder (and its secret_key) must never be committed"
    for app in (first, second, elsewhere):
        app.server.extensions["pilotis_db"].dispose()


def test_workers_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(lambda _: demo_secret_key(tmp_path / "instance"), range(32)))
    assert len(keys) == 1 and len(keys.pop()) >= 64
    assert [p.name for p in (tmp_path / "instance").iterdir()] == ["secret_key"]  # no candidate left


def test_demo_mode_refuses_a_database_with_real_accounts(settings: Settings, empty_url: str) -> None:
    with Database(empty_url) as db:
        db.upgrade()
        users.ensure_demo_users(db)
        users.set_password(db, "admin", "un-vrai-mot-de-passe-long")  # a real administrator now
    with pytest.raises(StartupError, match="ne sont pas des comptes de démonstration") as info:
        create_app(app_settings(settings, empty_url, mode="demo", secret_key=""))
    message = info.value.report()
    assert "(admin)" in message and "PILOTIS_MODE=production" in message and "PILOTIS_SECRET_KEY" in message


def test_demo_mode_answers_this_machine_only_unless_told(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PILOTIS_HOST", raising=False)
    assert Settings.from_env(instance_dir=tmp_path / "env").host == "127.0.0.1"  # what `make run` binds
    app = demo_app(settings, tmp_path)
    client = app.server.test_client()
    for address in ("127.0.0.1", "127.3.2.1", "::1"):
        assert client.get("/login", environ_base={"REMOTE_ADDR": address}).status_code == 200, address
    refused = client.get("/login", environ_base={"REMOTE_ADDR": "192.0.2.10"})  # gunicorn -b 0.0.0.0
    assert refused.status_code == 403
    assert "mode démonstration" in refused.get_data(as_text=True)
    assert "PILOTIS_HOST" in refused.get_data(as_text=True)
    proxied = demo_app(settings, tmp_path, proxies=1)  # a reverse proxy on this machine
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    assert proxied.server.test_client().get("/login", headers=forwarded).status_code == 403
    told = demo_app(settings, tmp_path, host="0.0.0.0")  # PILOTIS_HOST=0.0.0.0: open on purpose
    assert told.server.test_client().get("/login", environ_base={"REMOTE_ADDR": "192.0.2.10"}).status_code == 200
    for each in (app, proxied, told):
        each.server.extensions["pilotis_db"].dispose()


# --------------------------------------------------------------------------- what one request may cost

ROUTE = "..page.children...page-title.children.."
ROUTE_OUTPUTS = [{"id": "page", "property": "children"}, {"id": "page-title", "property": "children"}]


def route_body(**changes: object) -> dict[str, Any]:
    """The body dash-renderer posts for the page router (the home page)."""
    body: dict[str, Any] = {
        "output": ROUTE,
        "outputs": ROUTE_OUTPUTS,
        "inputs": [{"id": "url", "property": "pathname", "value": "/"}],
        "changedPropIds": ["url.pathname"],
    }
    body.update(changes)
    return body


def test_request_bodies_are_capped(settings: Settings, tmp_path: Path, president_client: FlaskClient) -> None:
    assert president_client.post("/_dash-update-component", json=route_body()).status_code == 200
    large = route_body(padding="x" * (2 * 1024 * 1024))  # 2 MB; 50 MB was accepted before
    response = president_client.post("/_dash-update-component", json=large)
    assert response.status_code == 413
    assert "Requête trop volumineuse" in response.get_json()["error"]
    form = president_client.post("/login", data={"username": "x", "password": "y" * 2_000_000})
    assert form.status_code == 413
    small = demo_app(settings, tmp_path, max_request_bytes=20_000)  # PILOTIS_MAX_REQUEST_BYTES
    client = small.server.test_client()
    login_as(client, "president")
    assert client.post("/_dash-update-component", json=route_body()).status_code == 200
    assert client.post("/_dash-update-component", json=route_body(padding="x" * 30_000)).status_code == 413
    small.server.extensions["pilotis_db"].dispose()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (route_body(inputs=[{"id": "url", "property": "pathname", "value": "/"}] * 10_000), "`inputs`"),
        (route_body(inputs="url.pathname"), "`inputs`"),
        (route_body(inputs=[]), "`inputs`"),  # fewer than declared: the callback would crash (500)
        (route_body(inputs=[["url", "pathname"]]), "`inputs`"),
        (route_body(inputs=[{"id": "u" * 5000, "property": "pathname", "value": "/"}]), "`inputs`"),
        (route_body(state=[{"id": "url", "property": "pathname", "value": "/"}]), "`state`"),
        (route_body(outputs=ROUTE_OUTPUTS * 500), "`outputs`"),
        (route_body(outputs={"id": "page", "property": "children"}), "`outputs`"),
        (route_body(changedPropIds=["url.pathname"] * 1000), "`changedPropIds`"),
        (route_body(output=["page.children"]), "`output`"),
        ([route_body()], "objet JSON"),
    ],
)
def test_malformed_or_oversized_callbacks_get_400(president_client: FlaskClient, body: Any, field: str) -> None:
    response = president_client.post("/_dash-update-component", json=body)
    assert response.status_code == 400, response.data[:200]
    assert field in response.get_json()["error"]


def test_a_callback_body_that_is_not_json_gets_400(president_client: FlaskClient) -> None:
    response = president_client.post("/_dash-update-component", data="{pas du json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.get_json()["error"]


def test_unknown_component_bundles_are_not_found(client: FlaskClient, president_client: FlaskClient) -> None:
    for path in (
        "/_dash-component-suites/dash/nope.js",
        "/_dash-component-suites/nopkg/x.js",
        "/_dash-component-suites/dash/deps/../../app.py",
        "/_dash-component-suites/plotly/package_data/absent.min.js",
    ):
        assert client.get(path).status_code == 404, path
    index = president_client.get("/").get_data(as_text=True)  # the bundles a page names are served
    bundles = re.findall(r'src="(/_dash-component-suites/[^"]+)"', index)
    assert len(bundles) >= 5
    for bundle in bundles:
        assert client.get(bundle).status_code == 200, bundle


# --------------------------------------------------------------------------- Content-Security-Policy

INLINE_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<code>.*?)</script>", re.S)


def directives(header: str) -> dict[str, list[str]]:
    parts = (part.split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


def test_every_response_carries_a_strict_policy(president_client: FlaskClient, client: FlaskClient) -> None:
    page = president_client.get("/rsa")
    for response in (page, client.get("/login"), president_client.get("/_dash-layout"), client.get("/nulle-part")):
        policy = directives(response.headers["Content-Security-Policy"])
        assert policy["default-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
        assert policy["object-src"] == ["'none'"] and policy["connect-src"] == ["'self'"]
        assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
        assert not any("http" in source or source == "*" for sources in policy.values() for source in sources)
    html = page.get_data(as_text=True)
    inline = [m["code"] for m in INLINE_SCRIPT.finditer(html) if "src=" not in m["attrs"] and "json" not in m["attrs"]]
    assert inline, "the Dash index page has inline scripts (renderer, clientside callbacks)"
    allowed = directives(page.headers["Content-Security-Policy"])["script-src"]
    for code in inline:  # each inline script the page runs is allowed by its hash, and only so
        digest = base64.b64encode(hashlib.sha256(code.encode("utf-8")).digest()).decode("ascii")
        assert f"'sha256-{digest}'" in allowed, code[:80]
