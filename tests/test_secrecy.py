"""Statistical secrecy in the query path (pilotis/core/secrecy.py, DataService): small counts are
masked after aggregation, secondary suppression protects the totals, exempt roles see exact
counts, and masked results never share a cache entry with exact ones.

The data is a real Parquet file read by DuckDB (and, with ``PILOTIS_TEST_PG``, the same rows in a
PostgreSQL table read by the SQL source: the asked query — hidden counts, parent column in the
GROUP BY, no ORDER/LIMIT — must run there too).

Households per commune at one month (threshold 5):

=====  ================================  =====================================================
EPCI   communes (count)                  expected
=====  ================================  =====================================================
E1     c11=3  c12=40  c13=8  c14=60      c11 primary; c13 secondary (smallest other: 3+8 ≥ 5)
E2     c21=1  c22=2  c23=6  c24=100      c21, c22 primary (1+2 < 5): c23 secondary
E3     c31=0  c32=50  c33=70             0 is « no household », shown; nothing masked
E4     c41=4                             c41 primary (alone: its EPCI's total is 4, masked too,
                                         and E2's total, the smallest other EPCI, secondary)
=====  ================================  =====================================================
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa

from data_sources.files import ParquetSource
from data_sources.sql import SqlSource
from pilotis.core.cache import FileCache, TieredCache, TTLCache
from pilotis.core.data import DataService
from pilotis.core.measures import parse_measure
from pilotis.core.query import PERIOD, Filter, Query
from pilotis.core.secrecy import SECRET, as_text, is_exempt
from pilotis.core.sources import DataSource, DuckRuntime, SourceError
from tests.test_config_errors import SOLIDARITES, Project

COUNTS = {
    "E1": {"c11": 3, "c12": 40, "c13": 8, "c14": 60},
    "E2": {"c21": 1, "c22": 2, "c23": 6, "c24": 100},
    "E3": {"c31": 0, "c32": 50, "c33": 70},
    "E4": {"c41": 4},
}
EPCI = {c: e for e, communes in COUNTS.items() for c in communes}
MONTHS = (dt.date(2020, 9, 1), dt.date(2020, 10, 1))
OCT = MONTHS[1]
MASKED = {"c11", "c13", "c21", "c22", "c23", "c41"}
RULE = {"columns": ["foyers"], "threshold": 5, "exempt_roles": ["admin"]}


def _rows() -> pd.DataFrame:
    """Two months; September has the same counts plus 10 (nothing small), October the table above."""
    rows = []
    for month in MONTHS:
        for epci, communes in COUNTS.items():
            for code, count in communes.items():
                foyers = count if month == OCT else count + 10
                rows.append({"commune": code, "epci": epci, "mois": month, "foyers": foyers, "habitants": 1000})
    return pd.DataFrame(rows)


def _config(cls: type[DataSource], **extra: Any) -> Any:
    rule = {**RULE, **extra.pop("rule", {})}
    return cls.Config(
        title="Foyers",
        territory={"commune": "commune", "epci": "epci"},
        period={"column": "mois", "grain": "month", "kind": "stock"},
        sensitivity={"statistical_secrecy": rule},
        **extra,
    )


def _engines() -> list[str]:
    return ["duckdb", "postgresql"] if os.environ.get("PILOTIS_TEST_PG") else ["duckdb"]


@pytest.fixture(scope="module", params=_engines())
def folder(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The rows as a Parquet file (DuckDB) or a PostgreSQL table."""
    path = tmp_path_factory.mktemp("secret")
    frame = _rows()
    if request.param == "duckdb":
        duckdb.sql(
            "SELECT commune, epci, CAST(mois AS DATE) AS mois, CAST(foyers AS BIGINT) AS foyers, "
            "CAST(habitants AS BIGINT) AS habitants FROM frame"
        ).write_parquet(str(path / "foyers.parquet"))
    else:
        engine = sa.create_engine(os.environ["PILOTIS_TEST_PG"])
        frame.to_sql("secret_foyers", engine, if_exists="replace", index=False)
        engine.dispose()
    return request.param, path


