"""Helpers of the file sources: a CSV file's encoding, its UTF-8 copy, a lock between the workers
of one machine (converted copies are written once, whoever asks first), the columns each version
of a dataset's files had (read again at start without opening the files)."""

from __future__ import annotations

import codecs
import contextlib
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


def detect_encoding(path: Path, chunk: int = 1 << 20) -> str:
    """`utf-16` (BOM), `utf-8` when the whole file decodes as UTF-8, else `cp1252`."""
    with path.open("rb") as handle:
        head = handle.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while block := handle.read(chunk):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def transcode(source: Path, target: Path, encoding: str) -> Path:
    """Copy ``source`` to ``target`` in UTF-8 (``cp1252`` bytes it does not map: latin-1)."""
    try:
        _transcode(source, target, encoding)
    except UnicodeDecodeError:
        if encoding != "cp1252":
            raise
        _transcode(source, target, "latin-1")
    return target


def _transcode(source: Path, target: Path, encoding: str) -> None:
    with (
        source.open("r", encoding=encoding, newline="") as reader,
        target.open("w", encoding="utf-8", newline="") as writer,
    ):
        while block := reader.read(1 << 20):
            writer.write(block)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes of this machine (and a thread lock inside one)."""
    with _THREAD_LOCK, path.open("a") as handle, _flocked(handle):
        yield


@contextlib.contextmanager
def _flocked(handle: Any) -> Iterator[None]:
    """``handle``'s file locked exclusively (``flock``) while the block runs."""
    fcntl.flock(handle, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)


_THREAD_LOCK = threading.RLock()


IN_MEMORY_BYTES = 8 * 1024 * 1024
"""CSV files up to this size (together) are loaded into memory once per version of the files."""

IN_MEMORY_PARQUET_BYTES = 1024 * 1024
"""Parquet files up to this size (together) too: compressed, they hold several times more rows
than a CSV of the same size (the RSA communes file: 11,040 rows in 5 kB), so the bound is lower;
a big file stays read in place (row groups pruned by the filters, nothing copied per worker)."""


def kept_in_memory(duck: Any, view: str, relation: str, files: list[Path]) -> str:
    """What the view of a file dataset reads: ``relation`` (a ``read_csv(…)`` or
    ``read_parquet(…)``) loaded into a table of the worker's DuckDB (``"<view>_data"``) when its
    files weigh at most :data:`IN_MEMORY_BYTES` (CSV) or :data:`IN_MEMORY_PARQUET_BYTES`
    (Parquet), else ``relation`` itself, read again at each query (a big file is not copied into
    memory).

    Called when the view is (re)built, i.e. when the files change. A CSV read in place is parsed
    whole at every query: 19 ms of CPU per query for the 200 kB RSA file, against 1.3 ms once
    loaded (the KPI comparisons of a filter change ask it several times). A small Parquet file
    read in place costs its footer and decoding at every query: 1.7–2.6 ms for the latest month
    of one commune in the RSA file, 1.0 ms once loaded.
    """
    table = f'"{view}_data"'
    size = sum(path.stat().st_size for path in files)
    parquet = all(path.suffix.lower() == ".parquet" for path in files)
    small = size <= (IN_MEMORY_PARQUET_BYTES if parquet else IN_MEMORY_BYTES)
    if relation.startswith(("read_csv(", "read_parquet(")) and small:
        duck.execute_locked(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {relation}")
        return table
    duck.execute_locked(f"DROP TABLE IF EXISTS {table}")
    return relation


def known_schema(folder: Path, name: str, key: str) -> dict[str, str] | None:
    """The columns remembered by :func:`remember_schema` for dataset ``name`` under ``key``, or None.

    Why: at start every file dataset's columns are checked against its configuration. Reading
    them meant building the dataset's view: loading the small files into memory, and for an
    Excel workbook importing openpyxl and reading the sheet (0.25 s of CPU and ~20 MB per worker
    for the shipped configuration). ``key`` names the files' version (mtime and size), the
    dataset's options and DuckDB's version, so a remembered answer is the one DuckDB gave for
    these very bytes.
    """
    try:
        value = json.loads(_entry(folder, name, key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(value, dict) or value.get("key") != key or not isinstance(value.get("columns"), dict):
        return None
    return {str(column): str(kind) for column, kind in value["columns"].items()}


def shared_schema(
    folder: Path, name: str, key: Callable[[], str], read: Callable[[], dict[str, str]]
) -> dict[str, str]:
    """The columns of dataset ``name``: :func:`known_schema` for its files' version ``key()``, else
    ``read()`` (which reads the files and remembers them) under a lock between the workers.

    Why the lock: on a first start (empty instance folder) the workers start together and each
    read every file (0.3 s of CPU, openpyxl for a workbook); now the first reads a dataset's files
    while the other waits, then finds its answer. Between processes only (``flock``, no thread
    lock: ``read()`` takes the sources' own locks); a read-only folder: no lock, as before.
    """
    known = known_schema(folder, name, key())
    if known:
        return known
    with _between_workers(folder / "schemas" / f"{name}.lock"):
        return known_schema(folder, name, key()) or read()


@contextlib.contextmanager
def _between_workers(path: Path) -> Iterator[None]:
    """:func:`file_lock` between processes only; no lock at all in a read-only folder."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a")
    except OSError:
        yield
        return
    with handle, _flocked(handle):
        yield


def remember_schema(folder: Path, name: str, key: str, columns: dict[str, str]) -> None:
    """Write ``columns`` for ``key`` (atomically) and forget the dataset's older versions; a
    read-only instance folder is not an error (the files are read at each start, as before)."""
    target = _entry(folder, name, key)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"key": key, "columns": columns}), encoding="utf-8")
        os.replace(tmp, target)
        for old in target.parent.glob(f"{name}-*.json"):
            if old != target and old.stem.rsplit("-", 1)[0] == name:
                old.unlink(missing_ok=True)


def _entry(folder: Path, name: str, key: str) -> Path:
    return folder / "schemas" / f"{name}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}.json"
