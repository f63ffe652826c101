"""Operating the application database on PostgreSQL: instances started together on an empty
schema (the migration lock), and a backup restored into a fresh database (docs/production.md)."""

from __future__ import annotations

import dataclasses
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from app import create_app
from pilotis.accounts import audit
from pilotis.accounts.db import Database, get_db
from pilotis.accounts.models import AuditEvent
from pilotis.core.settings import ROOT, Settings
from tests import helpers
from tests.dbutil import PG_ENV, postgres_schema

pytestmark = pytest.mark.postgres

START = """
import os, pathlib, sys, time
from app import create_app
barrier = pathlib.Path(os.environ["BARRIER"])
(barrier / str(os.getpid())).touch()
deadline = time.monotonic() + 90
while len(list(barrier.iterdir())) < int(os.environ["PROCESSES"]) and time.monotonic() < deadline:
    time.sleep(0.01)
create_app()  # all processes here at once (imports done): they migrate the empty schema together
print("démarré")
"""


@pytest.fixture
def pg_url() -> Iterator[str]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} n'est pas défini (PostgreSQL absent)")
    with postgres_schema(base) as url:
        yield url


def test_instances_started_together_on_an_empty_schema_end_with_one_schema(pg_url: str, tmp_path: Path) -> None:
    """Two app processes start at the same instant on an empty schema: the advisory lock of
    Database.upgrade lets one migrate, the other finds the schema done — no error anywhere."""
    processes = []
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    for number in range(2):
        env = {
            **os.environ,
            "PILOTIS_DATABASE_URL": pg_url,
            "PILOTIS_INSTANCE_DIR": str(tmp_path / f"instance{number}"),
            "PILOTIS_SECRET_KEY": "cle-de-test-des-migrations-" + "y" * 32,
            "PILOTIS_MODE": "demo",
            "BARRIER": str(barrier),
            "PROCESSES": "2",
        }
        processes.append(
            subprocess.Popen(
                [sys.executable, "-c", START], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        )
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()[-3000:]
        assert "démarré" in out.decode() and "Traceback" not in err.decode()
    with Database(pg_url) as db:
        assert db.current_revision() == db.head_revision()
        versions = db.read(text("SELECT count(*) FROM alembic_version"))
        demo = db.read(text("SELECT count(*), count(DISTINCT username) FROM users"))
    assert versions[0][0] == 1
    assert demo[0][0] == demo[0][1] > 0  # the demo accounts once each


def test_backup_and_restore_into_a_fresh_database(pg_url: str, settings: Settings, tmp_path: Path) -> None:
    """pg_dump of the application schema, pg_restore into a new database: the portal opens on
    it, a user signs in, the audit log is intact."""
    for tool in ("pg_dump", "pg_restore"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            pytest.skip(f"{tool} absent (paquet postgresql-client)")
    original = dataclasses.replace(settings, database_url=pg_url, instance_dir=tmp_path / "avant")
    app = create_app(original)
    apps = [app]
    client = app.server.test_client()
    helpers.login_as(client, "agent.rsa")
    marker = f"sauvegarde-{secrets.token_hex(4)}"
    with Database(pg_url) as db:
        assert audit.record("audit_export", "admin", marker, "127.0.0.1", db=db)
        with db.session() as session:
            before = [(e.id, e.event, e.username, e.detail) for e in session.scalars(select(AuditEvent))]
    url = make_url(pg_url)
    schema = str(url.query["options"]).removeprefix("-csearch_path=")
    libpq = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    dump = tmp_path / "pilotis.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--schema={schema}", f"--file={dump}", libpq], check=True)

    fresh = f"pilotis_restore_{secrets.token_hex(4)}"
    admin = create_engine(url.set(query={}), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{fresh}"'))
    try:
        target = url.set(database=fresh)
        target_libpq = target.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
        subprocess.run(["pg_restore", "--no-owner", f"--dbname={target_libpq}", str(dump)], check=True)
        restored_url = target.render_as_string(hide_password=False)
        with Database(restored_url) as db:
            assert db.current_revision() == db.head_revision()
            with db.session() as session:
                after = [(e.id, e.event, e.username, e.detail) for e in session.scalars(select(AuditEvent))]
        assert after == before and any(row[3] == marker for row in after)

        restored = create_app(dataclasses.replace(original, database_url=restored_url, instance_dir=tmp_path / "apres"))
        apps.append(restored)
        again = restored.server.test_client()
        helpers.login_as(again, "agent.rsa")  # the password hashes came back with the users
        assert again.get("/rsa").status_code == 200
        with Database(restored_url) as db:
            logins = db.read(
                select(AuditEvent.id).where(AuditEvent.event == "login_success", AuditEvent.username == "agent.rsa")
            )
        assert len(logins) == 2  # the one before the backup, the one after the restore
    finally:
        for built in apps:
            get_db(built.server).dispose()  # before the database is dropped under its connections
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)'))
        admin.dispose()