OPENED: list[SqlSource] = []


@pytest.fixture(autouse=True)
def _close_sources() -> Any:
    """Each SQL source's connections closed after its test."""
    yield
    while OPENED:
        OPENED.pop().engine.dispose()


def _source(folder: tuple[str, Path], **extra: Any) -> DataSource:
    engine, path = folder
    if engine == "duckdb":
        config = _config(ParquetSource, type="parquet", path="foyers.parquet", **extra)
        return ParquetSource("foyers", config, path, DuckRuntime())
    config = _config(SqlSource, type="sql", url=os.environ["PILOTIS_TEST_PG"], table="secret_foyers", **extra)
    OPENED.append(SqlSource("foyers", config, path, DuckRuntime()))
    return OPENED[-1]


def _query(**options: Any) -> Query:
    measures = options.pop("measures", {"n": "sum(foyers)"})
    return Query(
        dataset="foyers",
        measures=tuple((alias, parse_measure(text)) for alias, text in measures.items()),
        filters=options.pop("filters", (Filter("mois", "=", OCT),)),
        period_column="mois",
        period_grain="month",
        native_grain="month",
        **options,
    )


def _by_commune(frame: pd.DataFrame, column: str = "n") -> dict[str, Any]:
    return {str(c): (None if pd.isna(v) else float(v)) for c, v in zip(frame["commune"], frame[column], strict=True)}


def test_primary_and_secondary_suppression(folder: tuple[str, Path]) -> None:
    """Counts 1–4 masked; in each EPCI at least two masked cells adding up to 5 or more; zero shown."""
    frame = DataService({"foyers": _source(folder)}).query(_query(group_by=("commune",)))
    values = _by_commune(frame)
    assert {c for c, v in values.items() if v is None} == MASKED
    assert set(frame.loc[frame[SECRET], "commune"]) == MASKED
    exact = {c: float(v) for communes in COUNTS.values() for c, v in communes.items()}
    assert all(values[c] == exact[c] for c in exact if c not in MASKED)  # the others exact
    assert values["c31"] == 0.0  # « aucun foyer » is not a secret by default
    assert list(frame.columns) == ["commune", "n", SECRET]  # no hidden count, no parent column left


def test_no_total_minus_the_visible_cells_gives_a_masked_one(folder: tuple[str, Path]) -> None:
    """The EPCI totals are shown (their own query): minus the visible communes, what is left is
    never one cell, and never less than the threshold."""
    data = DataService({"foyers": _source(folder)})
    values = _by_commune(data.query(_query(group_by=("commune",))))
    for epci, communes in COUNTS.items():
        total = data.query(_query(filters=(Filter("mois", "=", OCT), Filter("epci", "=", epci))))
        hidden = [c for c in communes if values[c] is None]
        if epci in ("E2", "E4"):
            # E4 (one commune of 4) is small, masked; then the EPCIs' grid needs a second masked
            # EPCI, or the département's total minus the others would give E4: the smallest, E2
            assert total[SECRET].iloc[0] and pd.isna(total["n"].iloc[0]), epci
            continue
        left = float(total["n"].iloc[0]) - sum(values[c] for c in communes if values[c] is not None)
        assert len(hidden) in (0, 2, 3), epci
        assert not hidden or left >= 5, epci


def test_a_commune_asked_alone_is_masked_as_in_the_grid(folder: tuple[str, Path]) -> None:
    """A secondary cell stays masked on its own page (KPI of one commune) and in a list of
    communes: the same cells are masked whatever the query (else the grid's total would leak)."""
    data = DataService({"foyers": _source(folder)})
    for code in ("c13", "c23", "c12"):
        alone = data.query(_query(filters=(Filter("mois", "=", OCT), Filter("commune", "=", code))))
        assert len(alone) == 1
        assert pd.isna(alone["n"].iloc[0]) == (code in MASKED), code
    listed = data.query(
        _query(group_by=("commune",), filters=(Filter("mois", "=", OCT), Filter("commune", "in", ("c12", "c13"))))
    )
    assert _by_commune(listed) == {"c12": 40.0, "c13": None}
    series = data.query(_query(group_by=(PERIOD,), filters=(Filter("commune", "=", "c13"),)))
    assert [pd.isna(v) for v in series["n"]] == [False, True]  # September: 18, not small


