"""The data-source extension point: a base class and the registry keyed by YAML ``type:``.

Built-in sources (``data_sources/``) register through :func:`register_source` exactly as a
third-party one would. A source turns a :class:`~pilotis.query.Query` into a small
DataFrame, running the aggregation where the data lives.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import duckdb
import pandas as pd

from pilotis.query import Query
from pilotis.schema import DatasetBase

SOURCE_TYPES: dict[str, type[DataSource]] = {}
"""Registered source types, keyed by the YAML ``type:`` value (filled at import time only)."""


def register_source(cls: type[DataSource]) -> type[DataSource]:
    """Class decorator: make a source type available to dataset YAML as ``type: <name>``."""
    SOURCE_TYPES[cls.type_name] = cls
    return cls


class SourceError(Exception):
    """A source could not answer (file missing, database down, bad columns). Shown in French."""


class DuckRuntime:
    """One in-memory DuckDB database per process, where file datasets are exposed as views.

    Views read the files lazily (Parquet row groups are pruned by the filters), so registering
    a 10-million-row file costs nothing until a query runs. Re-created after a fork.
    """

    def __init__(self, threads: int = 2, memory_limit: str = "512MB") -> None:
        self._threads = threads
        self._memory_limit = memory_limit
        self._pid: int | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()
        self._local = threading.local()

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

    @abstractmethod
    def schema(self) -> dict[str, str]:
        """Column names and their SQL types, read cheaply (no full scan)."""

    @abstractmethod
    def run(self, query: Query) -> pd.DataFrame:
        """Execute an aggregate query and return the (small) result."""

    def fingerprint(self) -> str:
        """A string that changes when the underlying data changes (part of cache keys)."""
        return ""

    def resolve(self, path: str) -> Path:
        """A path from the YAML, relative to the project root unless absolute."""
        candidate = Path(os.path.expandvars(path))
        return candidate if candidate.is_absolute() else self.root / candidate
