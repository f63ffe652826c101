"""A new SQLite application database is created from the snapshot of the migrated schema
(pilotis/accounts/db_snapshot.py), without loading Alembic: the first start of an installation
costs ≈ 0.15 s of CPU and ≈ 25 MB less per worker. The snapshot must make exactly the schema
that Alembic's migrations make, and be replaced when a migration is added."""

from __future__ import annotations

import fcntl
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from alembic import command

from pilotis.accounts.db import Database, script_head, write_snapshot
from pilotis.accounts.db_snapshot import SNAPSHOT, create_from_snapshot, read_snapshot

ROOT_DIR = Path(__file__).resolve().parents[1]

NEW_DATABASE = """
import sys
from pilotis.accounts.db import Database
with Database(sys.argv[1]) as db:
    db.upgrade()
print("alembic" in sys.modules)
"""


def schema(path: Path) -> list[tuple[str, str, str, str | None]]:
    """Every object of a SQLite database as SQLite keeps it, in creation order, and the revision."""
    with sqlite3.connect(path) as connection:
        objects = connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid").fetchall()
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    return [*objects, ("revision", str(revision), "", None)]


def test_the_snapshot_is_the_schema_of_the_latest_migration(tmp_path: Path) -> None:
    written = tmp_path / "sqlite_head.json"
    write_snapshot(written)
    assert json.loads(written.read_text(encoding="utf-8")) == json.loads(SNAPSHOT.read_text(encoding="utf-8")), (
        "migrations/sqlite_head.json est périmé : lancez `python -m pilotis db snapshot`"
    )
    snapshot = read_snapshot()
    assert snapshot is not None and snapshot[0] == script_head()


def test_a_new_database_is_identical_to_a_migrated_one_without_loading_alembic(tmp_path: Path) -> None:
    created, migrated = tmp_path / "created.db", tmp_path / "migrated.db"
    done = subprocess.run(
        [sys.executable, "-c", NEW_DATABASE, f"sqlite:///{created}"],
        cwd=ROOT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"  # Alembic was not loaded to create it
    with Database(f"sqlite:///{migrated}") as db:
        db._alembic_upgrade("head")  # what start-up did before: every migration, in order
    assert schema(created) == schema(migrated)
    with Database(f"sqlite:///{created}") as db:  # and Alembic takes it from there, both ways
        command.downgrade(db.alembic_config(), "-1")
        db.upgrade()
        assert db.current_revision() == script_head()


def test_the_snapshot_is_used_only_on_an_empty_database_at_its_revision(tmp_path: Path) -> None:
    head = script_head()
    path = tmp_path / "a.db"
    with sqlite3.connect(path) as connection:
        assert not create_from_snapshot(connection, "0000")  # the scripts moved on: Alembic migrates
        connection.execute("CREATE TABLE autre (id INTEGER)")
        connection.commit()
        assert not create_from_snapshot(connection, head)  # not empty: left to Alembic
        assert connection.execute("SELECT name FROM sqlite_master").fetchall() == [("autre",)]
        stale = tmp_path / "stale.json"
        stale.write_text(json.dumps({"revision": "0000", "statements": []}), encoding="utf-8")
        assert not create_from_snapshot(connection, head, stale)


def test_a_snapshot_failing_halfway_leaves_the_database_empty(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"revision": "x", "statements": ["CREATE TABLE a (id INTEGER)", "NOT SQL"]}))
    with sqlite3.connect(tmp_path / "a.db") as connection:
        try:
            create_from_snapshot(connection, "x", broken)
        except sqlite3.OperationalError:
            pass
        else:
            raise AssertionError("the broken statement should fail")
        assert connection.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def test_a_worker_that_waited_for_the_other_does_not_load_alembic(tmp_path: Path) -> None:
    """Two workers start together: the second waits for the migration lock while the first
    creates the database, then finds it at the head (before: it loaded Alembic to learn that)."""
    path = tmp_path / "pilotis.db"
    with open(f"{path}.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker, creating the database
        waiting = subprocess.Popen(
            [sys.executable, "-c", NEW_DATABASE, f"sqlite:///{path}"],
            cwd=ROOT_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.5)  # the second worker is now waiting for the lock (imports done)
        with sqlite3.connect(path) as connection:
            assert create_from_snapshot(connection, script_head())
        fcntl.flock(lock, fcntl.LOCK_UN)
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err[-2000:]
    assert out.strip() == "False"
