"""Server-side sessions: a copy of the cookie dies with the session, everywhere, on every instance.

Also the login throttle under concurrent guesses and a database connection cut under the
per-request session lookup — on SQLite and on PostgreSQL (``PILOTIS_TEST_PG``).
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import itsdangerous.timed
import pytest
from dash import Dash
from sqlalchemy import create_engine, event, select, text

from app import create_app
from pilotis.accounts import user_sessions, users
from pilotis.accounts.db import Database, get_db, utcnow
from pilotis.accounts.models import AuditEvent
from pilotis.cli.main import main
from pilotis.core.settings import ROOT, Settings
from tests.conftest import DashClient
from tests.dbutil import DB_KINDS, database_url
from tests.helpers import form_token, login_as, page_callback

PASSWORD = "un-mot-de-passe-solide"


def new_user(db: Database, portal: Any, roles: tuple[str, ...] = ("admin",), department: str = "rh") -> str:
    """A fresh account of this test."""
    username = f"sess.{secrets.token_hex(4)}"
    users.create(
        db,
        username=username,
        display_name="Compte de test",
        department=department,
        roles=list(roles),
        territory=None,
        password=PASSWORD,
        departments=portal.registry.departments,
    )
    return username


def signed_in(app: Dash, username: str) -> Any:
    client = app.server.test_client()
    login_as(client, username, PASSWORD)
    return client


def copy_of(source: Any, app: Dash) -> Any:
    """Another client ("another browser") holding a copy of ``source``'s cookies."""
    thief = app.server.test_client()
    for name in ("pilotis_session", "_csrf_token"):
        cookie = source.get_cookie(name)
        if cookie is not None:
            thief.set_cookie(name, cookie.value)
    return thief


def page_status(client: Any) -> int:
    """Status of an admin page: 200 signed in (admin), 302 to the login page when anonymous."""
    response = client.get("/admin/audit")
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")
    return int(response.status_code)


def callback_status(client: Any, portal: Any) -> int:
    """Status of a Dash widget callback (200 signed in, 401 anonymous)."""
    dashboard = portal.registry.dashboards["rsa"]
    return int(page_callback(client, dashboard, "departement:53", "2019").status_code)


def csrf(client: Any) -> str:
    return str(client.get_cookie("_csrf_token").value)


def audit_events(db: Database, event_name: str, target: str) -> list[AuditEvent]:
    with db.session() as session:
        query = select(AuditEvent).where(AuditEvent.event == event_name, AuditEvent.target == target)
        return list(session.scalars(query).all())


# --------------------------------------------------------------------------- logout, everywhere


def test_a_copy_of_the_cookie_is_anonymous_after_logout(app, db, portal) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal)
    client = signed_in(app, username)
    thief = copy_of(client, app)
    assert page_status(thief) == 200 and callback_status(thief, portal) == 200  # the copy works while signed in
    assert client.post("/logout", data={"csrf_token": csrf(client)}).status_code == 302
    assert page_status(thief) == 302
    assert callback_status(thief, portal) == 401
    assert page_status(copy_of(thief, app)) == 302  # the renewed copy too


def test_signing_in_again_ends_the_session_it_replaces(app, db, portal) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal)
    client = signed_in(app, username)
    old_copy = copy_of(client, app)
    token = form_token(client.get("/logout").get_data(as_text=True))  # GET /login redirects when signed in
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert page_status(client) == 200
    assert page_status(old_copy) == 302


def test_sign_out_everywhere_ends_the_sessions_of_other_browsers(app, db, portal) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal)
    laptop, phone = signed_in(app, username), signed_in(app, username)
    other = signed_in(app, new_user(db, portal))  # another account keeps its session
    layout = json.dumps(laptop.get("/_dash-layout").get_json(), ensure_ascii=False)
    assert '"action": "/logout?everywhere=1"' in layout and "Se déconnecter partout" in layout
    page = laptop.get("/logout?everywhere=1")
    assert page.status_code == 200 and "Se déconnecter partout" in page.get_data(as_text=True)
    assert page_status(phone) == 200  # asking is not doing
    response = laptop.post("/logout?everywhere=1", data={"csrf_token": form_token(page.get_data(as_text=True))})
    assert response.status_code == 302 and response.headers["Location"] == "/login?logged_out=1"
    assert page_status(laptop) == 302 and page_status(phone) == 302
    assert callback_status(phone, portal) == 401
    assert page_status(other) == 200
    assert audit_events(db, "sessions_revoked", username)
    assert page_status(signed_in(app, username)) == 200  # signing in again works