def test_the_communes_of_one_grid_ask_the_source_once_and_see_only_their_rows(folder: tuple[str, Path]) -> None:
    """A filter change to another commune of the same month picks its row from the masked grid
    the process already holds (no new source query, no new masking); a viewer whose row rule
    keeps one EPCI gets that EPCI's communes only from the same grid; a manual refresh asks the
    source again."""
    source = _source(folder)
    asked: list[Query] = []
    run = source.run

    def counted(query: Query) -> pd.DataFrame:
        asked.append(query)
        return run(query)

    source.run = counted  # type: ignore[method-assign]
    data = DataService({"foyers": source})
    for code in ("c13", "c23", "c12"):
        alone = data.query(_query(filters=(Filter("mois", "=", OCT), Filter("commune", "=", code))))
        assert pd.isna(alone["n"].iloc[0]) == (code in MASKED), code
    assert len(asked) == 1
    every = data.query(_query(group_by=("commune",), filters=(Filter("mois", "=", OCT),)))
    rule = data.query(_query(group_by=("commune",), filters=(Filter("mois", "=", OCT), Filter("epci", "=", "E1"))))
    assert _by_commune(rule) == {"c11": None, "c12": 40.0, "c13": None, "c14": 60.0}
    assert len(every) == 12 and len(asked) == 2  # the list of communes: a grid of its own, shared
    data.refresh("foyers")
    data.query(_query(filters=(Filter("mois", "=", OCT), Filter("commune", "=", "c14"))))
    assert len(asked) == 3


def test_a_grid_built_by_one_worker_is_read_by_the_others(folder: tuple[str, Path], tmp_path: Path) -> None:
    """Two workers sharing the file cache: the second one's first commune of a month is picked
    from the grid the first one built and masked (no source query of its own), with the same
    masked cells and the same values as if it had built it; a manual refresh asks again."""
    asked: list[Query] = []

    def worker() -> DataService:
        source = _source(folder)
        run = source.run

        def counted(query: Query) -> pd.DataFrame:
            asked.append(query)
            return run(query)

        source.run = counted  # type: ignore[method-assign]
        return DataService({"foyers": source}, TieredCache(FileCache(tmp_path / "cache")))

    first, second = worker(), worker()
    alone = {code: _query(filters=(Filter("mois", "=", OCT), Filter("commune", "=", code))) for code in COUNTS["E2"]}
    first.query(alone["c21"])
    assert len(asked) == 1
    for code in ("c22", "c23", "c24"):
        shared = second.query(alone[code])
        assert len(asked) == 1, code  # the second worker did not ask the source
        own = DataService({"foyers": _source(folder)}).query(alone[code])  # built by itself
        pd.testing.assert_frame_equal(shared, own)
        assert pd.isna(shared["n"].iloc[0]) == (code in MASKED), code
    second.refresh("foyers")
    second.query(alone["c21"])
    assert len(asked) == 2


