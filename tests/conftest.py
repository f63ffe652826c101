"""Fixtures: an app on the real configuration with a temporary instance folder, its test client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dash import Dash
from flask.testing import FlaskClient

from app import create_app
from pilotis.portal import Portal
from pilotis.settings import ROOT, Settings


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of the shipped configuration, with runtime files in a temporary folder."""
    return Settings.from_env(root=ROOT, config_dir=ROOT / "config", dashboards_dir=ROOT / "dashboards",
                             instance_dir=tmp_path_factory.mktemp("instance"))


@pytest.fixture(scope="session")
def app(settings: Settings) -> Dash:
    """The real app, built once per test session."""
    return create_app(settings)


@pytest.fixture(scope="session")
def portal(app: Dash) -> Portal:
    """The app's state object (registry, data service)."""
    return app.server.extensions["pilotis"]


@pytest.fixture
def client(app: Dash) -> Iterator[FlaskClient]:
    """A Flask test client of the app."""
    with app.server.test_client() as test_client:
        yield test_client


@pytest.fixture(scope="session")
def dashboards_dir() -> Path:
    """The shipped dashboards folder."""
    return ROOT / "dashboards"
