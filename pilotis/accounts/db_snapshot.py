"""A new SQLite application database created from a snapshot of the migrated schema.

Why: on the first start of an installation (demo mode, empty instance folder) every worker
migrated the empty database through all the Alembic scripts, or found it done by the other
worker only after importing Alembic, Mako and Pygments: ≈ 0.15 s of CPU and ≈ 25 MB per worker.
The snapshot (``migrations/sqlite_head.json``) is the ``sqlite_master`` of a database that
Alembic migrated to the head: its statements, replayed verbatim in the same order, give the same
schema, byte for byte (``tests/test_db_snapshot.py`` compares them, and says to run
``python -m pilotis db snapshot`` after a new migration).

Used only on a SQLite database without any table and when the snapshot's revision is the
scripts' head (:func:`pilotis.accounts.db.script_head`); anything else is migrated by Alembic
as before. ``metadata.create_all`` was not an option: its column order and constraint order
differ from the migrated tables' (``users.email`` was added by a later migration), so a
positional dump (``sqlite3 .dump``) of one would not load into the other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).resolve().parent / "migrations" / "sqlite_head.json"


def schema_statements(dbapi_connection: Any) -> list[str]:
    """The statements that made the schema of a SQLite database, in creation order (the indexes
    SQLite makes itself for primary keys and unique constraints have none: they come back)."""
    rows = dbapi_connection.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid").fetchall()
    return [row[0] for row in rows]


def read_snapshot(path: Path = SNAPSHOT) -> tuple[str, list[str]] | None:
    """The snapshot's revision and statements, or None when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        revision, statements = data["revision"], data["statements"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(revision, str) or not all(isinstance(s, str) for s in statements):
        return None
    return revision, list(statements)


def save_snapshot(revision: str, statements: list[str], path: Path = SNAPSHOT) -> None:
    """Write the snapshot read by :func:`read_snapshot` (:func:`pilotis.accounts.db.write_snapshot`)."""
    path.write_text(json.dumps({"revision": revision, "statements": statements}, indent=1) + "\n", encoding="utf-8")


def create_from_snapshot(dbapi_connection: Any, head: str | None, path: Path = SNAPSHOT) -> bool:
    """Replay the snapshot on an empty SQLite database when its revision is ``head``, in one
    transaction (a crash leaves the database empty); False, and nothing done, otherwise.

    The caller holds the migration lock (:meth:`pilotis.accounts.db.Database.upgrade`).
    """
    snapshot = read_snapshot(path)
    if head is None or snapshot is None or snapshot[0] != head:
        return False
    dbapi_connection.execute("BEGIN IMMEDIATE")
    try:
        if dbapi_connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            dbapi_connection.rollback()
            return False
        for statement in snapshot[1]:
            dbapi_connection.execute(statement)
        dbapi_connection.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (head,))
        dbapi_connection.commit()
    except BaseException:
        dbapi_connection.rollback()
        raise
    return True
