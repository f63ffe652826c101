"""File datasets (CSV, Parquet, Excel) queried in place through the embedded DuckDB engine.

`path` may be one file or a glob (`data/depots/*.csv`): a folder that a business application
fills. CSV files that DuckDB cannot read as they are (Windows `cp1252` encoding, French numbers
`1 234,5`) are converted once into a Parquet copy in the instance folder, keyed by the files'
fingerprint: every worker shares it and queries stay pushed down.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import logging
import os
import shutil
import threading
from pathlib import Path
from typing import ClassVar, Literal

import duckdb
import pandas as pd
from pydantic import Field

from data_sources import file_helpers
from data_sources.file_helpers import detect_encoding, file_lock, kept_in_memory, transcode
from pilotis.core.query import Query, build_select, compile_for_duckdb, table_for
from pilotis.core.schema import DatasetBase
from pilotis.core.sources import DUCK_TYPES, DataSource, SourceError, register_source

log = logging.getLogger(__name__)


class FileDataset(DatasetBase):
    """Options of every file dataset."""

    path: str
    """Chemin du fichier, relatif à la racine du projet (ou absolu ; `${VAR}` accepté). Un motif (`data/depots/*.csv`)
    lit tous les fichiers d'un dossier alimenté par une application métier : ils doivent avoir les mêmes colonnes."""


class FileSource(DataSource):
    """Common logic: a DuckDB view per dataset, recreated when the file changes."""

    Config: ClassVar[type[DatasetBase]] = FileDataset
    _lock = threading.Lock()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._view_state: tuple[int, str] | None = None
        self._schema: dict[str, str] | None = None

    @property
    def path(self) -> Path:
        """The file on disk (or the glob pattern)."""
        return self.resolve(self.config.path)  # type: ignore[attr-defined]

    @property
    def is_glob(self) -> bool:
        """True when `path` is a pattern matching several files."""
        return glob.has_magic(str(self.path))

    def files(self) -> list[Path]:
        """The files read, sorted (one, or every match of the pattern)."""
        if self.is_glob:
            return sorted(Path(p) for p in glob.glob(str(self.path)) if Path(p).is_file())
        return [self.path] if self.path.is_file() else []

    @property
    def view(self) -> str:
        """Name of the DuckDB view exposing the file."""
        return f"ds_{self.id}"

    def fingerprint(self) -> str:
        if not self.is_glob:
            try:
                stat = self.path.stat()
            except OSError:
                return "absent"
            return f"{stat.st_mtime_ns}-{stat.st_size}"
        stats = []
        for path in self.files():
            with contextlib.suppress(OSError):
                stats.append(path.stat())
        if not stats:
            return "absent"
        newest = max(s.st_mtime_ns for s in stats)
        return f"{len(stats)}-{newest}-{sum(s.st_size for s in stats)}"

    def relation_sql(self) -> str:
        """The DuckDB table function reading the file."""
        raise NotImplementedError

    def _source_sql(self) -> str:
        """The file(s) as a DuckDB literal: `'a.csv'` or `['a.csv', 'b.csv']`."""
        files = self.files()
        if len(files) == 1 and not self.is_glob:
            return _quote(files[0])
        return "[" + ", ".join(_quote(f) for f in files) + "]"

    def _ensure_view(self) -> None:
        if not self.files():
            what = "aucun fichier ne correspond à" if self.is_glob else "fichier introuvable :"
            raise SourceError(f"{what} {self.config.path}", "missing")  # type: ignore[attr-defined]
        state = (id(self.duck.connection()), self.fingerprint())
        if self._view_state == state:
            return
        with self._lock:
            if self._view_state == state:
                return
            try:
                self._create_view()
            except duckdb.Error as exc:
                raise SourceError(
                    f"fichier illisible ({self.config.path}) : {_short(exc)}",  # type: ignore[attr-defined]
                    "malformed",
                ) from exc
            self._view_state = state
            self._schema = None

    def _create_view(self) -> None:
        relation = kept_in_memory(self.duck, self.view, self.relation_sql(), self.files())  # small files
        self.duck.execute_locked(f'CREATE OR REPLACE VIEW "{self.view}" AS SELECT * FROM {relation}')

    def _version(self, fp: str = "") -> str:  # what decides the columns: the files, the options, DuckDB
        return f"{self.type_name} {duckdb.__version__} {self.config.model_dump_json()} {fp or self.fingerprint()}"

    def invalidate(self) -> None:
        self._view_state = None
        self._schema = None

    def schema(self) -> dict[str, str]:
        if self._view_state is None:  # start-up: the columns these files had, remembered or read by one worker
            return file_helpers.shared_schema(self.work_dir(), self.view, self._version, self._described)
        return self._described()

    def _described(self) -> dict[str, str]:
        self._ensure_view()
        if self._schema is None:
            try:
                rows = self.duck.cursor().execute(f'DESCRIBE "{self.view}"').fetchall()
            except duckdb.Error as exc:
                self._view_state = None
                raise SourceError(
                    f"fichier illisible ({self.config.path}) : {_short(exc)}",  # type: ignore[attr-defined]
                    "malformed",
                ) from exc
            self._schema = {row[0]: row[1] for row in rows}
            file_helpers.remember_schema(self.work_dir(), self.view, self._version(self._view_state[1]), self._schema)  # type: ignore[index]
        return self._schema

    def run(self, query: Query) -> pd.DataFrame:
        columns = self.schema()
        self._ensure_view()  # schema() may have answered from memory, without building it
        self.check_columns(query, columns)
        stmt = build_select(query, table_for(self.view, list(columns)), "duckdb")
        sql, params = compile_for_duckdb(stmt)
        try:
            return self.duck.cursor().execute(sql, params).df()
        except duckdb.Error as exc:
            self._view_state = None  # the file may have changed under the view: rebuild it
            kind = "columns" if isinstance(exc, duckdb.BinderException) else "malformed"
            raise SourceError(f"requête impossible sur {self.id} : {_short(exc)}", kind) from exc


