"""File datasets (CSV, Parquet, Excel) queried in place through the embedded DuckDB engine."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import ClassVar, Literal

import duckdb
import pandas as pd
from pydantic import Field

from pilotis.query import Query, build_select, compile_for_duckdb, table_for
from pilotis.schema import DatasetBase
from pilotis.sources import DataSource, SourceError, register_source

_DUCK_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "date": "DATE",
    "boolean": "BOOLEAN",
}


class FileDataset(DatasetBase):
    """Options of every file dataset."""

    path: str
    """Chemin du fichier, relatif à la racine du projet (ou absolu ; `${VAR}` accepté)."""


class FileSource(DataSource):
    """Common logic: a DuckDB view per dataset, recreated when the file changes."""

    Config: ClassVar[type[DatasetBase]] = FileDataset
    _lock = threading.Lock()

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._view_state: tuple[int, str] | None = None
        self._schema: dict[str, str] | None = None

    @property
    def path(self) -> Path:
        """The file on disk."""
        return self.resolve(self.config.path)  # type: ignore[attr-defined]

    @property
    def view(self) -> str:
        """Name of the DuckDB view exposing the file."""
        return f"ds_{self.id}"

    def fingerprint(self) -> str:
        try:
            stat = self.path.stat()
        except OSError:
            return "absent"
        return f"{stat.st_mtime_ns}-{stat.st_size}"

    def relation_sql(self) -> str:
        """The DuckDB table function reading the file."""
        raise NotImplementedError

    def _ensure_view(self) -> None:
        if not self.path.exists():
            raise SourceError(f"fichier introuvable : {self.config.path}")  # type: ignore[attr-defined]
        state = (id(self.duck.connection()), self.fingerprint())
        if self._view_state == state:
            return
        with self._lock:
            if self._view_state == state:
                return
            self._create_view()
            self._view_state = state
            self._schema = None

    def _create_view(self) -> None:
        self.duck.execute_locked(
            f'CREATE OR REPLACE VIEW "{self.view}" AS SELECT * FROM {self.relation_sql()}'
        )

    def schema(self) -> dict[str, str]:
        self._ensure_view()
        if self._schema is None:
            try:
                rows = self.duck.cursor().execute(f'DESCRIBE "{self.view}"').fetchall()
            except duckdb.Error as exc:
                raise SourceError(f"fichier illisible ({self.config.path}) : {exc}") from exc  # type: ignore[attr-defined]
            self._schema = {row[0]: row[1] for row in rows}
        return self._schema

    def run(self, query: Query) -> pd.DataFrame:
        columns = self.schema()
        stmt = build_select(query, table_for(self.view, list(columns)), "duckdb")
        sql, params = compile_for_duckdb(stmt)
        try:
            return self.duck.cursor().execute(sql, params).df()
        except duckdb.Error as exc:
            raise SourceError(f"requête impossible sur {self.id} : {exc}") from exc

    def _typed_columns(self) -> str:
        pairs = [
            f"'{name}': '{_DUCK_TYPES[spec.type]}'"
            for name, spec in self.config.columns.items()
            if spec.type
        ]
        return "{" + ", ".join(pairs) + "}"


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


@register_source
class ParquetSource(FileSource):
    """A Parquet file (or a glob of files): the best format for large datasets."""

    type_name = "parquet"

    class Config(FileDataset):
        """A Parquet dataset."""

        type: Literal["parquet"] = "parquet"

    def relation_sql(self) -> str:
        return f"read_parquet({_quote(self.path)})"


@register_source
class CsvSource(FileSource):
    """A CSV file, parsed by DuckDB at query time (keep large files in Parquet)."""

    type_name = "csv"

    class Config(FileDataset):
        """A CSV dataset."""

        type: Literal["csv"] = "csv"
        delimiter: str | None = Field(default=None, max_length=1)
        """Séparateur (`,` ou `;`) ; détecté automatiquement si absent."""
        encoding: Literal["utf-8", "latin-1", "utf-16"] = "utf-8"
        """Encodage du fichier (`latin-1` couvre la plupart des exports Windows)."""
        decimal: Literal[".", ","] = "."
        """Séparateur décimal (`,` pour les exports français)."""

    def relation_sql(self) -> str:
        cfg = self.config
        options = [f"header = true", f"encoding = '{cfg.encoding}'"]  # type: ignore[attr-defined]
        if cfg.delimiter:  # type: ignore[attr-defined]
            options.append(f"delim = '{cfg.delimiter}'")  # type: ignore[attr-defined]
        if cfg.decimal == ",":  # type: ignore[attr-defined]
            options.append("decimal_separator = ','")
        if any(spec.type for spec in cfg.columns.values()):
            options.append(f"types = {self._typed_columns()}")
        return f"read_csv({_quote(self.path)}, {', '.join(options)})"


@register_source
class ExcelSource(FileSource):
    """A sheet of an Excel workbook, read once per change of the file (Excel files are small)."""

    type_name = "excel"

    class Config(FileDataset):
        """An Excel dataset."""

        type: Literal["excel"] = "excel"
        sheet: str | int = 0
        """Nom (ou numéro, à partir de 0) de la feuille."""

    def relation_sql(self) -> str:
        return f'"{self.view}_data"'

    def _create_view(self) -> None:
        try:
            frame = pd.read_excel(self.path, sheet_name=self.config.sheet)  # type: ignore[attr-defined]
        except (ValueError, OSError, KeyError) as exc:
            raise SourceError(f"classeur illisible ({self.config.path}) : {exc}") from exc  # type: ignore[attr-defined]
        con = self.duck.connection()
        with self.duck._lock:
            con.register(f"{self.view}_frame", frame)
            con.execute(
                f'CREATE OR REPLACE TABLE "{self.view}_data" AS SELECT * FROM "{self.view}_frame"'
            )
            con.unregister(f"{self.view}_frame")
            con.execute(f'CREATE OR REPLACE VIEW "{self.view}" AS SELECT * FROM "{self.view}_data"')
