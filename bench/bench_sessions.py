"""Benchmark of the per-request session check: what server-side revocation costs each callback.

Every request of a signed-in user (each Dash callback is one) runs Flask-Login's user loader.
Two loaders, timed alternately in the same process on the same app and database:

* **before** (the loader of the code before issue 10): the account and its roles by user id
  (``users`` ⟕ ``user_roles``), checked against the cookie's ``session_version``;
* **after** (:func:`pilotis.web.auth._load_user`): the session id hashed, then the session, its
  account and the roles in one query on the session's primary key, with the revocation,
  absolute-lifetime and idle checks.

Two measures each: the loader alone (µs per call, inside a request context) and a cached widget
callback end to end through the Flask test client (the loader swapped on the app's
``LoginManager``; the widget's result is in the cache, so the callback is mostly the request
machinery plus the loader — the case where the loader weighs most). On SQLite (a temporary
file) and, when it answers, PostgreSQL (127.0.0.1:5432, database ``test``, a schema of its
own, dropped afterwards). Before any figure, both loaders are checked to return the same user.

Usage: ``python bench/bench_sessions.py [--quick]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, fmt, load_average, md_table  # noqa: E402

sys.path.insert(0, str(ROOT))

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
USER = "president"


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


@contextlib.contextmanager
def pg_url() -> Iterator[str | None]:
    """A URL on a fresh schema of the local PostgreSQL, or None when it does not answer."""
    try:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        admin = create_engine(PG_BASE, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        schema = f"pilotis_bench_sessions_{secrets.token_hex(4)}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception:  # noqa: BLE001 - no server: the PostgreSQL rows are skipped
        yield None
        return
    try:
        yield make_url(PG_BASE).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _before_loader(db: Any) -> Callable[[int, int], Any]:
    """The loader of the code before issue 10 (account + roles by user id), as it was."""
    from sqlalchemy import bindparam, select

    from pilotis.accounts.models import User, UserRole
    from pilotis.web.auth import SessionUser

    query = (
        select(
            User.id,
            User.username,
            User.display_name,
            User.department,
            User.territory,
            User.active,
            User.session_version,
            UserRole.role,
        )
        .outerjoin(UserRole, UserRole.user_id == User.id)
        .where(User.id == bindparam("user_id"))
    )

    def load(user_id: int, version: int) -> Any:
        with db.engine.connect() as connection:
            rows = connection.execute(query, {"user_id": user_id}).all()
        if not rows or not rows[0].active or rows[0].session_version != version:
            return None
        return SessionUser.of(rows[0], (row.role for row in rows if row.role), "")

    return load


def _sign_in(client: Any) -> None:
    from pilotis.accounts.users import DEMO_PASSWORD

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    response = client.post("/login", data={"username": USER, "password": DEMO_PASSWORD, "csrf_token": token.group(1)})
    assert response.status_code == 302, response.status_code


def _callback(client: Any, portal: Any) -> int:
    """The cached KPI callback of the synthesis dashboard (one callback per widget there)."""
    dashboard = portal.registry.dashboards["pilotage"]
    inputs = [
        {"id": dashboard.dom_id("territory"), "property": "value", "value": "departement:53"},
        {"id": dashboard.dom_id("period"), "property": "value", "value": "2019"},
    ]
    if dashboard.spec.refresh:
        inputs.append({"id": dashboard.dom_id("refresh"), "property": "n_intervals", "value": 0})
    output = dashboard.dom_id("rsa_foyers")
    body = {
        "output": f"{output}.children",
        "outputs": {"id": output, "property": "children"},
        "inputs": inputs,
        "changedPropIds": [f"{inputs[0]['id']}.value"],
        "state": [],
    }
    cookie = client.get_cookie("_csrf_token")
    response = client.post(
        "/_dash-update-component",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-CSRFToken": cookie.value},
    )
    return int(response.status_code)


def measure(url: str, loader_calls: int, callbacks: int) -> dict[str, float]:
    """Both loaders on the app of ``url``: µs per loader call, ms per cached callback."""
    from app import create_app
    from pilotis.accounts.db import get_db
    from pilotis.core.settings import Settings
    from pilotis.web import auth

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(
            instance_dir=Path(tmp),
            database_url=url,
            mode="demo",
            cache_url="memory://",
            secure_cookies=False,
            proxies=0,
        )
        app = create_app(settings)
        server, portal, db = app.server, app.server.extensions["pilotis"], get_db(app.server)
        try:
            client = server.test_client()
            _sign_in(client)
            with client.session_transaction() as session:
                session_id = session["_user_id"]
            before = _before_loader(db)
            with server.test_request_context():
                after_user = auth._load_user(session_id)
                assert after_user is not None
                version = _version(db, after_user.id)
                before_user = before(after_user.id, version)
                assert before_user is not None and before_user.principal == after_user.principal
                times: dict[str, list[float]] = {"before": [], "after": []}
                calls: dict[str, Callable[[], Any]] = {
                    "before": lambda: before(after_user.id, version),
                    "after": lambda: auth._load_user(session_id),
                }
                for call in calls.values():  # warm-up: pool, compiled-statement cache, server-side prepare
                    for _ in range(100):
                        call()
                block = 50
                for _ in range(max(1, loader_calls // block)):
                    for name, call in calls.items():
                        start = time.perf_counter()
                        for _ in range(block):
                            call()
                        times[name].append((time.perf_counter() - start) / block)

            manager = server.login_manager
            new_callback = manager._user_callback
            old_callback = lambda _id: before(after_user.id, version)  # noqa: E731
            assert _callback(client, portal) == 200  # fills the widget's cache
            cb_times: dict[str, list[float]] = {"before": [], "after": []}
            block = 10
            for _ in range(max(1, callbacks // block)):
                for name, loader in (("before", old_callback), ("after", new_callback)):
                    manager._user_callback = loader
                    start = time.perf_counter()
                    for _ in range(block):
                        assert _callback(client, portal) == 200
                    cb_times[name].append((time.perf_counter() - start) / block)
            manager._user_callback = new_callback
        finally:
            db.dispose()
    return {
        "loader_before_us": _median(times["before"]) * 1e6,
        "loader_after_us": _median(times["after"]) * 1e6,
        "callback_before_ms": _median(cb_times["before"]) * 1e3,
        "callback_after_ms": _median(cb_times["after"]) * 1e3,
    }


def _version(db: Any, user_id: int) -> int:
    from pilotis.accounts.models import User

    with db.session() as session:
        user = session.get(User, user_id)
        assert user is not None
        return int(user.session_version)


def run(quick: bool = False) -> str:
    """The Markdown section of ``run_all.py``."""
    loader_calls, callbacks = (1000, 100) if quick else (3000, 300)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, pg_url() as pg:
        targets = [("SQLite (file)", f"sqlite:///{Path(tmp) / 'pilotis.accounts.db'}")]
        if pg:
            targets.append(("PostgreSQL (loopback)", pg))
        for label, url in targets:
            result = measure(url, loader_calls, callbacks)
            rows.append(
                [
                    label,
                    fmt(result["loader_before_us"], 0),
                    fmt(result["loader_after_us"], 0),
                    f"{result['loader_after_us'] - result['loader_before_us']:+.0f}",
                    fmt(result["callback_before_ms"], 2),
                    fmt(result["callback_after_ms"], 2),
                    f"{(result['callback_after_ms'] / result['callback_before_ms'] - 1) * 100:+.1f} %",
                    fmt(1000 / result["callback_after_ms"], 0),
                ]
            )
    table = md_table(
        [
            "Database",
            "Loader before (µs)",
            "Loader after (µs)",
            "Δ loader (µs)",
            "Cached callback before (ms)",
            "after (ms)",
            "Δ callback",
            "Callbacks/s after (1 thread)",
        ],
        rows,
    )
    return (
        "## Session check per request (server-side revocation)\n\n"
        f"Load average: {load_average()}. Medians of blocks, {loader_calls} loader calls and "
        f"{callbacks} cached callbacks per loader, alternated. *Before*: account + roles by user "
        "id (the loader before issue 10); *after*: session + account + roles by the session's "
        "primary key, with the revocation and lifetime checks (one query in both cases).\n\n" + table
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    print(run(quick=args.quick))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
