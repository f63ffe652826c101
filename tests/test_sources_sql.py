"""The SQL source against SQLite (always) and the machine's PostgreSQL (PILOTIS_TEST_PG, CI)."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from data_sources.sql import SqlSource
from pilotis.core.measures import parse_measure
from pilotis.core.query import PERIOD, Filter, Query
from pilotis.core.sources import DuckRuntime, SourceError

ROWS = [
    {"code_insee": "53130", "date": dt.date(2024, 1, 1), "montant": 10.5, "agents": 2},
    {"code_insee": "53130", "date": dt.date(2024, 2, 1), "montant": 4.5, "agents": 1},
    {"code_insee": "53001", "date": dt.date(2024, 2, 1), "montant": 1.0, "agents": 0},
]


def _fill(url: str, table: str, schema: str | None = None) -> None:
    engine = sa.create_engine(url)
    meta = sa.MetaData(schema=schema)
    tbl = sa.Table(
        table,
        meta,
        sa.Column("code_insee", sa.String(5)),
        sa.Column("date", sa.Date),
        sa.Column("montant", sa.Float),
        sa.Column("agents", sa.Integer),
    )
    meta.create_all(engine)
    with engine.begin() as con:
        con.execute(tbl.insert(), ROWS)
    engine.dispose()


_MADE: list[SqlSource] = []


@pytest.fixture(autouse=True)
def _dispose() -> Iterator[None]:
    """Close the connection pools the test's sources opened."""
    yield
    while _MADE:
        engine = _MADE.pop()._engine
        if engine is not None:
            engine.dispose()


def make(url: str, table: str, tmp_path: Path, **options: object) -> SqlSource:
    config = SqlSource.Config(type="sql", title="Essai", url=url, table=table, **options)  # type: ignore[arg-type]
    src = SqlSource("essai", config, tmp_path, DuckRuntime())
    _MADE.append(src)
    return src


def check_pushdown(src: SqlSource) -> None:
    by_month = src.run(
        Query(
            "essai",
            (
                ("v", parse_measure("sum(montant)")),
                ("r", parse_measure("sum(montant) / sum(agents)")),
            ),
            group_by=(PERIOD,),
            period_column="date",
            period_grain="month",
            native_grain="day",
        )
    )
    assert list(by_month["v"]) == [10.5, 5.5]
    assert list(by_month["r"]) == [5.25, 5.5]
    laval = src.run(
        Query(
            "essai",
            (("n", parse_measure("count(*)")),),
            filters=(
                Filter("code_insee", "in", ("53130",)),
                Filter("date", ">=", dt.date(2024, 2, 1)),
            ),
        )
    )
    assert int(laval.iloc[0]["n"]) == 1


def test_sqlite(tmp_path: Path) -> None:
    _fill(f"sqlite:///{tmp_path / 'db.sqlite'}", "depenses")
    src = make("sqlite:///db.sqlite", "depenses", tmp_path)  # relative to the project root
    assert set(src.schema()) == {"code_insee", "date", "montant", "agents"}
    check_pushdown(src)


def test_credentials_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fill(f"sqlite:///{tmp_path / 'secret.sqlite'}", "t")
    monkeypatch.setenv("PILOTIS_TEST_DB_FILE", "secret.sqlite")
    assert make("sqlite:///${PILOTIS_TEST_DB_FILE}", "t", tmp_path).schema()
    src = make("sqlite:///${PILOTIS_TEST_ABSENT_VAR}", "t", tmp_path)
    with pytest.raises(SourceError) as unset:
        src.run(Query("essai", (("n", parse_measure("count(*)")),)))
    assert unset.value.kind == "auth" and "PILOTIS_TEST_ABSENT_VAR" in str(unset.value)


def test_sqlite_failures(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    _fill(f"sqlite:///{path}", "depenses")
    src = make(f"sqlite:///{path}", "depenses", tmp_path)
    query = Query("essai", (("v", parse_measure("sum(montant)")),))
    assert src.run(query).iloc[0]["v"] == 16.0
    with sa.create_engine(f"sqlite:///{path}").begin() as con:
        con.exec_driver_sql("ALTER TABLE depenses RENAME COLUMN montant TO montant_ttc")
    with pytest.raises(SourceError) as changed:
        src.run(query)
    assert changed.value.kind == "columns"
    with pytest.raises(SourceError) as missing_table:
        make(f"sqlite:///{path}", "absente", tmp_path).run(query)
    assert missing_table.value.kind == "columns"


def test_unreachable_database_uses_declared_columns_at_startup(tmp_path: Path) -> None:
    url = "postgresql+psycopg://lecteur:x@127.0.0.1:1/nulle_part"
    src = make(url, "t", tmp_path, timeout="2s", columns={"montant": {"type": "number"}})
    assert src.schema() == {"montant": "DOUBLE"}  # the portal starts, the widget will say why
    with pytest.raises(SourceError) as down:
        src.run(Query("essai", (("v", parse_measure("sum(montant)")),)))
    assert down.value.kind == "unreachable" and "x@" not in str(down.value)
    with pytest.raises(SourceError):
        make(url, "t", tmp_path, timeout="2s").schema()  # nothing declared: reported at start-up


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = os.environ.get("PILOTIS_TEST_PG")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("PILOTIS_TEST_PG is not set in CI")
        pytest.skip("PILOTIS_TEST_PG not set (PostgreSQL tests run in CI)")
    yield url


@pytest.mark.postgres
def test_postgresql(pg_url: str, tmp_path: Path) -> None:
    schema = f"pilotis_test_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(pg_url)
    with engine.begin() as con:
        con.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        _fill(pg_url, "depenses", schema)
        src = make(pg_url, f"{schema}.depenses", tmp_path)
        assert src.schema()["montant"].upper().startswith(("FLOAT", "DOUBLE"))
        check_pushdown(src)
        with engine.begin() as con:
            con.exec_driver_sql(f'ALTER TABLE "{schema}".depenses RENAME COLUMN montant TO m2')
        with pytest.raises(SourceError) as changed:
            src.run(Query("essai", (("v", parse_measure("sum(montant)")),)))
        assert changed.value.kind == "columns"
        bad = pg_url.replace("postgres@", "personne:mauvais@", 1)
        with pytest.raises(SourceError) as refused:
            make(bad, f"{schema}.depenses", tmp_path).run(Query("essai", (("n", parse_measure("count(*)")),)))
        assert refused.value.kind in ("auth", "unreachable") and "mauvais" not in str(refused.value)
        slow = make(pg_url, f"{schema}.depenses", tmp_path, timeout="1s")
        slow.schema()
        with slow.engine.connect() as con, pytest.raises(sa.exc.OperationalError):
            con.exec_driver_sql("SELECT pg_sleep(3)")  # statement_timeout is applied
    finally:
        with engine.begin() as con:
            con.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()
