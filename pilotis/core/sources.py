"""The data-source extension point: a base class and the registry keyed by YAML ``type:``.

Built-in sources (``data_sources/``) register through :func:`register_source` exactly as a
third-party one would. A source turns a :class:`~pilotis.core.query.Query` into a small
DataFrame, running the aggregation where the data lives.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

import duckdb
import pandas as pd

from pilotis.core import forks
from pilotis.core.measures import columns_of
from pilotis.core.query import PERIOD, Query
from pilotis.core.schema import DatasetBase

log = logging.getLogger(__name__)

DUCK_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "date": "DATE",
    "boolean": "BOOLEAN",
}
"""DuckDB type of each `columns: {…: {type: …}}` value of a dataset's YAML."""

SOURCE_TYPES: dict[str, type[DataSource]] = {}
"""Registered source types, keyed by the YAML ``type:`` value (filled at import time only)."""


def register_source(cls: type[DataSource]) -> type[DataSource]:
    """Class decorator: make a source type available to dataset YAML as ``type: <name>``."""
    SOURCE_TYPES[cls.type_name] = cls
    return cls


ERROR_KINDS: dict[str, str] = {
    "unreachable": "injoignable",
    "timeout": "délai dépassé",
    "auth": "identifiants refusés",
    "malformed": "réponse illisible",
    "columns": "colonnes modifiées",
    "missing": "fichier introuvable",
    "refused": "requête refusée",
    "error": "erreur",
}
"""Kinds of source failure and their French label (shown to users and on the sources page)."""