@pytest.mark.parametrize("shared", [False, True], ids=["memory", "file+front"])
def test_a_failing_source_shows_the_last_good_masked_rows(
    folder: tuple[str, Path], tmp_path: Path, shared: bool
) -> None:
    """The source fails after a commune was asked: every commune of the same grid (that one, and
    one never asked before) is shown from the last good masked grid, masked as it was, with the
    stale notice; another worker sharing the cache too. The rows picked are not written to the
    shared cache: the grid is, once fresh and once as the last good copy."""
    now = [1_800_000_000.0]
    failing = [False]

    def worker() -> DataService:
        source = _source(folder, ttl=60, retry=30)
        run = source.run

        def flaky(query: Query) -> pd.DataFrame:
            if failing[0]:
                raise SourceError("source foyers injoignable", "unreachable")
            return run(query)

        source.run = flaky  # type: ignore[method-assign]
        cache: Any = (
            TieredCache(FileCache(tmp_path / "cache", clock=lambda: now[0]), TTLCache(clock=lambda: now[0]))
            if shared
            else TTLCache(clock=lambda: now[0])
        )
        return DataService({"foyers": source}, cache, clock=lambda: now[0])

    alone = {code: _query(filters=(Filter("mois", "=", OCT), Filter("commune", "=", code))) for code in COUNTS["E1"]}
    data = worker()
    assert pd.isna(data.query(alone["c13"])["n"].iloc[0])
    assert data.query(alone["c12"])["n"].iloc[0] == 40.0
    if shared:
        assert len(list((tmp_path / "cache" / "q_foyers").iterdir())) == 1  # the grid, no picked rows
        assert len(list((tmp_path / "cache" / "good_foyers").iterdir())) == 1
    now[0] += 61
    failing[0] = True
    others = [data, worker()] if shared else [data]
    for service in others:
        reads: list[str] = []
        get = service.cache.get

        def counted(key: str, get: Any = get, reads: list[str] = reads) -> Any:
            reads.append(key)
            return get(key)

        service.cache.get = counted
        for code, expected in (("c13", None), ("c12", 40.0), ("c14", 60.0), ("c11", None)):
            stale = service.query(alone[code])
            value = stale["n"].iloc[0]
            assert (None if pd.isna(value) else float(value)) == expected, code
            assert bool(stale[SECRET].iloc[0]) == (expected is None)
            assert stale.attrs["stale_since"] == 1_800_000_000.0
            assert stale.attrs["error"] == "source foyers injoignable"
        assert len([key for key in reads if key.startswith("good:")]) == 1  # the grid read once
    assert data.last_status("foyers").failing
    with pytest.raises(SourceError):  # never answered for another month: nothing to show
        data.query(_query(filters=(Filter("mois", "=", MONTHS[0]), Filter("commune", "=", "c13"))))


def test_every_measure_reading_the_count_is_masked_and_only_those(folder: tuple[str, Path]) -> None:
    """A ratio (households per 1,000 inhabitants) would give the count back: masked too; a measure
    that does not read a protected column (inhabitants) is not."""
    data = DataService({"foyers": _source(folder)})
    measures = {"taux": "sum(foyers) * 1000 / sum(habitants)", "habitants": "sum(habitants)"}
    frame = data.query(_query(group_by=("commune",), measures=measures))
    masked = frame.set_index("commune")
    assert masked.loc[sorted(MASKED), "taux"].isna().all()
    assert (masked["habitants"] == 1000).all()


def test_order_and_limit_never_place_a_masked_cell_by_its_value(folder: tuple[str, Path]) -> None:
    """Sorted ascending, the small counts would come first: masked rows come last, in code order."""
    data = DataService({"foyers": _source(folder)})
    frame = data.query(_query(group_by=("commune",), order_by=(("n", False),)))
    assert list(frame["commune"])[-len(MASKED) :] == sorted(MASKED)
    first = data.query(_query(group_by=("commune",), order_by=(("n", False),), limit=3))
    assert list(first["commune"]) == ["c31", "c12", "c32"]  # 0, 40, 50: never c21 (1)
    page = data.query(_query(group_by=("commune",), order_by=(("n", True),), limit=2, offset=12))
    assert set(page["commune"]) <= MASKED


def test_an_exempt_role_sees_exact_counts_in_its_own_cache_entries(folder: tuple[str, Path]) -> None:
    """`unmasked` (set by Scope for an exempt role) is part of the query, hence of the cache key:
    the exact answer is never served to a masked query, nor the reverse."""
    source = _source(folder)
    data = DataService({"foyers": source})
    masked = data.query(_query(group_by=("commune",)))
    exact = data.query(_query(group_by=("commune",), unmasked=True))
    again = data.query(_query(group_by=("commune",)))
    assert SECRET not in exact.columns and _by_commune(exact)["c21"] == 1.0
    assert _by_commune(again)["c21"] is None and _by_commune(masked) == _by_commune(again)

    class Who:
        roles = frozenset({"agent"})

    class Admin:
        roles = frozenset({"admin"})

    assert not is_exempt(source.config, Who()) and is_exempt(source.config, Admin())


