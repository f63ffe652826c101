"""Measures and queries: parsing, SQL compilation on SQLite and DuckDB, French number formats."""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa

from data_sources.files import CsvSource, ParquetSource
from data_sources.sql import SqlSource
from pilotis.core.formatting import NNBSP, format_date, format_number, format_period, format_value
from pilotis.core.measures import Agg, BinOp, MeasureError, Num, columns_of, is_additive, parse_measure
from pilotis.core.query import PERIOD, Filter, Query
from pilotis.core.sources import DataSource, DuckRuntime

# --------------------------------------------------------------------------- parsing


def test_multiplication_and_division_bind_tighter_than_addition() -> None:
    assert parse_measure("sum(a) + sum(b) * 2") == BinOp("+", Agg("sum", "a"), BinOp("*", Agg("sum", "b"), Num(2)))
    assert parse_measure("sum(a) / sum(b) - 1") == BinOp("-", BinOp("/", Agg("sum", "a"), Agg("sum", "b")), Num(1))


def test_operators_of_same_precedence_group_to_the_left() -> None:
    assert parse_measure("sum(a) - sum(b) - sum(c)") == BinOp(
        "-", BinOp("-", Agg("sum", "a"), Agg("sum", "b")), Agg("sum", "c")
    )
    assert parse_measure("sum(a) / sum(b) * 100") == BinOp("*", BinOp("/", Agg("sum", "a"), Agg("sum", "b")), Num(100))


def test_parentheses_override_precedence() -> None:
    assert parse_measure("(sum(a) + sum(b)) / count(*)") == BinOp(
        "/", BinOp("+", Agg("sum", "a"), Agg("sum", "b")), Agg("count", "*")
    )
    assert parse_measure("  sum( a )/( 2.5 )") == BinOp("/", Agg("sum", "a"), Num(2.5))


def test_columns_and_additivity() -> None:
    node = parse_measure("count_distinct(code) + sum(a) / count(*)")
    assert columns_of(node) == {"code", "a"}
    assert is_additive(parse_measure("sum(a)")) and is_additive(parse_measure("count(*)"))
    assert not is_additive(parse_measure("avg(a)"))
    assert not is_additive(parse_measure("sum(a) / sum(b)"))


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("", "mesure vide", "sum(montant)"),
        ("sum(", "nom de colonne attendu après `sum(`", "`sum(colonne)`"),
        ("sum(a", "parenthèse fermante manquante après `sum(a`", "`sum(a)`"),
        ("avg foyers", "parenthèses manquantes après `avg`", "`avg(foyers)`"),
        ("foyers", "`foyers` seul n'est pas une mesure", "`sum(foyers)`"),
        ("SUM(a)", "agrégat `SUM` inconnu", "minuscules"),
        ("somme(a)", "agrégat `somme` inconnu", "agrégats possibles"),
        ("sum(*)", "`sum(*)` n'a pas de sens", "`count(*)`"),
        ("sum(a) sum(b)", "« sum » inattendu après une mesure complète", "opérateur"),
        ("sum(a))", "parenthèse fermante `)` en trop", ""),
        ("(sum(a)", "parenthèse fermante `)` manquante", ""),
        ("sum(a) +", "incomplète", ""),
        ("sum(a) % 2", "caractère `%` inattendu", "opérateurs permis"),
        ("-sum(a)", "« - » inattendu", ""),
    ],
)
def test_invalid_measures_say_what_to_write(text: str, message: str, hint: str) -> None:
    with pytest.raises(MeasureError) as info:
        parse_measure(text)
    assert message in str(info.value)
    assert hint in info.value.hint


# --------------------------------------------------------------------------- SQLite and DuckDB