class SourceError(Exception):
    """A source could not answer (file missing, database down, bad columns). Shown in French.

    ``kind`` is one of :data:`ERROR_KINDS`; the message never contains a traceback or a secret.
    ``retry_at`` (epoch seconds), when the source said so (an API quota resets then): asking it
    again before is pointless, the data service backs off until then.
    """

    def __init__(self, message: str, kind: str = "error", retry_at: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind if kind in ERROR_KINDS else "error"
        self.retry_at = retry_at

    @property
    def label(self) -> str:
        """The French name of the kind of failure (« délai dépassé »)."""
        return ERROR_KINDS[self.kind]


class DuckRuntime:
    """One in-memory DuckDB database per process, where file datasets are exposed as views.

    Views read the files lazily (Parquet row groups are pruned by the filters), so registering
    a 10-million-row file costs nothing until a query runs.

    Forks (gunicorn's master builds the app, then forks the workers): the master closes the
    database before it forks (:meth:`close`, :func:`pilotis.core.forks.release_before_fork`), and
    a child opens its own on first use. A database inherited open (a fork without that step) is
    never touched again by the child: its threads did not survive the fork, and closing or freeing
    it crashes or hangs the child (:meth:`_after_fork`).
    """

    def __init__(self, threads: int = 2, memory_limit: str = "512MB", work_dir: Path | None = None) -> None:
        self.work_dir = work_dir
        """Folder for files derived from sources (converted CSV), shared by the workers."""
        self._threads = threads
        self._memory_limit = memory_limit
        self._pid: int | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._retired: list[duckdb.DuckDBPyConnection] = []
        """Closed connections, kept: a new one never gets the id of an old one (views are keyed by it)."""
        forks.register(self, release=DuckRuntime.close, in_child=DuckRuntime._after_fork)

    def connection(self) -> duckdb.DuckDBPyConnection:
        """The process's shared connection (created on first use, after any fork)."""
        with self._lock:
            if self._con is None or self._pid != os.getpid():
                self._con = duckdb.connect(
                    ":memory:",
                    config={"threads": self._threads, "memory_limit": self._memory_limit},
                )
                self._pid = os.getpid()
                self._local = threading.local()
            return self._con

    def close(self) -> None:
        """Close the database (its threads end): the shared connection and the calling thread's
        cursor. The next :meth:`connection` opens a new one (views are re-created)."""
        with self._lock:
            if self._con is None or self._pid != os.getpid():
                return
            cursor = getattr(self._local, "cursor", None)
            if cursor is not None:
                cursor.close()
            self._con.close()
            self._retired.append(self._con)
            self._con = None
            self._local = threading.local()

    def _after_fork(self) -> None:
        """In a forked child: leave the parent's database alone for ever (one reference more
        that nothing gives back), start again from no connection, with a new lock."""
        if self._con is not None:  # open in the parent (closed ones are freed as usual)
            for inherited in (self._con, self._local):
                ctypes.pythonapi.Py_IncRef(ctypes.py_object(inherited))
        self._con = None
        self._local = threading.local()
        self._lock = threading.Lock()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for the calling thread (DuckDB connections are not shared across threads)."""
        con = self.connection()
        cur = getattr(self._local, "cursor", None)
        if cur is None or getattr(self._local, "owner", None) is not con:
            cur = con.cursor()
            self._local.cursor = cur
            self._local.owner = con
        return cur

    def execute_locked(self, sql: str, params: list | None = None) -> None:
        """Run a DDL statement on the shared connection."""
        con = self.connection()
        with self._lock:
            con.execute(sql, params or [])


class DataSource(ABC):
    """A dataset backed by one source. Subclasses declare ``type_name`` and ``Config``."""

    type_name: ClassVar[str]
    Config: ClassVar[type[DatasetBase]]

    def __init__(self, dataset_id: str, config: DatasetBase, root: Path, duck: DuckRuntime):
        self.id = dataset_id
        self.config = config
        self.root = root
        self.duck = duck
        self.app_database = ""
        """SQLAlchemy URL of the application database (set by the loader): where sensor readings are."""

    @abstractmethod
    def schema(self) -> dict[str, str]:
        """Column names and their SQL types, read cheaply (no full scan)."""

    @abstractmethod
    def run(self, query: Query) -> pd.DataFrame:
        """Execute an aggregate query and return the (small) result."""

    def fingerprint(self) -> str:
        """A string that changes when the underlying data changes (part of cache keys)."""
        return ""

    def sensor_source(self) -> str | None:
        """The sensor source (`config/sensors/<id>.yaml`) this dataset reads, if any: the loader
        checks that it exists (a typo would otherwise give empty widgets, silently)."""
        return None

    def invalidate(self) -> None:  # noqa: B027 - optional hook: most sources keep nothing
        """Forget what this process keeps of the source (schema, fetched rows): manual refresh."""

    def work_dir(self) -> Path:
        """Where derived files of this source go (the instance folder, shared by workers)."""
        folder = self.duck.work_dir or self.root / "instance" / "sources"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def declared_schema(self, exc: SourceError) -> dict[str, str]:
        """The columns declared in the YAML, used when a remote source is down at start-up.

        Without declared columns the failure is raised again (the configuration cannot be
        checked without them).
        """
        if not self.config.columns:
            raise exc
        log.warning("source %s injoignable au démarrage (%s) : colonnes déclarées utilisées", self.id, exc)
        types = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "date": "DATE", "boolean": "BOOLEAN"}
        return {name: types.get(spec.type or "string", "VARCHAR") for name, spec in self.config.columns.items()}

    def check_columns(self, query: Query, columns: Iterable[str]) -> None:
        """Raise a « colonnes modifiées » SourceError when the query names a missing column."""
        missing = sorted(query_columns(query) - set(columns))
        if missing:
            names = ", ".join(f"`{name}`" for name in missing)
            raise SourceError(f"colonne(s) {names} absente(s) de la source {self.id}", "columns")

    def resolve(self, path: str) -> Path:
        """A path from the YAML, relative to the project root unless absolute."""
        candidate = Path(os.path.expandvars(path))
        return candidate if candidate.is_absolute() else self.root / candidate


def query_columns(query: Query) -> set[str]:
    """Every source column a query reads (groups, raw columns, filters, measures, period)."""
    names = {name for name in query.group_by if name != PERIOD}
    if PERIOD in query.group_by and query.period_column:
        names.add(query.period_column)
    names.update(query.raw_columns)
    names.update(flt.column for flt in query.filters)
    for _, node in query.measures:
        names |= columns_of(node)
    return names
