"""Sign-in, sign-out, sessions and CSRF, through the real HTTP routes of the app.

Tests that fail logins do it from addresses of their own (``REMOTE_ADDR``) and on accounts of
their own, so that the lockouts they cause never reach the demo accounts other tests sign in with.
"""

from __future__ import annotations

import itertools
import re
import secrets
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import itsdangerous.timed
import pytest
from sqlalchemy import select

from pilotis.accounts import users
from pilotis.accounts.db import Database
from pilotis.accounts.models import AuditEvent
from tests.helpers import form_token, login_as, page_callback

PASSWORD = "un-mot-de-passe-solide"
GENERIC = "Identifiant ou mot de passe incorrect."
_addresses = itertools.count(1)


def fresh_ip() -> str:
    """An address no other test used (per-address throttling stays per test)."""
    n = next(_addresses)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def new_user(db: Database, portal: Any, roles: tuple[str, ...] = ("agent",), **fields: Any) -> str:
    """A fresh account of this test (the demo accounts are shared by the whole suite)."""
    username = f"test.{secrets.token_hex(4)}"
    users.create(
        db,
        username=username,
        display_name="Compte de test",
        department=fields.get("department", "rh"),
        roles=list(roles),
        territory=fields.get("territory"),
        password=PASSWORD,
        departments=portal.registry.departments,
    )
    return username


def attempt(client: Any, username: str, password: str, ip: str, next_url: str = "") -> Any:
    """One POST of the login form (with its CSRF token) from ``ip``."""
    env = {"REMOTE_ADDR": ip}
    page = client.get("/login", environ_base=env)
    data = {
        "username": username,
        "password": password,
        "csrf_token": form_token(page.get_data(as_text=True)),
    }
    if next_url:
        data["next"] = next_url
    return client.post("/login", data=data, environ_base=env)


def set_cookies(response: Any) -> dict[str, str]:
    """``Set-Cookie`` headers of a response, by cookie name."""
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


def events(db: Database, event: str, username: str | None = None) -> list[AuditEvent]:
    with db.session() as session:
        query = select(AuditEvent).where(AuditEvent.event == event)
        if username is not None:
            query = query.where(AuditEvent.username == username)
        return list(session.scalars(query.order_by(AuditEvent.id)).all())


# --------------------------------------------------------------------------- the login page


def test_login_page_is_french_and_accessible(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="fr">' in html
    assert '<label for="username"' in html and 'id="username"' in html
    assert '<label for="password"' in html and 'id="password"' in html
    assert 'autocomplete="username"' in html and 'autocomplete="current-password"' in html
    assert 'name="csrf_token"' in html
    assert "/assets/vendor/bootstrap/bootstrap.min.css" in html
    assert "http://" not in html and "https://" not in html  # no CDN
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_login_success_sets_safe_cookies(client, db, portal) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal)
    response = attempt(client, username, PASSWORD, fresh_ip())
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookies = set_cookies(response)
    session = cookies["pilotis_session"]
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Expires=" in session
    assert "Secure" not in session  # served over plain HTTP here (see test_secure_cookies)
    csrf = cookies["_csrf_token"]
    assert "HttpOnly" not in csrf and "SameSite=Lax" in csrf  # dash-renderer must read it
    assert not any(name.startswith("remember") for name in cookies)
    assert events(db, "login_success", username)


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/rsa", "/rsa"),
        ("/admin/audit?event=logout", "/admin/audit?event=logout"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_is_restricted_to_local_paths(client, db, portal, target: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal)
    response = attempt(client, username, PASSWORD, fresh_ip(), next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def _without_token(html: str) -> str:
    html = re.sub(r'name="csrf_token" value="[^"]+"', "", html)
    return re.sub(r'id="username" name="username" value="[^"]*"', "", html)


def test_wrong_password_and_unknown_user_look_the_same(client, db, portal) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal)
    wrong = attempt(client, username, "pas-le-bon-mot-de-passe", fresh_ip())
    unknown = attempt(client, f"inconnu.{secrets.token_hex(4)}", "pas-le-bon-mot-de-passe", fresh_ip())
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        html = response.get_data(as_text=True)
        assert f'role="alert" id="login-error">{GENERIC}</div>' in html
    assert _without_token(wrong.get_data(as_text=True)) == _without_token(unknown.get_data(as_text=True))
    failure = events(db, "login_failure", username)[-1]
    assert failure.detail == "mot de passe incorrect" and "pas-le-bon" not in failure.detail


def test_disabled_account_cannot_sign_in(client, db, portal) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal)
    users.set_active(db, username, False)
    response = attempt(client, username, PASSWORD, fresh_ip())
    assert response.status_code == 401 and GENERIC in response.get_data(as_text=True)