def test_sign_out_everywhere_needs_the_csrf_token(app, db, portal) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal)
    laptop, phone = signed_in(app, username), signed_in(app, username)
    assert laptop.post("/logout?everywhere=1").status_code == 400
    assert page_status(phone) == 200 and page_status(laptop) == 200


# --------------------------------------------------------------------------- the users command line


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line pointed at the app's database."""
    monkeypatch.setenv("PILOTIS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PILOTIS_CONFIG_DIR", str(ROOT / "config"))


def test_admin_signout_command_ends_every_session(app, db, portal, cli_env, capsys) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal)
    one, two = signed_in(app, username), signed_in(app, username)
    assert main(["users", "signout", username]) == 0
    assert "2 session(s)" in capsys.readouterr().out
    assert page_status(one) == 302 and page_status(two) == 302
    event = audit_events(db, "sessions_revoked", username)[-1]
    assert event.username and event.username.startswith("cli:")
    assert main(["users", "signout", "personne.inconnue"]) == 1
    assert "inconnu" in capsys.readouterr().err


def test_disabling_through_the_cli_ends_sessions(app, db, portal, cli_env) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal)
    client = signed_in(app, username)
    assert main(["users", "disable", username]) == 0
    assert page_status(client) == 302 and callback_status(client, portal) == 401
    assert main(["users", "enable", username]) == 0
    assert page_status(client) == 302  # re-enabling does not bring the old session back


def _import(tmp_path: Path, username: str, department: str, roles: str) -> int:
    path = tmp_path / f"import-{secrets.token_hex(3)}.csv"
    path.write_text(
        f"username,display_name,department,roles,territory,password\n{username},Nom changé,{department},{roles},,\n",
        encoding="utf-8",
    )
    return main(["users", "import", str(path)])


def test_changing_roles_or_direction_through_the_cli_ends_sessions(app, db, portal, cli_env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal, roles=("admin",), department="rh")
    client = signed_in(app, username)
    assert _import(tmp_path, username, "rh", "admin") == 0  # only the display name changes
    assert page_status(client) == 200
    assert _import(tmp_path, username, "finances", "admin") == 0  # direction changed
    assert page_status(client) == 302
    client = signed_in(app, username)
    assert _import(tmp_path, username, "finances", "admin|agent") == 0  # roles changed
    assert page_status(client) == 302


# --------------------------------------------------------------------------- lifetimes