def _rows() -> pd.DataFrame:
    """Two years of monthly rows for three communes; commune C has no base (ratio undefined)."""
    rows = []
    for month in range(24):
        day = dt.date(2019 + month // 12, month % 12 + 1, 1)
        for index, code in enumerate(("A", "B", "C")):
            rows.append(
                {
                    "code": code,
                    "date": day,
                    "valeur": (month * 7 + index * 13) % 50 + 1,
                    "base": 0 if code == "C" else (month % 5) + 2 * (index + 1),
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DataSource]:
    """The same rows in a SQLite table (SqlSource) and a Parquet file (ParquetSource)."""
    folder = tmp_path_factory.mktemp("query")
    frame = _rows()
    with sqlite3.connect(folder / "faits.sqlite") as con:
        con.execute("CREATE TABLE faits (code TEXT, date DATE, valeur INTEGER, base INTEGER)")
        con.executemany(
            "INSERT INTO faits VALUES (?, ?, ?, ?)",
            [(r.code, r.date.isoformat(), int(r.valeur), int(r.base)) for r in frame.itertuples(index=False)],
        )
    duckdb.sql(
        "SELECT code, CAST(date AS DATE) AS date, CAST(valeur AS BIGINT) AS valeur, "
        "CAST(base AS BIGINT) AS base FROM frame"
    ).write_parquet(str(folder / "faits.parquet"))
    common = {"title": "Faits", "period": {"column": "date", "grain": "month", "kind": "flow"}}
    sql = SqlSource(
        "faits_sql",
        SqlSource.Config(type="sql", url="sqlite:///faits.sqlite", table="faits", **common),
        folder,
        DuckRuntime(),
    )
    parquet = ParquetSource(
        "faits_parquet",
        ParquetSource.Config(type="parquet", path="faits.parquet", **common),
        folder,
        DuckRuntime(),
    )
    yield {"sqlite": sql, "duckdb": parquet}
    sql.engine.dispose()


def _run(source: DataSource, query: Query) -> pd.DataFrame:
    frame = source.run(Query(**{**query.__dict__, "dataset": source.id})).copy()
    if PERIOD in frame.columns:
        frame[PERIOD] = pd.to_datetime(frame[PERIOD]).dt.date
    for column in frame.columns:
        if column not in (PERIOD, "code"):
            frame[column] = frame[column].astype("float64")
    return frame.reset_index(drop=True)


MEASURES = (
    ("total", parse_measure("sum(valeur)")),
    ("lignes", parse_measure("count(*)")),
    ("moyenne", parse_measure("avg(valeur)")),
    ("codes", parse_measure("count_distinct(code)")),
    ("taux", parse_measure("sum(valeur) / sum(base)")),
    ("pour_mille", parse_measure("(sum(valeur) - sum(base)) * 1000 / sum(valeur)")),
)


@pytest.mark.parametrize("grain", ["month", "quarter", "year"])
def test_grouped_by_period_sqlite_and_duckdb_give_the_same_numbers(sources: dict[str, DataSource], grain: str) -> None:
    query = Query(
        dataset="",
        measures=MEASURES,
        group_by=(PERIOD,),
        period_column="date",
        period_grain=grain,
        native_grain="month",
        filters=(Filter("code", "in", ("A", "B")), Filter("date", ">=", dt.date(2019, 4, 1))),
    )
    on_sqlite, on_duckdb = _run(sources["sqlite"], query), _run(sources["duckdb"], query)
    pd.testing.assert_frame_equal(on_sqlite, on_duckdb, check_exact=False, rtol=1e-12)
    # And the numbers are right, not just equal: compare with pandas.
    rows = _rows()
    rows = rows[rows["code"].isin(["A", "B"]) & (rows["date"] >= dt.date(2019, 4, 1))]
    keys = {
        "month": lambda d: d,
        "quarter": lambda d: d.replace(month=(d.month - 1) // 3 * 3 + 1),
        "year": lambda d: d.replace(month=1),
    }[grain]
    expected = rows.groupby(rows["date"].map(keys))["valeur"].sum().astype("float64")
    assert list(on_duckdb[PERIOD]) == list(expected.index)
    assert list(on_duckdb["total"]) == list(expected)
    assert len(on_duckdb) == {"month": 21, "quarter": 7, "year": 2}[grain]


def test_grouped_by_column_with_order_and_limit_is_the_same(sources: dict[str, DataSource]) -> None:
    query = Query(
        dataset="",
        measures=MEASURES,
        group_by=("code",),
        order_by=(("total", True),),
        limit=2,
        filters=(Filter("date", "=", dt.date(2020, 6, 1)),),
    )
    on_sqlite, on_duckdb = _run(sources["sqlite"], query), _run(sources["duckdb"], query)
    pd.testing.assert_frame_equal(on_sqlite, on_duckdb)
    assert len(on_duckdb) == 2
    assert list(on_duckdb["total"]) == sorted(on_duckdb["total"], reverse=True)


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_division_by_zero_gives_null(sources: dict[str, DataSource], engine: str) -> None:
    query = Query(
        dataset="",
        group_by=("code",),
        measures=(
            ("taux", parse_measure("sum(valeur) / sum(base)")),
            ("par_zero", parse_measure("sum(valeur) / 0")),
        ),
    )
    frame = _run(sources[engine], query).set_index("code")
    assert math.isnan(frame.loc["C", "taux"])  # base is 0 for every row of C: NULL, not an error
    assert frame["par_zero"].isna().all()
    assert frame.loc["A", "taux"] > 0


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_division_of_integers_is_not_truncated(sources: dict[str, DataSource], engine: str) -> None:
    query = Query(
        dataset="",
        measures=(
            ("demi", parse_measure("count(*) / 2")),
            ("tiers", parse_measure("count(*) / (count(*) * 3)")),
        ),
        filters=(Filter("code", "=", "A"), Filter("date", "<", dt.date(2019, 2, 1))),
    )
    frame = _run(sources[engine], query)
    assert frame.loc[0, "demi"] == 0.5
    assert frame.loc[0, "tiers"] == pytest.approx(1 / 3)


def test_measure_compiles_to_one_select_for_each_dialect() -> None:
    from sqlalchemy.dialects import postgresql, sqlite

    from pilotis.core.query import build_select, compile_for_duckdb, table_for

    table = table_for("faits", ["code", "date", "valeur", "base"])
    query = Query(
        dataset="faits",
        measures=(("taux", parse_measure("sum(valeur) / sum(base)")),),
        group_by=(PERIOD,),
        period_column="date",
        period_grain="year",
        native_grain="month",
    )
    for dialect, name in ((sqlite.dialect(), "sqlite"), (postgresql.dialect(), "postgresql")):
        sql = str(build_select(query, table, name).compile(dialect=dialect))
        assert sql.count("SELECT") == 1 and "nullif" in sql.lower() and "GROUP BY" in sql
    text, params = compile_for_duckdb(build_select(query, table, "duckdb"))
    assert "?" in text or not params
    assert isinstance(sa.text(text), sa.TextClause)


# --------------------------------------------------------------------------- French formatting


def test_thousands_use_a_narrow_no_break_space_and_a_decimal_comma() -> None:
    assert format_number(1234.5, 1) == f"1{NNBSP}234,5"
    assert format_number(1234567) == f"1{NNBSP}234{NNBSP}567"
    assert format_number(0.5, 2) == "0,50"
    assert format_number(1234.5, 1, lang="en") == "1,234.5"


def test_negative_numbers_use_the_minus_sign() -> None:
    assert format_number(-1234.5, 1) == f"\u22121{NNBSP}234,5"
    assert format_value(-0.125, "percent", 1) == f"\u221212,5{NNBSP}%"


def test_a_value_that_rounds_to_zero_has_no_sign() -> None:
    assert format_number(-0.4) == "0"
    assert format_number(-0.04, 1) == "0,0"


def test_missing_values_are_a_dash() -> None:
    assert format_number(None) == "–"
    assert format_value(float("nan"), "euro") == "–"


def test_percent_of_a_fraction() -> None:
    assert format_value(0.1234, "percent", 1) == f"12,3{NNBSP}%"
    assert format_value(1, "percent") == f"100{NNBSP}%"
    assert format_value(0.1234, "percent", 1, lang="en") == "12.3%"


def test_euros_and_millions_of_euros() -> None:
    assert format_value(1234, "euro") == f"1{NNBSP}234{NNBSP}€"
    assert format_value(12_345_678, "euro") == f"12,3{NNBSP}M€"
    assert format_value(-2_500_000, "euro") == f"\u22122,5{NNBSP}M€"
    assert format_value(1_000_000, "euro", 2) == f"1,00{NNBSP}M€"


def test_units_dates_and_periods() -> None:
    assert format_value(1234, unit="foyers") == f"1{NNBSP}234{NNBSP}foyers"
    assert format_date(dt.date(2026, 11, 29)) == "29/11/2026"
    assert format_date(dt.date(2026, 11, 29), "en") == "2026-11-29"
    assert format_period(dt.date(2020, 10, 1), "month") == "octobre 2020"
    assert format_period(dt.date(2017, 8, 1), "quarter") == "T3 2017"
    assert format_period(dt.date(2017, 8, 1), "quarter", "en") == "Q3 2017"
    assert format_period(dt.date(2019, 1, 1), "year") == "2019"


def test_sqlite_file_path_is_relative_to_the_project_root(sources: dict[str, DataSource]) -> None:
    assert Path(str(sources["sqlite"].engine.url.database)).is_absolute()


def test_rows_tied_on_the_order_come_in_the_order_of_their_groups(tmp_path: Path) -> None:
    """A top-N table whose values tie shows the same rows, in the same order, at every request:
    ties are broken by the grouped columns (DuckDB's parallel aggregation returned them in a
    different order from one run to the next, so the cut of ``limit`` changed the communes shown)."""
    codes = [f"{n:04d}" for n in range(1000, 0, -1)]  # written in descending order, every value equal
    pd.DataFrame({"code": codes, "valeur": 1}).to_csv(tmp_path / "egaux.csv", index=False)
    source = CsvSource("egaux", CsvSource.Config(type="csv", path="egaux.csv", title="Égaux"), tmp_path, DuckRuntime())
    query = Query(
        dataset="egaux",
        measures=(("total", parse_measure("sum(valeur)")),),
        group_by=("code",),
        order_by=(("total", True),),
        limit=5,
    )
    for _ in range(5):
        assert list(source.run(query)["code"]) == ["0001", "0002", "0003", "0004", "0005"]