def _quote(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _short(exc: Exception) -> str:
    """The first line of a DuckDB error, without the file system details that follow."""
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else exc.__class__.__name__


@register_source
class ParquetSource(FileSource):
    """A Parquet file (or a glob of files): the best format for large datasets."""

    type_name = "parquet"

    class Config(FileDataset):
        """A Parquet dataset."""

        type: Literal["parquet"] = "parquet"
        """Type de source : `parquet`."""

    def relation_sql(self) -> str:
        return f"read_parquet({_quote(self.path)})"


@register_source
class CsvSource(FileSource):
    """A CSV file (or a folder of them), read by DuckDB in place, or once converted to Parquet.

    DuckDB sniffs the separator, the header and the column types. Files it cannot read as they
    are (`cp1252`, decimal commas, thousands separators) are converted once per version of the
    files into `<instance>/sources/<id>-<version>.parquet`, under a file lock (one worker
    converts, the others wait and share the result).
    """

    type_name = "csv"

    class Config(FileDataset):
        """A CSV dataset."""

        type: Literal["csv"] = "csv"
        """Type de source : `csv`."""
        delimiter: str | None = Field(default=None, max_length=1)
        """Séparateur (`,` ou `;`) ; détecté automatiquement si absent."""
        encoding: Literal["auto", "utf-8", "cp1252", "latin-1", "utf-16"] = "auto"
        """Encodage : `auto` (UTF-8, sinon Windows `cp1252` : exports Excel français), `utf-8`, `cp1252`, `latin-1` ou
        `utf-16`."""
        decimal: Literal[".", ","] = "."
        """Séparateur décimal : `,` pour les exports français (`1 234,5` : les espaces de milliers, même insécables,
        sont retirés)."""

    def _encodings(self) -> list[str]:
        cfg = self.config
        if cfg.encoding != "auto":  # type: ignore[attr-defined]
            return [cfg.encoding] * len(self.files())  # type: ignore[attr-defined]
        return [self._detected(path) for path in self.files()]

    def _detected(self, path: Path) -> str:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        found = _DETECTED.get(key)
        if found is None:
            found = detect_encoding(path)
            _DETECTED[key] = found
        return found

    def _needs_conversion(self, encodings: list[str]) -> bool:
        return self.config.decimal == "," or any(  # type: ignore[attr-defined]
            enc not in ("utf-8", "latin-1", "utf-16") for enc in encodings
        )

    def relation_sql(self) -> str:
        encodings = self._encodings()
        if self._needs_conversion(encodings):
            return f"read_parquet({_quote(self._converted(encodings))})"
        return self._read_csv(self._source_sql(), encodings[0] if encodings else "utf-8")

    def _read_csv(self, files_sql: str, encoding: str, *, convert: bool = False) -> str:
        cfg = self.config
        options = ["header = true", f"encoding = '{encoding}'"]
        if cfg.delimiter:  # type: ignore[attr-defined]
            options.append(f"delim = '{cfg.delimiter}'")  # type: ignore[attr-defined]
        if cfg.decimal == ",":  # type: ignore[attr-defined]
            options.append("decimal_separator = ','")
        if self.is_glob:
            options.append("union_by_name = true")
        forced = {
            name: spec.type
            for name, spec in cfg.columns.items()
            if spec.type and not (convert and spec.type in ("integer", "number"))
        }
        if forced:
            pairs = ", ".join(f"'{name}': '{DUCK_TYPES[kind]}'" for name, kind in forced.items())
            options.append(f"types = {{{pairs}}}")
        return f"read_csv({files_sql}, {', '.join(options)})"

    def _converted(self, encodings: list[str]) -> Path:
        """The Parquet copy of the file(s) for their current version (built when missing)."""
        cfg = self.config
        version = hashlib.sha256(
            repr(
                (
                    self.fingerprint(),
                    [str(f) for f in self.files()],
                    encodings,
                    cfg.delimiter,  # type: ignore[attr-defined]
                    cfg.decimal,  # type: ignore[attr-defined]
                    sorted((k, v.type) for k, v in cfg.columns.items()),
                )
            ).encode()
        ).hexdigest()[:16]
        folder = self.work_dir()
        target = folder / f"{self.id}-{version}.parquet"
        if target.exists():
            return target
        with file_lock(folder / f"{self.id}.lock"):
            if target.exists():
                return target
            scratch = folder / f".{self.id}-{version}"
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir(parents=True)
            try:
                inputs = []
                for index, (path, enc) in enumerate(zip(self.files(), encodings, strict=True)):
                    if enc == "utf-8":
                        inputs.append(path)
                    else:
                        inputs.append(transcode(path, scratch / f"{index}.csv", enc))
                files_sql = "[" + ", ".join(_quote(p) for p in inputs) + "]"
                self._write_parquet(self._read_csv(files_sql, "utf-8", convert=True), scratch / "out.parquet")
                os.replace(scratch / "out.parquet", target)
            except (OSError, UnicodeError) as exc:
                raise SourceError(f"fichier illisible ({cfg.path}) : {exc}", "malformed") from exc  # type: ignore[attr-defined]
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            for old in folder.glob(f"{glob.escape(self.id)}-*.parquet"):
                if old != target:
                    old.unlink(missing_ok=True)
            log.info("source %s : CSV converti en %s", self.id, target.name)
        return target

    def _write_parquet(self, relation: str, out: Path) -> None:
        """Normalise French numbers and forced types, then write ``relation`` as Parquet."""
        con = duckdb.connect(":memory:", config={"threads": 2})
        try:
            con.execute(f"CREATE TEMP VIEW src AS SELECT * FROM {relation}")
            columns = con.execute("DESCRIBE src").fetchall()
            decimal = self.config.decimal  # type: ignore[attr-defined]
            number = (
                "^[-+]?([0-9]{1,3}([ \u00a0\u202f][0-9]{3})+|[0-9]+)("
                + ("," if decimal == "," else r"\.")
                + "[0-9]+)?$"
            )
            text = [name for name, kind, *_ in columns if kind == "VARCHAR"]
            probes = {}
            if text:
                parts = []
                for name in text:
                    col = f'trim("{name}")'
                    parts += [
                        f"bool_and({col} IS NULL OR {col} = '' OR regexp_full_match({col}, $pat))",
                        f"bool_or(regexp_full_match({col}, '[-+]?0[0-9]+'))",
                        f"bool_or(contains({col}, '{decimal}'))",
                        f"count({col})",
                    ]
                row = con.execute(f"SELECT {', '.join(parts)} FROM src", {"pat": number}).fetchone()
                assert row is not None
                for i, name in enumerate(text):
                    numeric, leading_zero, has_decimal, count = row[4 * i : 4 * i + 4]
                    probes[name] = bool(numeric and count and not leading_zero), bool(has_decimal)
            select = []
            for name, kind, *_ in columns:
                declared = self.config.columns.get(name)
                wanted = declared.type if declared else None
                ident = f'"{name}"'
                looks_numeric, has_decimal = probes.get(name, (False, False))
                if (
                    kind == "VARCHAR"
                    and (looks_numeric or wanted in ("integer", "number"))
                    and wanted not in ("string", "date", "boolean")
                ):
                    clean = f"regexp_replace(trim({ident}), '[ \u00a0\u202f]', '', 'g')"
                    if decimal == ",":
                        clean = f"replace({clean}, ',', '.')"
                    target = "BIGINT" if wanted == "integer" or (wanted is None and not has_decimal) else "DOUBLE"
                    select.append(f"CAST(NULLIF({clean}, '') AS {target}) AS {ident}")
                elif wanted in ("integer", "number") and kind != DUCK_TYPES[wanted]:
                    select.append(f"CAST({ident} AS {DUCK_TYPES[wanted]}) AS {ident}")
                else:
                    select.append(ident)
            con.execute(f"COPY (SELECT {', '.join(select)} FROM src) TO {_quote(out)} (FORMAT parquet)")
        finally:
            con.close()


_DETECTED: dict[tuple[str, int, int], str] = {}
"""Encodings already detected in this process, keyed by (path, mtime, size)."""


@register_source
class ExcelSource(FileSource):
    """A sheet of an Excel workbook (or of every workbook a pattern matches, stacked), read once
    per change of the file(s) (Excel files are small)."""

    type_name = "excel"

    class Config(FileDataset):
        """An Excel dataset."""

        type: Literal["excel"] = "excel"
        """Type de source : `excel`."""
        sheet: str | int = 0
        """Nom (ou numéro, à partir de 0) de la feuille."""

    def relation_sql(self) -> str:
        return f'"{self.view}_data"'

    def _create_view(self) -> None:
        try:
            frames = [
                pd.read_excel(path, sheet_name=self.config.sheet)  # type: ignore[attr-defined]
                for path in self.files()
            ]
            frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a broken file
            raise SourceError(
                f"classeur illisible ({self.config.path}) : {exc}",  # type: ignore[attr-defined]
                "malformed",
            ) from exc
        con = self.duck.connection()
        with self.duck._lock:
            con.register(f"{self.view}_frame", frame)
            con.execute(f'CREATE OR REPLACE TABLE "{self.view}_data" AS SELECT * FROM "{self.view}_frame"')
            con.unregister(f"{self.view}_frame")
            con.execute(f'CREATE OR REPLACE VIEW "{self.view}" AS SELECT * FROM "{self.view}_data"')
