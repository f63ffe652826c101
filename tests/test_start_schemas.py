"""A restarted worker knows each file dataset's columns without reading the files again.

At start the configuration is checked against every file dataset's columns. Reading them meant
loading each small file into the worker's DuckDB, and for an Excel workbook importing openpyxl
and reading the sheet: 0.2–0.5 s of CPU and ~20 MB per worker on the shipped configuration. The
columns of a version of the files (mtime, size, the dataset's options) are remembered in the
instance folder; a new version is read again.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

import pandas as pd

from data_sources.files import CsvSource, ExcelSource
from pilotis.core.measures import parse_measure
from pilotis.core.query import Query
from pilotis.core.sources import DuckRuntime


def worker(cls, tmp_path: Path, **options):  # type: ignore[no-untyped-def]
    """The dataset as a new worker sees it: its own DuckDB, the installation's instance folder."""
    config = cls.Config(title="Essai", **options)
    return cls("essai", config, tmp_path, DuckRuntime(work_dir=tmp_path / "instance" / "sources"))


def copies_in_memory(src) -> int:  # type: ignore[no-untyped-def]
    return src.duck.cursor().execute("SELECT count(*) FROM duckdb_tables()").fetchall()[0][0]


def total(src, measure: str) -> float:  # type: ignore[no-untyped-def]
    return float(src.run(Query("essai", (("v", parse_measure(measure)),))).iloc[0]["v"])


def test_a_restarted_worker_knows_the_columns_of_a_workbook_without_reading_it(tmp_path: Path) -> None:
    pd.DataFrame({"code_insee": ["53130", "53001"], "objectif": [12, 30]}).to_excel(tmp_path / "o.xlsx", index=False)
    first = worker(ExcelSource, tmp_path, path="o.xlsx")
    columns = first.schema()
    assert set(columns) == {"code_insee", "objectif"}

    restarted = worker(ExcelSource, tmp_path, path="o.xlsx")
    assert restarted.schema() == columns
    assert copies_in_memory(restarted) == 0  # the sheet was not read to answer
    assert total(restarted, "sum(objectif)") == 42  # the first query reads it
    assert copies_in_memory(restarted) == 1


def test_a_file_changed_between_two_starts_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("code_insee,montant\n53130,1\n", encoding="utf-8")
    assert set(worker(CsvSource, tmp_path, path="d.csv").schema()) == {"code_insee", "montant"}

    path.write_text("code_insee,montant,effectif\n53130,1,5\n53001,2,7\n", encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    restarted = worker(CsvSource, tmp_path, path="d.csv")
    assert set(restarted.schema()) == {"code_insee", "montant", "effectif"}
    assert total(restarted, "sum(effectif)") == 12
    remembered = list((tmp_path / "instance" / "sources" / "schemas").glob("*.json"))
    assert len(remembered) == 1  # the first version's columns are forgotten, not piled up


def test_other_options_on_the_same_file_are_read_again(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("code_insee,montant\n53130,1\n", encoding="utf-8")
    assert worker(CsvSource, tmp_path, path="d.csv").schema()["code_insee"] == "BIGINT"  # sniffed
    declared = worker(CsvSource, tmp_path, path="d.csv", columns={"code_insee": {"type": "string"}})
    assert declared.schema()["code_insee"] == "VARCHAR"


def test_on_a_first_start_one_worker_reads_the_files_and_the_other_uses_its_answer(tmp_path: Path) -> None:
    pd.DataFrame({"code_insee": ["53130", "53001"], "objectif": [12, 30]}).to_excel(tmp_path / "o.xlsx", index=False)
    first, other = worker(ExcelSource, tmp_path, path="o.xlsx"), worker(ExcelSource, tmp_path, path="o.xlsx")
    lock = tmp_path / "instance" / "sources" / "schemas" / "ds_essai.lock"
    lock.parent.mkdir(parents=True)
    answers: list[dict[str, str]] = []
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # the first worker is reading the workbook…
        waiting = threading.Thread(target=lambda: answers.append(other.schema()))
        waiting.start()
        columns = first._described()
        fcntl.flock(handle, fcntl.LOCK_UN)
    waiting.join(30)
    assert answers == [columns]
    assert copies_in_memory(other) == 0  # …the other waited and did not read it again