def test_login_without_csrf_token_is_refused(client, db, portal) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal)
    client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": fresh_ip()},
    )
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)
    assert "pilotis_session" not in set_cookies(response) or "_user_id" not in str(response.headers)


def test_login_with_a_token_of_another_session_is_refused(app, db, portal) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal)
    attacker, victim = app.server.test_client(), app.server.test_client()
    token = form_token(attacker.get("/login").get_data(as_text=True))
    victim.get("/login")
    response = victim.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 400


# --------------------------------------------------------------------------- throttling


def test_account_lockout_even_with_the_right_password(client, db, portal) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal)
    statuses = [attempt(client, username, f"mauvais-{i}", fresh_ip()).status_code for i in range(5)]
    assert statuses == [401, 401, 401, 401, 429]  # the 5th failure locks (per account: any address)
    locked = attempt(client, username, PASSWORD, fresh_ip())
    assert locked.status_code == 429
    assert "Trop de tentatives : réessayez dans 15 minutes." in locked.get_data(as_text=True)
    assert 'role="alert"' in locked.get_data(as_text=True)
    assert events(db, "login_locked", username)


def test_unknown_accounts_lock_with_the_same_message(client) -> None:  # type: ignore[no-untyped-def]
    name = f"inconnu.{secrets.token_hex(4)}"
    responses = [attempt(client, name, f"mauvais-{i}", fresh_ip()) for i in range(6)]
    assert [r.status_code for r in responses] == [401, 401, 401, 401, 429, 429]
    assert "Trop de tentatives : réessayez dans 15 minutes." in responses[-1].get_data(as_text=True)


def test_address_lockout(client, db, portal) -> None:  # type: ignore[no-untyped-def]
    ip = fresh_ip()
    for i in range(20):  # 20 different names: no account reaches its own limit
        attempt(client, f"balayage.{i}.{secrets.token_hex(3)}", "mauvais", ip)
    username = new_user(db, portal)
    blocked = attempt(client, username, PASSWORD, ip)
    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.get_data(as_text=True)
    assert attempt(client, username, PASSWORD, fresh_ip()).status_code == 302  # the account is fine


def test_success_resets_the_account_count(client, db, portal) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal)
    for i in range(4):
        assert attempt(client, username, f"mauvais-{i}", fresh_ip()).status_code == 401
    assert attempt(client, username, PASSWORD, fresh_ip()).status_code == 302
    client.post("/logout", data={"csrf_token": client.get_cookie("_csrf_token").value})
    for i in range(4):
        assert attempt(client, username, f"encore-{i}", fresh_ip()).status_code == 401


@pytest.mark.timeout(60)
def test_timing_does_not_reveal_which_accounts_exist(client, db, portal) -> None:  # type: ignore[no-untyped-def]
    """Median time of wrong-password vs unknown-user logins within 25 % (Argon2 on both paths)."""
    rounds = 24
    existing = [new_user(db, portal) for _ in range(rounds // 3 + 1)]  # ≤ 4 failures each: no lockout

    def timed(username: str) -> float:
        ip = fresh_ip()
        page = client.get("/login", environ_base={"REMOTE_ADDR": ip})
        data = {
            "username": username,
            "password": "pas-le-bon-mot-de-passe",
            "csrf_token": form_token(page.get_data(as_text=True)),
        }
        start = time.perf_counter()
        response = client.post("/login", data=data, environ_base={"REMOTE_ADDR": ip})
        elapsed = time.perf_counter() - start
        assert response.status_code == 401
        return elapsed

    timed(existing[0])  # warm-up (first queries, template cache)
    wrong: list[float] = []
    unknown: list[float] = []
    for i in range(rounds):  # interleaved, so that machine load affects both series alike
        wrong.append(timed(existing[i % len(existing)]))
        unknown.append(timed(f"personne.{secrets.token_hex(5)}"))
    a, b = statistics.median(wrong), statistics.median(unknown)
    assert abs(a - b) / max(a, b) < 0.25, (a, b)
    assert min(a, b) > 0.005, "Argon2 does not seem to run on one of the paths"


# --------------------------------------------------------------------------- sessions


def test_logout_ends_the_session(client, db, portal) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal, roles=("admin",))
    attempt(client, username, PASSWORD, fresh_ip())
    assert client.get("/admin/audit").status_code == 200
    token = client.get_cookie("_csrf_token").value
    refused = client.post("/logout")  # no token: refused, still signed in
    assert refused.status_code == 400
    assert client.get("/admin/audit").status_code == 200
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login?logged_out=1"
    assert client.get_cookie("_csrf_token") is None
    after = client.get("/admin/audit")
    assert after.status_code == 302 and after.headers["Location"].startswith("/login")
    assert "Vous êtes déconnecté." in client.get("/login?logged_out=1").get_data(as_text=True)
    assert events(db, "logout", username)


def test_logout_by_get_only_asks(client, db, portal) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal, roles=("admin",))
    attempt(client, username, PASSWORD, fresh_ip())
    page = client.get("/logout")
    assert page.status_code == 200 and 'action="/logout"' in page.get_data(as_text=True)
    assert client.get("/admin/audit").status_code == 200


