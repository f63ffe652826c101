"""When a source fails, the page still renders: the widget shows the last good data with a
« données non actualisées depuis … » notice (or a French message naming the source when there
never was good data), the failure is listed on /admin/sources, and the next successful refresh
clears it. Every other widget keeps working."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dash import Dash

from tests.fake_api import FakeApi
from tests.helpers import form_token, login_as, route, texts, widget_content
from tests.sources_project import make_app, write_project
from tests.test_sources_remote import FIELDS, rows


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def api() -> Iterator[FakeApi]:
    server = FakeApi(rows(20), FIELDS).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def project(api: FakeApi, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("projet"), api.url, closed_port())


@pytest.fixture(scope="module")
def app(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Dash:
    return make_app(project, tmp_path_factory.mktemp("instance"))


@pytest.fixture
def admin(app: Dash) -> Any:
    client = app.server.test_client()
    login_as(client, "admin")
    return client


def content(client: Any, app: Dash, widget: str) -> str:
    dashboard = app.server.extensions["pilotis"].registry.dashboards["sources"]
    return " ".join(texts(widget_content(client, dashboard, widget, "departement:53", "all")))


def status_row(client: Any, dataset: str) -> str:
    page = client.get("/admin/sources")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    match = re.search(rf'<tr id="source-{dataset}".*?</tr>', html, re.S)
    assert match, html[:2000]
    return re.sub(r"\s+", " ", match.group(0))


def refresh(client: Any, dataset: str) -> None:
    token = form_token(client.get("/admin/sources").get_data(as_text=True))
    response = client.post(f"/admin/sources/{dataset}/refresh", data={"csrf_token": token})
    assert response.status_code == 303


def others_work(client: Any, app: Dash, failing: str) -> None:
    for widget in ("ods", "rest", "csv", "sql"):
        if widget != failing:
            text = content(client, app, widget)
            assert "non actualisées" not in text and "Mis à jour le" in text, (widget, text)


@pytest.mark.parametrize("mode", ["error", "timeout", "malformed", "auth", "columns", "reset"])
@pytest.mark.parametrize("widget,dataset", [("ods", "ods_indicateurs"), ("rest", "api_metier")])
def test_remote_failure_shows_last_good_data(
    app: Dash, admin: Any, api: FakeApi, mode: str, widget: str, dataset: str
) -> None:
    api.mode = "ok"
    refresh(admin, dataset)
    fresh = content(admin, app, widget)
    assert "Mis à jour le" in fresh and "non actualisées" not in fresh
    value = texts(
        widget_content(
            admin,
            app.server.extensions["pilotis"].registry.dashboards["sources"],
            widget,
            "departement:53",
            "all",
        )
    )
    api.mode, api.delay = mode, 1.5
    refresh(admin, dataset)  # the admin asks for fresh data while the source is down
    stale = content(admin, app, widget)
    assert "Données non actualisées depuis le" in stale
    title = app.server.extensions["pilotis"].registry.datasets[dataset].config.title
    assert f"« {title} »" in stale
    assert any(v in stale for v in value if re.search(r"\d", v))  # the last good value is shown
    assert "Traceback" not in stale
    others_work(admin, app, widget)
    assert admin.get("/sources").status_code == 200  # the page itself renders
    row = status_row(admin, dataset)
    assert "en échec" in row
    kinds = {
        "error": "injoignable",
        "timeout": "délai dépassé",
        "malformed": "réponse illisible",
        "auth": "identifiants refusés",
        "columns": "colonnes modifiées",
        "reset": "injoignable",
    }
    assert kinds[mode] in row
    api.mode = "ok"
    refresh(admin, dataset)
    recovered = content(admin, app, widget)
    assert "non actualisées" not in recovered and "Mis à jour le" in recovered
    assert "à jour" in status_row(admin, dataset)


def test_never_good_data_names_the_source(app: Dash, admin: Any) -> None:
    text = content(admin, app, "jamais")
    assert "Données indisponibles : la source « Portail jamais joint »" in text
    assert "connexion refusée" in text and "Traceback" not in text
    others_work(admin, app, "jamais")
    assert "injoignable" in status_row(admin, "ods_jamais")


def test_folder_and_database_failures(app: Dash, admin: Any, project: Path) -> None:
    assert "1 003" in content(admin, app, "csv").replace("\u202f", " ")
    depots = project / "depots"
    backup = project / "depots.bak"
    shutil.move(depots, backup)
    depots.mkdir()
    refresh(admin, "depots")
    missing = content(admin, app, "csv")
    assert "Données non actualisées" in missing and "aucun fichier" in missing
    assert "fichier introuvable" in status_row(admin, "depots")
    (depots / "x.csv").write_bytes("agence;total\nNord;1\n".encode("cp1252"))
    refresh(admin, "depots")
    assert "Données non actualisées" in content(admin, app, "csv")
    assert "colonnes modifiées" in status_row(admin, "depots")
    shutil.rmtree(depots)
    shutil.move(backup, depots)
    refresh(admin, "depots")
    assert "non actualisées" not in content(admin, app, "csv")

    import sqlite3

    database = project / "base.sqlite"
    with sqlite3.connect(database) as con:
        con.execute("ALTER TABLE depenses RENAME COLUMN montant TO montant_ttc")
    refresh(admin, "base_sql")
    assert "Données non actualisées" in content(admin, app, "sql")
    assert "colonnes modifiées" in status_row(admin, "base_sql")
    with sqlite3.connect(database) as con:
        con.execute("ALTER TABLE depenses RENAME COLUMN montant_ttc TO montant")
    refresh(admin, "base_sql")
    assert "non actualisées" not in content(admin, app, "sql")
    assert "à jour" in status_row(admin, "base_sql")


def test_admin_page_is_for_admins_only(app: Dash) -> None:
    anonymous = app.server.test_client()
    assert anonymous.get("/admin/sources").status_code == 302
    agent = app.server.test_client()
    login_as(agent, "agent.rsa")
    assert agent.get("/admin/sources").status_code == 403
    assert agent.post("/admin/sources/depots/refresh").status_code in (400, 403)


def test_refresh_needs_csrf_token(admin: Any) -> None:
    assert admin.post("/admin/sources/depots/refresh").status_code == 400
    assert (
        admin.post(
            "/admin/sources/inconnu/refresh",
            data={"csrf_token": form_token(admin.get("/admin/sources").get_data(as_text=True))},
        ).status_code
        == 404
    )


def test_expiry_without_manual_refresh(api: FakeApi, tmp_path: Path) -> None:
    """With `ttl: 1s` the failure is found by the next query after expiry, and the recovery too."""
    root = write_project(tmp_path / "p", api.url, closed_port(), ttl="1s")
    app = make_app(root, tmp_path / "instance")
    client = app.server.test_client()
    login_as(client, "admin")
    api.mode = "ok"
    assert "Mis à jour le" in content(client, app, "ods")
    api.mode = "error"
    time.sleep(1.1)
    assert "Données non actualisées" in content(client, app, "ods")
    api.mode = "ok"
    time.sleep(1.1)
    assert "non actualisées" not in content(client, app, "ods")
    assert os.listdir(tmp_path / "instance" / "cache")  # the default cache is the file cache


def catalogue_row(client: Any, dataset: str) -> str:
    from tests.test_data_catalogue import rows

    return " ".join(texts(rows(route(client, "/donnees"))[dataset]))


def test_data_catalogue_tells_agents_how_fresh_each_source_is(app: Dash, admin: Any, api: FakeApi) -> None:
    agent = app.server.test_client()
    login_as(agent, "agent.rsa")  # the `sources` dashboard is open to every agent
    api.mode = "ok"
    refresh(admin, "ods_indicateurs")
    row = catalogue_row(agent, "ods_indicateurs")
    assert "Portail Opendatasoft" in row and "Mis à jour le" in row and "Sources de données" in row
    api.mode = "error"
    refresh(admin, "ods_indicateurs")
    row = catalogue_row(agent, "ods_indicateurs")
    assert "Non actualisées depuis le" in row and "injoignable" in row, row
    assert "Indisponible (source injoignable)" in catalogue_row(agent, "ods_jamais")
    page = json.dumps(route(agent, "/donnees"))
    assert "127.0.0.1" not in page and "base.sqlite" not in page  # where sources live stays on the admin page
    api.mode = "ok"
    refresh(admin, "ods_indicateurs")
    row = catalogue_row(agent, "ods_indicateurs")
    assert "Mis à jour le" in row and "Non actualisées" not in row
