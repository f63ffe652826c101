"""Start-up migrations (pilotis/accounts/db.py, ``Database.upgrade``): a database already at the
latest revision is recognised without loading Alembic, so a worker's restart stays cheap; a new
SQLite database is created from the snapshot of the migrated schema (tests/test_db_snapshot.py);
an older database is still migrated by Alembic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic import command

from pilotis.accounts.db import Database, script_head

ROOT_DIR = Path(__file__).resolve().parents[1]

CHECK = """
import sys
from pilotis.accounts.db import Database
with Database(sys.argv[1]) as db:
    db.upgrade()
    print(db.current_revision() if "--revision" in sys.argv else "alembic" in sys.modules)
"""


def run(url: str, *flags: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", CHECK, url, *flags], cwd=ROOT_DIR, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_the_head_read_from_the_scripts_is_alembics(tmp_path: Path) -> None:
    with Database(f"sqlite:///{tmp_path / 'a.db'}") as db:
        assert script_head() == db.head_revision()


def test_a_database_at_the_head_is_not_migrated_again_and_an_older_one_is(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pilotis.db'}"
    assert run(url) == "False"  # a new database: created from the snapshot (tests/test_db_snapshot.py)
    assert run(url) == "False"  # restart: at the head, Alembic is not even loaded
    with Database(url) as db:
        command.downgrade(db.alembic_config(), "-1")
        assert db.current_revision() != script_head()
    assert run(url, "--revision") == script_head()  # an older schema is brought up to date
