"""The referents directory: roles declared in config/referents.yaml (errors at file:line:col),
shown only to those who may see their subject, a departed holder never shown (« référent à
désigner », administrators told), the history of who held a role, and the CSV import."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from pilotis.accounts.models import AuditEvent
from pilotis.accounts.referent_history import history, sync
from pilotis.accounts.users import set_active
from pilotis.core.errors import ConfigError
from pilotis.core.loader import load_registry
from pilotis.core.referents import Directory, ReferentsFile
from pilotis.core.settings import ROOT
from tests.cli_run import run_cli
from tests.helpers import login_as, route, texts


def _page(app, username: str, query: str = "") -> str:  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    login_as(client, username)
    response = client.get("/referents" + (f"?q={query}" if query else ""))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_the_login_page(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/referents")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_directory_shows_only_the_roles_of_what_the_user_may_see(app) -> None:  # type: ignore[no-untyped-def]
    rsa, rh = _page(app, "agent.rsa"), _page(app, "agent.rh")
    assert 'id="ref-dataset-rsa_communes"' in rsa and 'id="ref-theme-rsa"' in rsa
    assert 'id="ref-dataset-rh_paie"' not in rsa and 'id="ref-theme-rh"' not in rsa
    assert "pilotage-rh@example.org" not in rsa
    assert 'id="ref-dataset-rh_paie"' in rh and 'id="ref-dataset-rsa_communes"' not in rh
    assert "observatoire-social@example.org" not in rh
    president = _page(app, "president")
    assert 'id="ref-theme-rh"' in president and 'id="ref-theme-rsa"' in president


def test_the_directory_is_searchable_without_accents_or_case(app) -> None:  # type: ignore[no-untyped-def]
    found = _page(app, "president", "DIRECTION DES SOLIDARITES")
    assert 'id="ref-theme-rsa"' in found and 'id="ref-theme-rh"' not in found
    assert 'id="ref-theme-rh"' in _page(app, "president", "ressources humaines")


def test_a_departed_holder_reads_referent_a_designer_everywhere(app, db) -> None:  # type: ignore[no-untyped-def]
    assert set_active(db, "agent.rsa", False)
    try:
        page = _page(app, "president")
        entry = page.split('id="ref-theme-rsa"', 1)[1].split("</li>", 1)[0]
        assert "référent à désigner" in entry and "Agent RSA" not in entry
        assert "Observatoire social" in entry  # the deputy stays the contact
        client = app.server.test_client()
        login_as(client, "president")
        dashboard = texts(route(client, "/rsa"))
        assert "référent à désigner" in dashboard and "Agent RSA" not in dashboard
        card = texts(route(client, "/indicateurs/rsa.depenses_allocations"))
        assert "référent à désigner" in card
        # the administrators are told: an audit line (once) and a notice on the directory
        admin_page = _page(app, "admin")
        assert "Référents à désigner" in admin_page and "agent.rsa" in admin_page
        admin = app.server.test_client()
        login_as(admin, "admin")
        audit_page = admin.get("/admin/audit").get_data(as_text=True)
        assert "Référents à désigner" in audit_page and "Agent RSA (compte agent.rsa)" in audit_page
        assert "Référents à désigner" not in page  # only administrators get the notice
        with db.session() as session:
            told = session.scalars(
                select(AuditEvent).where(AuditEvent.event == "referent_vacant", AuditEvent.target == "theme:rsa")
            ).all()
            assert len(told) == 1
    finally:
        set_active(db, "agent.rsa", True)
    entry = _page(app, "president").split('id="ref-theme-rsa"', 1)[1].split("</li>", 1)[0]
    assert "Agent RSA" in entry and "référent à désigner" not in entry


def test_the_history_says_who_held_a_role_when(db) -> None:  # type: ignore[no-untyped-def]
    def directory(name: str) -> Directory:
        role = {"holder": {"name": name, "service": "rh"}}
        return Directory.of(ReferentsFile.model_validate({"datasets": {"histoire_test": role}}))

    sync(db, directory("Première personne"))
    assert sync(db, directory("Première personne")) == 0  # nothing changed: nothing written
    sync(db, directory("Deuxième personne"))
    lines = history(db, "dataset:histoire_test")
    assert [(h.name, h.end_reason) for h in lines] == [("Deuxième personne", None), ("Première personne", "replaced")]
    assert lines[1].ended_at is not None and lines[0].started_at >= lines[1].started_at
    sync(db, Directory.of(None))
    assert history(db, "dataset:histoire_test")[0].end_reason == "removed"


def _config_copy(tmp_path: Path, referents: str) -> Path:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "referents.yaml").write_text(referents, encoding="utf-8")
    return config


def test_bad_referents_are_reported_at_file_line_col(tmp_path: Path) -> None:
    config = _config_copy(
        tmp_path,
        "datasets:\n  rsa_comunes:\n    holder: {name: X, service: solidarite}\n"
        "themes:\n  rsa:\n    holder: {name: Y, email: pas-une-adresse}\n",
    )
    with pytest.raises(ConfigError) as raised:
        load_registry(ROOT, config, ROOT / "dashboards", instance_dir=tmp_path / "instance")
    report = raised.value.report()
    assert "referents.yaml:2:3: datasets : `rsa_comunes` inconnu" in report and "`rsa_communes`" in report
    assert "referents.yaml:3:" in report and "service `solidarite` inconnu" in report and "`solidarites`" in report
    assert "referents.yaml:6:" in report and "email" in report


def test_csv_import_writes_the_directory_and_reports_bad_lines(tmp_path: Path, database_url: str) -> None:
    config = _config_copy(tmp_path, "")
    env = {
        "PILOTIS_ROOT": str(ROOT),
        "PILOTIS_CONFIG_DIR": str(config),
        "PILOTIS_INSTANCE_DIR": str(tmp_path / "instance"),
        "PILOTIS_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
    }
    bad = tmp_path / "mauvais.csv"
    bad.write_text("type;id;position;name\njeu;rsa_communes;chef;A\nmachin;x;titulaire;B\n", encoding="utf-8")
    result = run_cli(["referents", "import", str(bad)], env=env)
    assert result.returncode == 1
    assert f"{bad}:2: position `chef` inconnue" in result.stderr and f"{bad}:3: type `machin` inconnu" in result.stderr
    unknown = tmp_path / "inconnu.csv"
    unknown.write_text("type,id,position,name\njeu,rsa_comunes,titulaire,A\n", encoding="utf-8")
    result = run_cli(["referents", "import", str(unknown)], env=env)
    assert result.returncode == 1 and "`rsa_comunes` inconnu" in result.stderr
    assert (config / "referents.yaml").read_text(encoding="utf-8") == ""  # nothing written
    good = tmp_path / "bon.csv"
    good.write_text(
        "type;id;position;name;service;email;phone;account\n"
        "thème;rsa;titulaire;Marie Dupont;solidarites;marie@example.org;02 43 00 00 10;agent.rsa\n"
        "thème;rsa;suppléant;Observatoire social;solidarites;;;\n",
        encoding="utf-8",
    )
    result = run_cli(["referents", "import", str(good)], env=env)
    assert result.returncode == 0, result.stderr
    written = yaml.safe_load((config / "referents.yaml").read_text(encoding="utf-8"))
    assert written["themes"]["rsa"]["holder"]["name"] == "Marie Dupont"
    assert written["themes"]["rsa"]["deputy"] == {"name": "Observatoire social", "service": "solidarites"}