def test_zeros_can_be_secret_too(folder: tuple[str, Path]) -> None:
    """`zeros: true`: a count of 0 is masked, with a secondary cell in its EPCI."""
    data = DataService({"foyers": _source(folder, rule={"zeros": True})})
    values = _by_commune(data.query(_query(group_by=("commune",))))
    assert values["c31"] is None and values["c32"] is None and values["c33"] == 70.0


def test_raw_rows_are_masked_too(folder: tuple[str, Path]) -> None:
    """The catalogue's preview (raw rows): a small count in a row is masked like a cell."""
    data = DataService({"foyers": _source(folder)})
    rows = data.query(
        Query(
            dataset="foyers",
            measures=(),
            raw_columns=("commune", "mois", "foyers"),
            filters=(Filter("mois", "=", OCT),),
            limit=100,
        )
    )
    shown = _by_commune(rows, "foyers")
    assert shown["c21"] is None and shown["c11"] is None and shown["c12"] == 40.0
    text, label = as_text(rows)
    assert label == "< 5" and SECRET not in text.columns
    assert text.set_index("commune").loc["c21", "foyers"] == "< 5"


def test_a_flow_is_protected_within_each_year(tmp_path: Path) -> None:
    """A flow's months add up to its year (the KPI of the year): a month masked alone in a year
    gets a second masked month of the same year."""
    frame = pd.DataFrame(  # noqa: F841 - read by name by DuckDB below
        {
            "commune": ["a"] * 4,
            "epci": ["E"] * 4,
            "mois": [dt.date(2020, 1, 1), dt.date(2020, 2, 1), dt.date(2020, 3, 1), dt.date(2021, 1, 1)],
            "foyers": [2, 30, 9, 40],
        }
    )
    duckdb.sql("SELECT commune, epci, CAST(mois AS DATE) AS mois, foyers FROM frame").write_parquet(
        str(tmp_path / "flux.parquet")
    )
    config = ParquetSource.Config(
        type="parquet",
        path="flux.parquet",
        title="Flux",
        territory={"commune": "commune", "epci": "epci"},
        period={"column": "mois", "grain": "month", "kind": "flow"},
        sensitivity={"statistical_secrecy": RULE},
    )
    data = DataService({"foyers": ParquetSource("foyers", config, tmp_path, DuckRuntime())})
    series = data.query(_query(group_by=(PERIOD,), filters=(Filter("commune", "=", "a"),)))
    assert [pd.isna(v) for v in series["n"]] == [True, False, True, False]  # 2 and 9 (2020), not 2021


def test_a_rule_is_checked_at_load_and_errors_name_file_line_and_column(tmp_path: Path) -> None:
    """An unknown column or role, or a threshold below 2: the loader's French report, at its place."""
    project = Project(tmp_path)
    rule = "columns: [foyers_allocataires], threshold: 5, exempt_roles: [admin]"
    project.edit(SOLIDARITES, rule, "columns: [foyers_alocataires], threshold: 5, exempt_roles: [statisticien]")
    issues = sorted(project.issues(), key=lambda i: i.col)
    assert [(i.line, i.col) for i in issues] == [
        project.locate(SOLIDARITES, "foyers_alocataires"),
        project.locate(SOLIDARITES, "statisticien"),
    ]
    assert "colonne `foyers_alocataires` absente" in issues[0].message and "foyers_allocataires" in issues[0].hint
    assert "rôle `statisticien` inconnu" in issues[1].message and "admin" in issues[1].hint
    project = Project(tmp_path / "seuil")
    project.edit(SOLIDARITES, "threshold: 5", "threshold: 1")
    (issue,) = project.issues()
    assert (issue.line, issue.col) == project.locate(SOLIDARITES, "1, exempt_roles")
    assert str(issue).startswith(f"{issue.path}:{issue.line}:{issue.col}: ") and "2" in issue.message
