"""Commission reports (config/reports/) and dashboard PDFs: the PDF read back with pypdf (structure
tree, language, title, bookmarks, text, tables, footer, embedded fonts), its figures compared with
independent pandas sums of the data files, access and row scope, the CLI, scheduled sending
through a real SMTP server, and a YAML mistake reported at its place."""

from __future__ import annotations

import datetime as dt
import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader

from pilotis.accounts import audit
from pilotis.accounts.alert_outbox import drain_outbox
from pilotis.accounts.db import Database
from pilotis.accounts.report_jobs import queue_report
from pilotis.core.access import Principal, can_view_report
from pilotis.core.formatting import format_number
from pilotis.core.report_config import ReportSchedule
from pilotis.core.report_content import ReportContent, SectionContent
from pilotis.core.report_pdf import LocalFetcher, render_pdf
from pilotis.core.schema import AccessRule
from pilotis.core.settings import ROOT
from pilotis.ui.portal import Portal
from tests import helpers
from tests.alerting import add_user, smtp_server
from tests.helpers import find_class, route, texts
from tests.test_config_errors import Project

LAVAL = "200083392"
FRAME = pd.read_parquet(ROOT / "data" / "rsa_communes_mensuel.parquet")


def _pdf(client: FlaskClient, url: str) -> PdfReader:
    response = client.get(url)
    assert response.status_code == 200, response.data[:300]
    assert response.content_type == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    return PdfReader(io.BytesIO(response.data))


def _text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def _foyers(epci: str | None, month: str) -> int:
    rows = FRAME[FRAME["date"].astype(str).str.startswith(month)]
    if epci:
        rows = rows[rows["epci_siren"].astype(str) == epci]
    return int(rows["foyers_allocataires"].sum())


def _signed_in(app, username: str) -> FlaskClient:  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    helpers.login_as(client, username)
    return client


def test_the_commission_report_is_an_accessible_pdf_with_the_data_figures(agent_client: FlaskClient) -> None:
    reader = _pdf(agent_client, f"/rapports/commission-rsa.pdf?territoire=epci:{LAVAL}&periode=2020")
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root  # tagged (PDF/UA-1)
    assert root["/MarkInfo"]["/Marked"].value is True
    assert root["/Lang"] == "fr"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"].value is True
    assert reader.metadata.title == "Rapport de la commission RSA — CA Laval Agglomération"
    bookmarks = [o.title for o in reader.outline[1]]  # h1, then its h2 sections
    assert reader.outline[0].title == "Rapport de la commission RSA"
    assert bookmarks == [
        "Chiffres clés",
        "Évolution mensuelle des foyers allocataires",
        "Situation parmi les départements voisins",
        "Foyers allocataires par commune",
        "À savoir",
    ]
    assert len(reader.pages) >= 3
    text = _text(reader).replace("\u202f", " ")
    # the key figure, summed independently from the data file (October 2020, latest month)
    expected = format_number(_foyers(LAVAL, "2020-10"), 0, "fr").replace("\u202f", " ")
    assert f"Foyers allocataires du RSA {expected} foyers" in text.replace("\n", " ")
    assert "Sommaire" in text and "Données du graphique" in text  # table of contents, chart data table
    assert f"octobre 2020 {expected}" in text  # the line chart's table, as text
    for page in reader.pages:  # footer and page number on every page
        content = page.extract_text().replace("\n", " ")
        assert "Données au 01/10/2020 — Sources : Foyers allocataires du RSA par commune" in content
        assert f"sur {len(reader.pages)}" in content
    for page in reader.pages:  # only the repository's fonts, embedded
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            assert "Pilotis-Sans" in str(font["/BaseFont"])
            descriptor = font.get("/FontDescriptor") or font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            assert any(k in descriptor.get_object() for k in ("/FontFile2", "/FontFile3", "/FontFile"))