class Clock:
    """Moves both clocks a session depends on: the signed cookie's (itsdangerous) and the server's."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def utcnow(self) -> Any:
        return utcnow() + timedelta(seconds=self.offset)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(itsdangerous.timed, "time", fake)
    monkeypatch.setattr(user_sessions, "utcnow", fake.utcnow)
    yield fake


def test_absolute_lifetime_ends_even_an_active_session(app, db, portal, clock) -> None:  # type: ignore[no-untyped-def]
    assert portal.settings.session_max_hours == 12 and portal.settings.session_minutes == 60
    client = signed_in(app, new_user(db, portal))
    for _ in range(14):  # a request every 50 minutes (never idle) for 11 h 40
        clock.offset += 50 * 60
        assert page_status(client) == 200
    clock.offset += 21 * 60  # 12 h 01 after the login
    assert page_status(client) == 302
    assert callback_status(client, portal) == 401


# --------------------------------------------------------------------------- several instances


@pytest.fixture(scope="module", params=DB_KINDS)
def instances(
    request: pytest.FixtureRequest, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Dash, Dash]]:
    """Two apps (two machines) sharing one application database (SQLite file or PostgreSQL)."""
    with database_url(request.param, tmp_path_factory.mktemp("two")) as url:
        apps = []
        for _ in range(2):
            local = dataclasses.replace(settings, database_url=url, instance_dir=tmp_path_factory.mktemp("inst"))
            app = create_app(local)
            app.server.test_client_class = DashClient
            apps.append(app)
        yield apps[0], apps[1]
        for app in apps:
            get_db(app.server).dispose()


def test_logout_on_one_instance_ends_the_session_on_the_other(instances) -> None:  # type: ignore[no-untyped-def]
    one, two = instances
    portal = one.server.extensions["pilotis"]
    username = new_user(get_db(one.server), portal)
    client = signed_in(one, username)
    elsewhere = copy_of(client, two)
    assert page_status(elsewhere) == 200 and callback_status(elsewhere, portal) == 200
    client.post("/logout", data={"csrf_token": csrf(client)})
    assert page_status(elsewhere) == 302 and callback_status(elsewhere, portal) == 401


def test_at_most_five_guesses_are_evaluated_across_instances(instances) -> None:  # type: ignore[no-untyped-def]
    """20 wrong passwords fired at once at two instances: no more than 5 are checked."""
    one, two = instances
    db = get_db(one.server)
    username = new_user(db, one.server.extensions["pilotis"])
    guesses = 20
    clients = []
    for i in range(guesses):  # each "attacker" has its page and token first, then all fire together
        client = (one if i % 2 else two).server.test_client()
        token = form_token(client.get("/login").get_data(as_text=True))
        clients.append((client, token, f"10.99.{i // 250}.{i % 250 + 1}"))
    barrier = threading.Barrier(guesses)
    statuses: list[int] = []

    def guess(client: Any, token: str, ip: str) -> None:
        barrier.wait()
        response = client.post(
            "/login",
            data={"username": username, "password": "mauvais-mot-de-passe", "csrf_token": token},
            environ_base={"REMOTE_ADDR": ip},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=args) for args in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == guesses and set(statuses) <= {401, 429}
    evaluated = audit_events_by_user(db, "login_failure", username)
    assert len(evaluated) <= 5, f"{len(evaluated)} mots de passe vérifiés au lieu de 5 au plus"
    assert len(evaluated) >= 1
    assert statuses.count(429) >= guesses - 4


def audit_events_by_user(db: Database, event_name: str, username: str) -> list[AuditEvent]:
    with db.session() as session:
        query = select(AuditEvent).where(AuditEvent.event == event_name, AuditEvent.username == username)
        return list(session.scalars(query).all())


# --------------------------------------------------------------------------- PostgreSQL connection cut


@pytest.fixture
def pg_app(settings: Settings, tmp_path: Path) -> Iterator[tuple[Dash, str]]:
    """An app on PostgreSQL whose connections carry an application_name of their own."""
    with database_url("postgres", tmp_path) as url:
        from sqlalchemy.engine import make_url

        name = f"pilotis_cut_{secrets.token_hex(4)}"
        tagged = make_url(url).update_query_dict({"application_name": name}).render_as_string(hide_password=False)
        app = create_app(dataclasses.replace(settings, database_url=tagged, instance_dir=tmp_path))
        app.server.test_client_class = DashClient
        yield app, name
        get_db(app.server).dispose()


def _terminate(application_name: str) -> int:
    """Kill, from another connection, every backend of the app (what a restart or failover does)."""
    import os

    admin = create_engine(os.environ["PILOTIS_TEST_PG"], isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            return len(
                connection.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :n"),
                    {"n": application_name},
                ).all()
            )
    finally:
        admin.dispose()


@pytest.mark.postgres
def test_connections_killed_between_two_requests(pg_app) -> None:  # type: ignore[no-untyped-def]
    app, name = pg_app
    portal = app.server.extensions["pilotis"]
    client = signed_in(app, new_user(get_db(app.server), portal))
    assert page_status(client) == 200
    assert _terminate(name) >= 1
    assert page_status(client) == 200
    assert callback_status(client, portal) == 200


@pytest.mark.postgres
def test_connection_cut_during_the_session_lookup(pg_app) -> None:  # type: ignore[no-untyped-def]
    """The backend dies after the pool's pre-ping, under the lookup itself: one retry, no 500."""
    app, name = pg_app
    portal = app.server.extensions["pilotis"]
    db = get_db(app.server)
    client = signed_in(app, new_user(db, portal))
    assert page_status(client) == 200
    cuts: list[int] = []

    def cut_once(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if not cuts:
            cuts.append(_terminate(name))

    event.listen(db.engine, "checkout", cut_once)
    try:
        assert page_status(client) == 200
    finally:
        event.remove(db.engine, "checkout", cut_once)
    assert cuts and cuts[0] >= 1
    assert callback_status(client, portal) == 200
