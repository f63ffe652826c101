"""An app of the shipped dashboards with a `config/sso.yaml` of the test's own (production mode,
its own SQLite database), and what the single sign-on tests ask it."""

from __future__ import annotations

import shutil
from pathlib import Path

from dash import Dash
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from pilotis.accounts.db import get_db
from pilotis.accounts.models import AuditEvent
from pilotis.accounts.users import create
from pilotis.core.settings import ROOT, Settings
from tests.conftest import DashClient
from tests.helpers import route, texts

SECRET_ENV = "PILOTIS_TEST_SSO_SECRET"
LOCAL_PASSWORD = "Un-mot-de-passe-solide-42"


def sso_app(folder: Path, sso_yaml: str) -> Dash:
    """The real app with the shipped configuration plus ``sso_yaml`` as `config/sso.yaml`."""
    config = folder / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "sso.yaml").write_text(sso_yaml, encoding="utf-8")
    settings = Settings.from_env(
        root=ROOT,
        config_dir=config,
        dashboards_dir=ROOT / "dashboards",
        instance_dir=folder / "instance",
        database_url=f"sqlite:///{folder / 'pilotis.db'}",
        mode="production",
        secret_key="cle-de-test-sso-" + "x" * 48,
        host="127.0.0.1",
        secure_cookies=False,
        proxies=0,
    )
    app = create_app(settings)
    app.server.test_client_class = DashClient
    return app


def create_local(app: Dash, username: str, roles: tuple[str, ...] = ("admin",)) -> None:
    """A local account (password :data:`LOCAL_PASSWORD`), like an administrator's break-glass one."""
    create(
        get_db(app.server),
        username=username,
        display_name=f"Compte local {username}",
        department="numerique",
        roles=list(roles),
        territory=None,
        password=LOCAL_PASSWORD,
        departments=app.server.extensions["pilotis"].registry.departments,
    )


def signed_in(client: FlaskClient) -> bool:
    """True while the client's session is open (the login page sends a signed-in user on)."""
    return client.get("/login").status_code == 302


def can_open(client: FlaskClient, path: str) -> bool:
    """The page at ``path`` shows its dashboard (False: the « Accès refusé » page)."""
    return "Accès refusé" not in texts(route(client, path))


def audit_events(app: Dash, event: str) -> list[AuditEvent]:
    """The audit rows of ``event``, oldest first."""
    with get_db(app.server).session() as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.event == event).order_by(AuditEvent.id)))
        session.expunge_all()
    return rows