class Clock:
    """Replaces ``time`` in itsdangerous (signed-cookie timestamps) by a clock we can move."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(itsdangerous.timed, "time", fake)
    yield fake


def test_session_expires_when_idle(client, db, portal, clock) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal, roles=("admin",))
    attempt(client, username, PASSWORD, fresh_ip())
    for _ in range(3):  # activity renews the session: 3 × 40 min > 60 min
        clock.offset += 40 * 60
        assert client.get("/admin/audit").status_code == 200
    clock.offset += 61 * 60  # idle longer than session_minutes (60)
    expired = client.get("/admin/audit")
    assert expired.status_code == 302 and expired.headers["Location"].startswith("/login")


def test_password_change_ends_open_sessions(client, db, portal) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal, roles=("admin",))
    attempt(client, username, PASSWORD, fresh_ip())
    assert client.get("/admin/audit").status_code == 200
    users.set_password(db, username, "un-autre-mot-de-passe")
    assert client.get("/admin/audit").status_code == 302


def test_disabling_ends_open_sessions(client, db, portal) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal, roles=("admin",))
    attempt(client, username, PASSWORD, fresh_ip())
    users.set_active(db, username, False)
    assert client.get("/admin/audit").status_code == 302


def test_tampered_session_is_anonymous(client, db, portal) -> None:  # type: ignore[no-untyped-def]
    username = new_user(db, portal, roles=("admin",))
    attempt(client, username, PASSWORD, fresh_ip())
    value = client.get_cookie("pilotis_session").value
    client.set_cookie("pilotis_session", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert client.get("/admin/audit").status_code == 302


def test_login_as_helper_and_principal(app, db, portal) -> None:  # type: ignore[no-untyped-def]
    from pilotis.web.auth import current_principal

    username = new_user(db, portal, territory="epci:200083392", department="solidarites")
    client = app.server.test_client()
    with client:
        client.get("/login")
        assert current_principal() is None
    login_as(client, username, PASSWORD)
    with client:
        client.get("/login")
        principal = current_principal()
    assert principal is not None
    assert principal.username == username and principal.department == "solidarites"
    assert principal.roles == frozenset({"agent"}) and principal.territory == "epci:200083392"


# --------------------------------------------------------------------------- CSRF on Dash callbacks


def _callback(client: Any, portal: Any, headers: dict[str, str] | None = None) -> Any:
    dashboard = portal.registry.dashboards["rsa"]
    return page_callback(client, dashboard, "departement:53", "2019", headers=headers)


def test_dash_callbacks_need_the_csrf_header(president_client, portal) -> None:  # type: ignore[no-untyped-def]
    president_client.send_csrf = False
    token = president_client.get_cookie("_csrf_token").value
    assert _callback(president_client, portal).status_code == 400  # no header at all
    assert _callback(president_client, portal, {"X-CSRFToken": "faux"}).status_code == 400
    assert _callback(president_client, portal, {"X-CSRFToken": token[:-1]}).status_code == 400
    assert _callback(president_client, portal, {"X-CSRFToken": token}).status_code == 200


def test_csrf_token_of_another_session_is_refused_on_dash(app, portal) -> None:  # type: ignore[no-untyped-def]
    one, other = app.server.test_client(), app.server.test_client()
    login_as(one, "president")
    login_as(other, "president")
    other.send_csrf = False
    stolen = one.get_cookie("_csrf_token").value
    assert _callback(other, portal, {"X-CSRFToken": stolen}).status_code == 400
    assert _callback(other, portal, {"X-CSRFToken": other.get_cookie("_csrf_token").value}).status_code == 200


def test_csrf_cookie_survives_each_page_load(president_client) -> None:  # type: ignore[no-untyped-def]
    before = president_client.get_cookie("_csrf_token").value
    president_client.get("/")
    assert president_client.get_cookie("_csrf_token").value == before  # still valid: not re-issued


def test_dash_renderer_reads_the_cookie_we_set() -> None:
    """The installed dash-renderer sends the `_csrf_token` cookie as `X-CSRFToken` (Dash 4.4.1)."""
    import dash

    from pilotis.web import csrf

    bundle = Path(dash.__path__[0]) / "dash-renderer" / "build" / "dash_renderer.min.js"
    source = bundle.read_text(encoding="utf-8")
    assert f'csrf_token_name||"{csrf.COOKIE}"' in source
    assert f'csrf_header_name||"{csrf.HEADER}"' in source
    assert "document.cookie" in source
