"""Test databases: a temporary SQLite file, or an isolated schema of a PostgreSQL database.

- ``PILOTIS_TEST_DATABASE_URL`` (a PostgreSQL URL): the whole suite's app uses it, in a schema
  of its own (``pilotis_test_<random>``) dropped at the end — run the suite on PostgreSQL with
  ``PILOTIS_TEST_DATABASE_URL=$PILOTIS_TEST_PG make test``.
- ``PILOTIS_TEST_PG`` (set by ``.ci/run`` when the machine's PostgreSQL answers): the tests
  marked ``postgres`` run the database tests again on it; skipped when it is not set.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_ENV = "PILOTIS_TEST_PG"
SUITE_ENV = "PILOTIS_TEST_DATABASE_URL"


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A URL whose connections use a fresh schema of ``base_url``'s database; dropped afterwards."""
    schema = f"pilotis_test_{secrets.token_hex(6)}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def database_url(kind: str, folder: Path) -> Iterator[str]:
    """``sqlite`` (a file in ``folder``) or ``postgres`` (PILOTIS_TEST_PG; skips when unset)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'pilotis-test.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} n'est pas défini (PostgreSQL absent)")
    with postgres_schema(base) as url:
        yield url


DB_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
"""Parametrize a fixture with this to run its tests on SQLite and on PostgreSQL."""
