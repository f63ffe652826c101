"""SQL datasets: any SQLAlchemy URL; the aggregate query runs in the database itself."""

from __future__ import annotations

import os
import re
import threading
from typing import Literal

import pandas as pd
import sqlalchemy as sa

from pilotis.query import Query, build_select
from pilotis.schema import DatasetBase
from pilotis.sources import DataSource, SourceError, register_source

_ENV = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


def expand_env(value: str) -> str:
    """Replace ``${VAR}`` with the environment value; a missing variable is an error."""

    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise SourceError(f"variable d'environnement {name} non définie")
        return os.environ[name]

    return _ENV.sub(repl, value)


@register_source
class SqlSource(DataSource):
    """A table or view of a SQL database reached through SQLAlchemy."""

    type_name = "sql"

    class Config(DatasetBase):
        """A SQL dataset."""

        type: Literal["sql"] = "sql"
        url: str
        """URL SQLAlchemy ; mettez le mot de passe dans l'environnement : `postgresql+psycopg://lecteur:${PG_PASSWORD}@hote/base`."""
        table: str
        """Table ou vue interrogée (éventuellement `schema.table`)."""


    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._engine: sa.Engine | None = None
        self._schema: dict[str, str] | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> sa.Engine:
        """The connection pool of this source (created on first use)."""
        with self._lock:
            if self._engine is None:
                url = expand_env(self.config.url)  # type: ignore[attr-defined]
                if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
                    url = "sqlite:///" + str(self.resolve(url.removeprefix("sqlite:///")))
                self._engine = sa.create_engine(url, pool_pre_ping=True)
            return self._engine

    def _table(self) -> sa.TableClause:
        schema, _, name = self.config.table.rpartition(".")  # type: ignore[attr-defined]
        return sa.table(name, *(sa.column(c) for c in self.schema()), schema=schema or None)

    def schema(self) -> dict[str, str]:
        if self._schema is None:
            schema, _, name = self.config.table.rpartition(".")  # type: ignore[attr-defined]
            try:
                columns = sa.inspect(self.engine).get_columns(name, schema=schema or None)
            except sa.exc.SQLAlchemyError as exc:
                raise SourceError(f"base de données injoignable pour {self.id} : {exc.__class__.__name__}") from exc
            if not columns:
                raise SourceError(f"table {self.config.table} introuvable")  # type: ignore[attr-defined]
            self._schema = {c["name"]: str(c["type"]) for c in columns}
        return self._schema

    def run(self, query: Query) -> pd.DataFrame:
        stmt = build_select(query, self._table(), self.engine.dialect.name)
        try:
            with self.engine.connect() as con:
                return pd.read_sql(stmt, con)
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"requête impossible sur {self.id} : {exc.__class__.__name__}") from exc
