"""The audit log: what is written, the admin page (filters, pagination, CSV), and who may see it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from pilotis.accounts import audit
from pilotis.accounts.db import Database
from pilotis.accounts.models import AuditEvent
from tests.dbutil import DB_KINDS, database_url


@pytest.fixture(params=DB_KINDS)
def log_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated database (SQLite, and PostgreSQL when PILOTIS_TEST_PG is set)."""
    with database_url(request.param, tmp_path) as url, Database(url) as db:
        db.upgrade()
        yield db


def test_record_and_search(log_db: Database) -> None:
    assert audit.record("login_failure", "camille", "mot de passe incorrect", "10.0.0.1", db=log_db)
    assert audit.record("page_view", "camille", "", "10.0.0.1", target="/rsa", db=log_db)
    assert audit.record("logout", "dominique", "", None, db=log_db)
    everything = audit.search(log_db, audit.AuditFilter())
    assert everything.total == 3 and [r.event for r in everything.rows] == [
        "logout",
        "page_view",
        "login_failure",
    ]
    assert audit.search(log_db, audit.AuditFilter(event="page_view")).rows[0].target == "/rsa"
    assert audit.search(log_db, audit.AuditFilter(username="CAM")).total == 2  # prefix, any case
    assert audit.search(log_db, audit.AuditFilter(username="%")).total == 0  # wildcards are literal
    today = datetime.now(audit.LOCAL).date()
    assert audit.search(log_db, audit.AuditFilter(since=today, until=today)).total == 3
    assert audit.search(log_db, audit.AuditFilter(until=today - timedelta(days=1))).total == 0


def test_unknown_event_types_are_refused(log_db: Database) -> None:
    with pytest.raises(ValueError, match="inconnu"):
        audit.record("connexion", "camille", db=log_db)


def test_pagination(log_db: Database) -> None:
    for i in range(7):
        audit.record("page_view", f"u{i}", "", None, db=log_db)
    page = audit.search(log_db, audit.AuditFilter(), page=2, per_page=3)
    assert (page.total, page.pages, page.page) == (7, 3, 2)
    assert [r.username for r in page.rows] == ["u3", "u2", "u1"]
    assert audit.search(log_db, audit.AuditFilter(), page=99, per_page=3).page == 3


def test_csv_neutralises_formulas(log_db: Database) -> None:
    audit.record("login_failure", '=HYPERLINK("http://x")', "+1", "10.0.0.2", db=log_db)
    out = io.StringIO()
    assert audit.write_csv(log_db, out, audit.AuditFilter()) == 1
    row = list(csv.DictReader(io.StringIO(out.getvalue())))[0]
    assert row["utilisateur"].startswith("'=") and row["detail"] == "'+1"
    assert row["libelle"] == "Échec de connexion"


def test_dates_are_local_days(log_db: Database) -> None:
    # 23:30 UTC on 31 December is already 1 January in Paris.
    with log_db.session() as session:
        session.add(AuditEvent(event="logout", username="x", detail="", created_at=datetime(2025, 12, 31, 23, 30)))
    assert audit.search(log_db, audit.AuditFilter(since=date(2026, 1, 1), until=date(2026, 1, 1))).total == 1
    assert audit.search(log_db, audit.AuditFilter(until=date(2025, 12, 31))).total == 0


# --------------------------------------------------------------------------- in the app


def test_logins_are_audited_without_passwords(app, db, login_as) -> None:  # type: ignore[no-untyped-def]
    with app.server.test_client() as client:
        login_as(client, "agent.rh", "mauvais-mot-de-passe-xyz", expect=401)
    with db.session() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "login_failure", AuditEvent.username == "agent.rh")
        ).all()
        assert rows and rows[-1].ip == "127.0.0.1"
        everything = session.scalars(select(AuditEvent)).all()
    assert not any("mauvais-mot-de-passe-xyz" in f"{r.detail}{r.target}{r.username}" for r in everything)
    with db.session() as session:  # leave agent.rh unlocked for the other tests
        from pilotis.accounts.models import LoginAttempt

        session.execute(delete(LoginAttempt).where(LoginAttempt.username == "agent.rh"))


def test_admin_page_needs_a_signed_in_admin(client, agent_client, db) -> None:  # type: ignore[no-untyped-def]
    anonymous = client.get("/admin/audit")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"] == "/login?next=/admin/audit"
    denied = agent_client.get("/admin/audit")
    assert denied.status_code == 403 and "Accès refusé" in denied.get_data(as_text=True)
    assert agent_client.get("/admin/audit.csv").status_code == 403
    with db.session() as session:
        row = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "access_denied").order_by(AuditEvent.id.desc())
        ).first()
    assert row is not None and row.username == "agent.rsa" and row.target == "/admin/audit.csv"


def test_admin_page_lists_and_filters(admin_client, db) -> None:  # type: ignore[no-untyped-def]
    audit.record("export", "filtre.test", "export de test", "10.1.1.1", target="/rsa", db=db)
    page = admin_client.get("/admin/audit")
    html = unescape(page.get_data(as_text=True))  # the title may come escaped (« d&#39;audit »)
    assert page.status_code == 200 and '<html lang="fr">' in html
    assert "Journal d'audit" in html and '<label for="event"' in html and '<label for="since"' in html
    assert "filtre.test" in html and "Connexion réussie" in html
    filtered = admin_client.get("/admin/audit?event=export&user=filtre").get_data(as_text=True)
    assert "filtre.test" in filtered and "<td>Connexion réussie</td>" not in filtered
    assert "1 événement" in filtered
    empty = admin_client.get("/admin/audit?since=2999-01-01").get_data(as_text=True)
    assert "Aucun événement pour ces filtres." in empty
    bad = admin_client.get("/admin/audit?since=demain").get_data(as_text=True)
    assert 'role="alert"' in bad and "illisible" in bad


def test_admin_page_paginates(admin_client, db) -> None:  # type: ignore[no-untyped-def]
    for i in range(55):
        audit.record("page_view", f"pagination.{i:02d}", "", None, db=db)
    first = admin_client.get("/admin/audit?user=pagination").get_data(as_text=True)
    assert "55 événements — page 1 sur 2" in first and "Page suivante" in first
    second = admin_client.get("/admin/audit?user=pagination&page=2").get_data(as_text=True)
    assert "pagination.04" in second and "pagination.54" not in second and "Page précédente" in second


def test_admin_csv_export(admin_client, db) -> None:  # type: ignore[no-untyped-def]
    audit.record("export", "csv.test", "ligne", None, target="/rsa", db=db)
    response = admin_client.get("/admin/audit.csv?user=csv.test")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [(r["evenement"], r["utilisateur"]) for r in rows] == [("export", "csv.test")]
    with db.session() as session:
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last.event == "audit_export" and last.username == "admin"


def test_record_survives_a_broken_database(tmp_path: Path) -> None:
    """A write that fails is logged, never raised into the request."""
    with Database(f"sqlite:///{tmp_path / 'vide.db'}") as empty:  # never migrated: no table
        assert audit.record("logout", "x", "", None, db=empty) is False
