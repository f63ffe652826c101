"""File sources against real files in temporary folders: CSV (cp1252, `;`, French decimals),
Excel, Parquet, a folder of files refreshed by a business application, broken files."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pandas as pd
import pytest

from data_sources import file_helpers
from data_sources.files import CsvSource, ExcelSource, ParquetSource, detect_encoding
from pilotis.core.measures import parse_measure
from pilotis.core.query import PERIOD, Filter, Query
from pilotis.core.sources import DuckRuntime, SourceError

FRENCH_CSV = (
    "code_insee;commune;date;montant;effectif\r\n"
    "53001;Ahuillé;01/01/2024;1 234,5;12\r\n"
    "53130;Laval;01/01/2024;12\u00a0345\u00a0678,25;1 200\r\n"
    "53130;Laval;01/02/2024;-3,75;1\r\n"
    "01004;Château-Gontier (Œuvre – ‘test’);01/02/2024;0,5;\r\n"
)


def source(cls, tmp_path: Path, **options):  # type: ignore[no-untyped-def]
    config = cls.Config(title="Essai", **options)
    return cls("essai", config, tmp_path, DuckRuntime(work_dir=tmp_path / "instance" / "sources"))


def total(src, measure: str = "sum(montant)", **kwargs) -> float:  # type: ignore[no-untyped-def]
    frame = src.run(Query("essai", (("v", parse_measure(measure)),), **kwargs))
    return float(frame.iloc[0]["v"])


def test_cp1252_semicolon_french_decimals(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(FRENCH_CSV.encode("cp1252"))
    assert detect_encoding(path) == "cp1252"
    src = source(
        CsvSource,
        tmp_path,
        path="export.csv",
        decimal=",",
        columns={"code_insee": {"type": "string"}, "date": {"type": "date"}},
    )
    schema = src.schema()
    assert schema["montant"] == "DOUBLE" and schema["effectif"] == "BIGINT"
    assert schema["code_insee"] == "VARCHAR" and schema["date"] == "DATE"
    assert total(src) == pytest.approx(1234.5 + 12_345_678.25 - 3.75 + 0.5)
    assert total(src, "sum(effectif)") == 1213
    names = src.run(Query("essai", (("n", parse_measure("count(*)")),), group_by=("commune",)))
    assert "Château-Gontier (Œuvre – ‘test’)" in set(names["commune"])  # cp1252-only characters
    laval = src.run(
        Query(
            "essai",
            (("v", parse_measure("sum(montant)")),),
            filters=(Filter("code_insee", "=", "53130"),),
        )
    )
    assert laval.iloc[0]["v"] == pytest.approx(12_345_674.5)
    monthly = src.run(
        Query(
            "essai",
            (("v", parse_measure("sum(montant)")),),
            group_by=(PERIOD,),
            period_column="date",
            period_grain="month",
            native_grain="day",
        )
    )
    assert [pd.Timestamp(d).date() for d in monthly[PERIOD]] == [
        dt.date(2024, 1, 1),
        dt.date(2024, 2, 1),
    ]
    # converted once, into the instance folder, and reused by another process's source object
    copies = list((tmp_path / "instance" / "sources").glob("essai-*.parquet"))
    assert len(copies) == 1
    again = source(
        CsvSource,
        tmp_path,
        path="export.csv",
        decimal=",",
        columns={"code_insee": {"type": "string"}, "date": {"type": "date"}},
    )
    mtime = copies[0].stat().st_mtime_ns
    assert total(again) == pytest.approx(total(src))
    assert copies[0].stat().st_mtime_ns == mtime


def test_leading_zero_codes_stay_text_without_declaration(tmp_path: Path) -> None:
    (tmp_path / "codes.csv").write_bytes("code;valeur\n01004;1 000,5\n53130;2\n".encode("cp1252"))
    src = source(CsvSource, tmp_path, path="codes.csv", decimal=",")
    assert src.schema()["code"] == "VARCHAR"
    assert total(src, "sum(valeur)") == pytest.approx(1002.5)


def test_utf8_csv_is_read_in_place(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("commune,montant\nLaval,1.5\nÉvron,2\n", encoding="utf-8")
    src = source(CsvSource, tmp_path, path="a.csv")
    assert total(src) == 3.5
    assert "read_csv" in src.relation_sql()  # no conversion needed
    assert not list((tmp_path / "instance" / "sources").glob("*.parquet"))


def test_file_change_is_seen_and_old_copy_removed(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("agence;montant\nNord;1,5\n".encode("cp1252"))
    src = source(CsvSource, tmp_path, path="export.csv", decimal=",")
    assert total(src) == 1.5
    fingerprint = src.fingerprint()
    path.write_bytes("agence;montant\nNord;1,5\nSud;2 000,5\n".encode("cp1252"))
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
    assert src.fingerprint() != fingerprint
    assert total(src) == 2002.0
    assert len(list((tmp_path / "instance" / "sources").glob("essai-*.parquet"))) == 1


def test_excel_sheet(tmp_path: Path) -> None:
    frame = pd.DataFrame({"service": ["A", "B", "A"], "agents": [3, 4, 5]})
    with pd.ExcelWriter(tmp_path / "rh.xlsx") as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="Notes", index=False)
        frame.to_excel(writer, sheet_name="Effectifs", index=False)
    src = source(ExcelSource, tmp_path, path="rh.xlsx", sheet="Effectifs")
    result = src.run(Query("essai", (("n", parse_measure("sum(agents)")),), group_by=("service",)))
    assert result.set_index("service")["n"].to_dict() == {"A": 8, "B": 4}


def test_parquet(tmp_path: Path) -> None:
    pd.DataFrame({"capteur": ["a", "b", "a"], "mesure": [1.0, 2.0, 4.0]}).to_parquet(tmp_path / "m.parquet")
    src = source(ParquetSource, tmp_path, path="m.parquet")
    assert total(src, "avg(mesure)", filters=(Filter("capteur", "=", "a"),)) == 2.5


def test_folder_of_files_refreshed_by_an_application(tmp_path: Path) -> None:
    depots = tmp_path / "depots"
    depots.mkdir()
    (depots / "2024-01.csv").write_bytes("agence;montant\nNord;1 000,5\n".encode("cp1252"))
    src = source(CsvSource, tmp_path, path="depots/*.csv", decimal=",")
    assert total(src) == 1000.5
    before = src.fingerprint()
    (depots / "2024-02.csv").write_bytes("agence;montant\nSud;2,5\n".encode("cp1252"))
    assert src.fingerprint() != before  # count + newest mtime + size
    assert total(src) == 1003.0
    parquet_dir = tmp_path / "pq"
    parquet_dir.mkdir()
    for i in range(3):
        pd.DataFrame({"v": [i]}).to_parquet(parquet_dir / f"{i}.parquet")
    assert total(source(ParquetSource, tmp_path, path="pq/*.parquet"), "sum(v)") == 3


def test_missing_and_malformed_files_are_source_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as missing:
        source(CsvSource, tmp_path, path="absent.csv").schema()
    assert missing.value.kind == "missing"
    with pytest.raises(SourceError) as empty_folder:
        source(CsvSource, tmp_path, path="vide/*.csv").schema()
    assert empty_folder.value.kind == "missing"
    (tmp_path / "bad.parquet").write_bytes(b"not a parquet file at all")
    with pytest.raises(SourceError) as broken:
        source(ParquetSource, tmp_path, path="bad.parquet").schema()
    assert broken.value.kind == "malformed"
    (tmp_path / "bad.xlsx").write_bytes(b"PK\x03\x04 broken zip")
    with pytest.raises(SourceError) as excel:
        source(ExcelSource, tmp_path, path="bad.xlsx").schema()
    assert excel.value.kind == "malformed"


def test_changed_columns(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("commune,montant\nLaval,1\n", encoding="utf-8")
    src = source(CsvSource, tmp_path, path="a.csv")
    assert total(src) == 1
    path.write_text("commune,montant_total\nLaval,1\n", encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
    with pytest.raises(SourceError) as changed:
        total(src)
    assert changed.value.kind == "columns" and "montant" in str(changed.value)


def test_a_small_parquet_file_is_read_once_per_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A small Parquet file is loaded into the worker's DuckDB once per version: queries no
    longer read the file (here overwritten with bytes of the same size and date, which a read
    would reject); a new version is read at the next query; a file past the limit is read in place."""
    path = tmp_path / "a.parquet"
    pd.DataFrame({"commune": ["Laval"], "montant": [1]}).to_parquet(path)
    src = source(ParquetSource, tmp_path, path="a.parquet")
    assert total(src) == 1
    stat = path.stat()
    path.write_bytes(b"x" * stat.st_size)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert total(src) == 1
    pd.DataFrame({"commune": ["Laval", "Evron"], "montant": [1, 4]}).to_parquet(path)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
    assert total(src) == 5
    monkeypatch.setattr(file_helpers, "IN_MEMORY_PARQUET_BYTES", 40)
    pd.DataFrame({"commune": ["Laval"], "montant": [3]}).to_parquet(path)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 2_000_000_000))
    assert total(src) == 3
    stat = path.stat()
    path.write_bytes(b"x" * stat.st_size)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(SourceError):
        total(src)  # read in place: the file as it is now


def test_a_utf8_csv_that_grows_past_the_in_memory_size_is_read_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small CSV files are loaded into memory once per version (fast repeated queries); a file
    that grows past the limit is read in place again, and each version's rows are the ones seen."""
    monkeypatch.setattr(file_helpers, "IN_MEMORY_BYTES", 40)
    path = tmp_path / "a.csv"
    path.write_text("commune,montant\nLaval,1\n", encoding="utf-8")
    src = source(CsvSource, tmp_path, path="a.csv")
    assert total(src) == 1
    path.write_text("commune,montant\nLaval,1\nChangé,2\nEvron,4\n", encoding="utf-8")  # over 40 bytes
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
    assert total(src) == 7
    path.write_text("commune,montant\nLaval,3\n", encoding="utf-8")  # small again
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 2_000_000_000))
    assert total(src) == 3