def test_a_restricted_user_gets_only_his_territory(app) -> None:  # type: ignore[no-untyped-def]
    laval = _signed_in(app, "agent.laval")
    reader = _pdf(laval, "/rapports/commission-rsa.pdf?territoire=departement:53&periode=2020")  # asks for more
    text = _text(reader)
    assert "CA Laval Agglomération" in text
    inside = set(FRAME.loc[FRAME["epci_siren"].astype(str) == LAVAL, "code_insee"].astype(str))
    outside = set(FRAME["code_insee"].astype(str)) - inside
    codes = {word for word in text.split() if word.isdigit() and len(word) == 5 and word.startswith("53")}
    assert "53130" in codes and codes <= inside
    assert not codes & outside


def test_who_may_not_see_the_report_gets_404_and_it_is_not_listed(app) -> None:  # type: ignore[no-untyped-def]
    finances = _signed_in(app, "manager.finances")
    assert finances.get("/rapports/commission-rsa.pdf").status_code == 404
    assert finances.get("/rapports/commission-rsa").status_code == 404
    assert finances.get("/exports/rsa.pdf").status_code == 404
    assert "commission-rsa" not in finances.get("/rapports").get_data(as_text=True)


def test_the_report_page_offers_the_form_and_bad_parameters_are_named(agent_client: FlaskClient) -> None:
    page = agent_client.get("/rapports").get_data(as_text=True)
    assert 'href="/rapports/commission-rsa"' in page
    form = agent_client.get("/rapports/commission-rsa").get_data(as_text=True)
    assert 'action="/rapports/commission-rsa.pdf"' in form and "Générer le PDF" in form
    bad = agent_client.get("/rapports/commission-rsa.pdf?territoire=epci:000")
    assert bad.status_code == 400 and "territoire" in bad.get_data(as_text=True)
    bad = agent_client.get("/rapports/commission-rsa.pdf?periode=1999")
    assert bad.status_code == 400 and "periode" in bad.get_data(as_text=True)


def test_a_dashboard_pdf_has_every_widget_as_filtered(agent_client: FlaskClient) -> None:
    reader = _pdf(agent_client, f"/exports/rsa.pdf?territoire=epci:{LAVAL}&annee=2020")
    text = _text(reader).replace("\n", " ")
    for title in ("Foyers allocataires", "Évolution mensuelle des foyers allocataires", "Communes", "À savoir"):
        assert title in text
    assert reader.trailer["/Root"]["/Lang"] == "fr"
    assert agent_client.get("/exports/rsa.pdf?annee=1999").status_code == 400


def test_the_dashboard_page_has_a_pdf_button_carrying_its_filters(agent_client: FlaskClient) -> None:
    (button,) = find_class(route(agent_client, "/rsa"), "pilotis-pdf")
    props = button["props"]
    assert props["href"] == "/exports/rsa.pdf" and "PDF" in "".join(texts(props["children"]))
    # assets/exports.js adds the page's territory and year from these selects when it is followed
    assert (props["data-territory"], props["data-period"]) == ("rsa--territory", "rsa--period")
    assert json.loads(props["data-controls"])["comparer-t1"] == "rsa--comparer-t1"  # a widget's own control


def test_a_dashboard_pdf_shows_the_territories_compared_on_the_page(agent_client: FlaskClient) -> None:
    url = "/exports/rsa.pdf?annee=2020&comparer-t1=epci:200083392&comparer-t2=commune:53130"
    text = _text(_pdf(agent_client, url)).replace("\n", " ")
    section = text[text.rindex("Comparer des territoires") :].replace(": ", ":")  # codes wrap after « : »
    assert "CA Laval Agglomération epci:200083392" in section and "Laval commune:53130" in section
    too_long = agent_client.get("/exports/rsa.pdf?comparer-t1=" + "x" * 300)
    assert too_long.status_code == 400 and "t1" in too_long.get_data(as_text=True)


def test_a_generated_report_is_audited(app, db: Database) -> None:  # type: ignore[no-untyped-def]
    president = _signed_in(app, "president")
    _pdf(president, "/rapports/commission-rsa.pdf?territoire=commune:53130&periode=2019")
    event = audit.search(db, audit.AuditFilter(event="report", username="president")).rows[0]
    assert event.target == "rapport commission-rsa"
    assert event.detail.startswith("territoire commune:53130, année 2019")


