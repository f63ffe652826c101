"""Fixtures: an app on the real configuration with a temporary instance folder, its test client."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dash import Dash
from flask.testing import FlaskClient
from werkzeug.datastructures import Headers

from app import create_app
from pilotis.accounts.db import Database, get_db
from pilotis.core.settings import ROOT, Settings
from pilotis.ui.portal import Portal
from tests import helpers
from tests.dbutil import SUITE_ENV, postgres_schema


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app's database: a temporary SQLite file, or a fresh schema of PILOTIS_TEST_DATABASE_URL."""
    suite_url = os.environ.get(SUITE_ENV)
    if suite_url:
        with postgres_schema(suite_url) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'pilotis.accounts.db'}"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Settings:
    """Settings of the shipped configuration (demo mode: demo accounts), runtime files in a temporary folder."""
    return Settings.from_env(
        root=ROOT,
        config_dir=ROOT / "config",
        dashboards_dir=ROOT / "dashboards",
        instance_dir=tmp_path_factory.mktemp("instance"),
        database_url=database_url,
        mode="demo",  # no key given: the installation's own, generated in the instance folder
        host="0.0.0.0",  # demo mode open to other addresses: tests sign in from per-test REMOTE_ADDRs
        secure_cookies=False,
        proxies=0,
    )


class DashClient(FlaskClient):
    """A test client that, like dash-renderer, sends the ``_csrf_token`` cookie back as the
    ``X-CSRFToken`` header on Dash POSTs. Set ``send_csrf = False`` to test the refusal."""

    send_csrf = True

    def open(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        path = args[0] if args and isinstance(args[0], str) else kwargs.get("path", "")
        if self.send_csrf and kwargs.get("method") == "POST" and "/_dash-" in str(path):
            headers = Headers(kwargs.get("headers") or {})
            cookie = self.get_cookie("_csrf_token")
            if cookie is not None and "X-CSRFToken" not in headers:
                headers["X-CSRFToken"] = cookie.value
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(settings: Settings) -> Dash:
    """The real app, built once per test session; its test clients behave like dash-renderer."""
    dash_app = create_app(settings)
    dash_app.server.test_client_class = DashClient
    return dash_app


@pytest.fixture(scope="session")
def portal(app: Dash) -> Portal:
    """The app's state object (registry, data service)."""
    return app.server.extensions["pilotis"]


@pytest.fixture
def client(app: Dash) -> FlaskClient:
    """A Flask test client of the app, signed out (see ``login_as`` and ``*_client``).

    Not entered with ``with``: a preserved request context would lend its ``g`` (and so the
    signed-in user Flask-Login caches there) to the requests of every other client of the app.
    """
    return app.server.test_client()


def _signed_in(app: Dash, username: str) -> FlaskClient:
    test_client = app.server.test_client()
    helpers.login_as(test_client, username)
    return test_client


@pytest.fixture(scope="session")
def login_as() -> Callable[..., Any]:
    """``login_as(client, username, password=DEMO_PASSWORD)``: sign in through the real login form."""
    return helpers.login_as


@pytest.fixture
def agent_client(app: Dash) -> FlaskClient:
    """A client signed in as `agent.rsa` (agent, direction des solidarités)."""
    return _signed_in(app, "agent.rsa")


@pytest.fixture
def president_client(app: Dash) -> FlaskClient:
    """A client signed in as `president` (reads every dashboard)."""
    return _signed_in(app, "president")


@pytest.fixture
def admin_client(app: Dash) -> FlaskClient:
    """A client signed in as `admin` (manages users, reads the audit log)."""
    return _signed_in(app, "admin")


@pytest.fixture(scope="session")
def db(app: Dash) -> Database:
    """The app's database (users, login attempts, audit log)."""
    return get_db(app.server)


@pytest.fixture(scope="session")
def dashboards_dir() -> Path:
    """The shipped dashboards folder."""
    return ROOT / "dashboards"
