"""The application database (users, login attempts, audit log): engine, sessions, migrations.

One :class:`Database` per app, stored in ``server.extensions["pilotis_db"]`` — never a module
global. Any SQLAlchemy URL works (SQLite file in the instance folder by default, PostgreSQL in
production). The schema is managed by Alembic (``pilotis/migrations``); :meth:`Database.upgrade`
brings it to the latest revision at start-up, under a lock so that several gunicorn workers
starting together do not race.
"""

from __future__ import annotations

import ast
import contextlib
import fcntl
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import flask
from sqlalchemy import Engine, Executable, Row, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from pilotis.accounts.db_snapshot import SNAPSHOT, create_from_snapshot, save_snapshot, schema_statements
from pilotis.core import forks

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
EXTENSION = "pilotis_db"
log = logging.getLogger(__name__)
_REVISION_LINE = re.compile(r"^(revision|down_revision)\b[^=\n]*=\s*(.+?)\s*$", re.MULTILINE)


def script_head(versions: Path = MIGRATIONS / "versions") -> str | None:
    """The head revision of the migration scripts, read from their ``revision`` and
    ``down_revision`` lines without loading Alembic; None unless there is exactly one."""
    revisions: set[str] = set()
    parents: set[str] = set()
    try:
        for path in versions.glob("*.py"):
            text_ = path.read_text(encoding="utf-8")
            fields: dict[str, str] = {m.group(1): m.group(2) for m in _REVISION_LINE.finditer(text_)}
            revision, down = (ast.literal_eval(fields.get(k, "None")) for k in ("revision", "down_revision"))
            if not isinstance(revision, str):
                return None
            revisions.add(revision)
            parents.update(down if isinstance(down, tuple) else (down,) if down else ())
    except (OSError, ValueError, SyntaxError):
        return None
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def utcnow() -> datetime:
    """Now, in UTC, without tzinfo: how every timestamp is stored (portable SQLite/PostgreSQL)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Foreign keys on; write-ahead log (readers never wait for the writer, cheap commits)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Database:
    """An engine and its session factory, plus the schema migrations."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        kwargs: dict[str, Any] = {"future": True}
        if self.url.get_backend_name() == "sqlite":
            database = self.url.database or ""
            if database in ("", ":memory:"):
                kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
            else:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
                kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            # A pooled connection is tested (a cheap round trip) when it is taken from the pool:
            # one closed by the server in the meantime is replaced before the request uses it.
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = forks.sqlalchemy_engine(create_engine(self.url, **kwargs))  # gunicorn forks
        if self.url.get_backend_name() == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._kwargs = kwargs
        self._unpinged: Engine | None = None

    def engine_without_ping(self) -> Engine:
        """A second pool of the same database, without the ping at each checkout, in autocommit.

        For hot, **idempotent** single statements that retry once themselves when the connection
        was cut (sensor readings: ``INSERT … ON CONFLICT DO NOTHING``): under load the ping costs
        as much as the statement, and each statement is its own transaction (no ``BEGIN`` /
        ``COMMIT`` round trips). Everything else uses :attr:`engine`.
        """
        if self._unpinged is None:
            kwargs = {k: v for k, v in self._kwargs.items() if k != "pool_pre_ping"}
            # Autocommit: nothing to roll back when a connection returns to the pool either.
            self._unpinged = forks.sqlalchemy_engine(
                create_engine(self.url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None, **kwargs)
            )
        return self._unpinged

    @property
    def dialect(self) -> str:
        """`sqlite`, `postgresql`…"""
        return self.url.get_backend_name()

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error, then closed."""
        with self.sessions() as session, session.begin():
            yield session

    def read(self, statement: Executable, params: dict[str, Any] | None = None) -> list[Row[Any]]:
        """The rows of a read-only ``statement``; run once more on a fresh connection if the
        connection was cut under it (server restart, ``pg_terminate_backend``, failover).

        Pre-ping cannot catch a connection cut between the ping and the query, nor the other
        connections of a pool emptied by a restart: SQLAlchemy then raises with
        ``connection_invalidated`` and has already discarded the pool's connections, so one
        retry is enough; any other error, or a second failure, propagates.
        """
        for attempt in (1, 2):
            try:
                with self.engine.connect() as connection:
                    return list(connection.execute(statement, params or {}).all())
            except DBAPIError as exc:
                if attempt == 2 or not exc.connection_invalidated:
                    raise
                log.warning("base de données : connexion coupée, nouvel essai sur une connexion neuve (%s)", exc.orig)
        raise AssertionError("unreachable")  # pragma: no cover

    def upgrade(self, revision: str = "head") -> None:
        """Apply the Alembic migrations up to ``revision`` (idempotent, safe with many workers).

        A database already at the scripts' head is left alone without loading Alembic (and Mako,
        Pygments): 0.2 s and ~10 MB less for each worker's restart. The same goes for a SQLite
        database that another worker brought to the head while this one waited for the lock,
        and for a new, empty one: it is created from the snapshot of the migrated schema
        (:mod:`pilotis.accounts.db_snapshot`), identical to what Alembic makes."""
        head = script_head() if revision == "head" else None
        if head is not None and self._at(head):
            return
        with self._migration_lock():
            if head is not None and self.dialect == "sqlite" and (self._at(head) or self._from_snapshot(head)):
                return
            self._alembic_upgrade(revision)

    def _from_snapshot(self, head: str) -> bool:
        """:func:`~pilotis.accounts.db_snapshot.create_from_snapshot` on a connection of this database."""
        with self.engine.connect() as connection:
            return create_from_snapshot(connection.connection.dbapi_connection, head)

    def _alembic_upgrade(self, revision: str) -> None:
        """Alembic's ``upgrade`` to ``revision`` (PostgreSQL: under an advisory lock)."""
        from alembic import command

        config = self.alembic_config()
        with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(7470696)"))
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def _at(self, head: str | None) -> bool:
        """Whether the database's single recorded revision is ``head``."""
        if head is None:
            return False
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        except DBAPIError:  # no table yet: a new database
            return False
        return [row[0] for row in rows] == [head]

    def current_revision(self) -> str | None:
        """The schema revision of the database (None before the first migration)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str | None:
        """The latest revision of ``pilotis/migrations/versions`` (what :meth:`upgrade` reaches)."""
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self.alembic_config()).get_current_head()

    def alembic_config(self) -> Any:
        """An Alembic ``Config`` pointing at ``pilotis/migrations`` and this database."""
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", self.url.render_as_string(hide_password=False).replace("%", "%%"))
        return config

    @contextlib.contextmanager
    def startup_lock(self) -> Iterator[None]:
        """Held by one process of the installation at a time: start-up work that must be done once
        (the demo's simulated readings) checks whether it is still to do *inside* this lock.

        Without it every gunicorn worker starting together saw an empty table and wrote the same
        rows into the same database at the same moment as the other worker began serving pages.
        A file lock next to a SQLite database; a transaction-level advisory lock on PostgreSQL
        (released with the transaction, or by the server if the process dies).
        """
        if self.dialect == "postgresql":
            with self.engine.begin() as connection:
                connection.execute(text("SELECT pg_advisory_xact_lock(7470697)"))
                yield
            return
        with self._migration_lock():
            yield

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """A file lock next to a SQLite database (PostgreSQL uses an advisory lock instead)."""
        database = self.url.database or ""
        if self.dialect != "sqlite" or database in ("", ":memory:"):
            yield
            return
        with open(f"{database}.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self._unpinged is not None:
            self._unpinged.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()


def get_db(app: flask.Flask | None = None) -> Database:
    """The database of ``app`` (default: the current Flask app)."""
    server = app or flask.current_app
    db: Database = server.extensions[EXTENSION]
    return db


def write_snapshot(path: Path = SNAPSHOT) -> str:
    """Migrate a new in-memory database with Alembic and write its schema to ``path``; returns
    the revision (developers: ``python -m pilotis db snapshot`` after adding a migration)."""
    with Database("sqlite://") as db:
        db._alembic_upgrade("head")  # Alembic's scripts, never the snapshot being written
        with db.engine.connect() as connection:
            revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
            statements = schema_statements(connection.connection.dbapi_connection)
    save_snapshot(str(revision), statements, path)
    return str(revision)