def test_the_cli_writes_the_report(tmp_path: Path) -> None:
    output = tmp_path / "rapport.pdf"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PILOTIS_INSTANCE_DIR": str(tmp_path / "instance")}
    env["PILOTIS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    command = [sys.executable, "-m", "pilotis", "report", "commission-rsa", "--territoire", f"epci:{LAVAL}"]
    done = subprocess.run(
        [*command, "--periode", "2020", "-o", str(output)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    reader = PdfReader(output)
    assert reader.trailer["/Root"]["/Lang"] == "fr" and "CA Laval Agglomération" in _text(reader)
    bad = subprocess.run(
        [*command, "--periode", "1999", "-o", str(output)], env=env, capture_output=True, text=True, timeout=300
    )
    assert bad.returncode == 1 and "--periode" in bad.stderr and "Traceback" not in bad.stderr


def test_the_cli_gives_sensor_datasets_the_application_database(tmp_path: Path) -> None:
    """A report on the flood dashboard: its readings live in the application database, which the
    command must hand to the sources (it printed « Source de données indisponible » before)."""
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "reports" / "crues.yaml").write_text(
        "id: crues\ntitle: Point crues\naudience: {roles: [admin]}\n"
        "sections:\n  - {title: Dernières hauteurs, dashboard: crues, widget: dernier}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PILOTIS_CONFIG_DIR": str(config)}
    env |= {"PILOTIS_INSTANCE_DIR": str(tmp_path / "instance"), "PILOTIS_DATABASE_URL": f"sqlite:///{tmp_path}/a.db"}
    output = tmp_path / "crues.pdf"
    command = [sys.executable, "-m", "pilotis", "report", "crues", "-o", str(output)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    text = _text(PdfReader(output))
    assert "Dernières hauteurs" in text and "indisponible" not in text
    assert "Territoire Mayenne" in text  # the département named as the pages write it (it was blank)
    assert "base de l'application inconnue" not in done.stderr


def test_scheduled_sending_renders_for_each_recipient_with_his_scope(portal: Portal, tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'jobs.db'}")
    db.upgrade()
    add_user(db, "chef.rsa", email="chef@pilotis.test", roles=["agent"], department="solidarites")
    add_user(
        db,
        "laval.rsa",
        email="laval@pilotis.test",
        roles=["agent"],
        department="solidarites",
        territory=f"epci:{LAVAL}",
    )
    add_user(db, "rh.agent", email="rh@pilotis.test", roles=["agent"])  # no direction: not in the audience
    spec = portal.registry.reports["commission-rsa"]
    recipients = {"users": ["chef.rsa", "laval.rsa", "rh.agent"]}
    schedule = ReportSchedule.model_validate({"cron": "30 7 * * 1", "recipients": recipients})
    spec = spec.model_copy(update={"schedule": schedule})
    done = queue_report(portal, db, spec, ROOT / "assets", now=dt.datetime(2026, 12, 7, 6, 30, tzinfo=dt.UTC))
    assert (done.queued, done.refused) == (2, 1)  # the RH agent may not see it: nothing for him
    with smtp_server() as (box, mail):
        sent = drain_outbox(db, dt.datetime(2026, 12, 7, 6, 31), mail=mail, webhook_secret="x")
        assert sent.sent == 2
        with box.event:
            box.event.wait_for(lambda: len(box.messages) >= 2, timeout=60)
    assert box.to("rh@pilotis.test") == []
    texts = {}
    for address in ("chef@pilotis.test", "laval@pilotis.test"):
        (message,) = box.to(address)
        (attachment,) = list(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        texts[address] = _text(PdfReader(io.BytesIO(attachment.get_content())))
    assert "Territoire Mayenne" in texts["chef@pilotis.test"]
    assert "CA Laval Agglomération" in texts["laval@pilotis.test"]
    assert "CA Laval Agglomération" not in texts["chef@pilotis.test"].split("Sommaire")[0]
    assert "53002" not in texts["laval@pilotis.test"]  # a commune of another EPCI
    db.__exit__(None, None, None)


def test_a_report_mistake_is_reported_at_its_place(tmp_path: Path) -> None:
    project = Project(tmp_path)
    (project.root / "config" / "reports").mkdir()
    shutil.copy(ROOT / "config/reports/commission-rsa.yaml", project.root / "config/reports/commission-rsa.yaml")
    rel = "config/reports/commission-rsa.yaml"
    project.edit(rel, "widget: evolution", "widget: evolutoin")
    (issue,) = project.issues()
    line, col = project.locate(rel, "evolutoin")
    assert (project.rel(issue), issue.line, issue.col) == (rel, line, col)
    assert "widget `evolutoin` absent du tableau de bord `rsa`" in issue.message and "evolution" in issue.hint
    assert f"commission-rsa.yaml:{line}:{col}" in str(issue)


def test_nothing_is_fetched_from_the_network_while_rendering() -> None:
    """A Markdown image pointing at a real HTTP server on loopback: refused, never requested."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/image.png"
        section = SectionContent("Texte", html=f'<p><img src="{url}" alt="image distante"></p>')
        content = ReportContent("Essai", "", "Mayenne", "2020", "agent.rsa", dt.datetime.now(dt.UTC), [section])
        fetcher = LocalFetcher(ROOT / "assets" / "fonts")
        pdf = render_pdf(content, ROOT / "assets", fetcher=fetcher)
    finally:
        server.shutdown()
        server.server_close()
    assert url in fetcher.refused and requests == []
    assert "Essai" in _text(PdfReader(io.BytesIO(pdf)))  # the rest is still rendered


@pytest.mark.parametrize(
    ("old", "new", "at", "message"),
    [
        ("widget: comparaison", "widget: comparaison\n    text: en trop", "title: Situation parmi", "exactement une"),
        ('cron: "30 7 * * 1"', 'cron: "30 7 * *"', '"30 7 * *"', "cron"),
        (
            "departments: [solidarites]\n  roles",
            "departments: [solidarite]\n  roles",
            "solidarite]",
            "direction `solidarite` inconnue",
        ),
        (
            "rsa.foyers_pour_1000,",
            "rsa.foyers_pour_100,",
            "rsa.foyers_pour_100,",
            "indicateur `rsa.foyers_pour_100` inconnu",
        ),
        ("period: latest", "period: 1999x", "1999x", "period"),
        ("sections:\n", "sections: 12\nautres:\n", "12", "sections"),
    ],
)
def test_report_mistakes_are_located(tmp_path: Path, old: str, new: str, at: str, message: str) -> None:
    project = Project(tmp_path)
    (project.root / "config" / "reports").mkdir()
    rel = "config/reports/commission-rsa.yaml"
    shutil.copy(ROOT / rel, project.root / rel)
    project.edit(rel, old, new)
    issues = project.issues()
    assert issues and all(project.rel(i) == rel for i in issues)
    assert any(message in i.message for i in issues), [i.message for i in issues]
    line, _ = project.locate(rel, at)
    assert any(i.line == line for i in issues), [(i.line, i.col, i.message) for i in issues]


def test_the_audience_is_not_enough_every_source_must_be_visible(portal: Portal) -> None:
    """A report open to every agent still needs each dashboard widget and indicator it draws from."""
    registry = portal.registry
    spec = registry.reports["commission-rsa"].model_copy(update={"audience": AccessRule(roles=["agent"])})
    finances = Principal("manager.finances", "finances", frozenset({"agent", "manager"}))
    solidarites = Principal("agent.rsa", "solidarites", frozenset({"agent"}))
    assert not can_view_report(finances, spec, registry)  # in the audience, but not on the RSA dashboard
    assert can_view_report(solidarites, spec, registry)
    indicators_only = spec.model_copy(update={"sections": spec.sections[:1]})  # the RSA indicators
    assert not can_view_report(finances, indicators_only, registry)
    display = Principal("affichage:1", roles=frozenset({"display"}), seance="commission-rsa")
    assert not can_view_report(display, spec, registry) and not can_view_report(None, spec, registry)
