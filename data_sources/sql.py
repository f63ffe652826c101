"""SQL datasets: any SQLAlchemy URL; the aggregate query runs in the database itself."""

from __future__ import annotations

import os
import re
import threading
from typing import Literal

import pandas as pd
import sqlalchemy as sa
from pydantic import field_validator

from pilotis.core import forks
from pilotis.core.query import Query, build_select
from pilotis.core.schema import DatasetBase, Duration, parse_duration
from pilotis.core.sources import DataSource, SourceError, register_source

_ENV = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


def expand_env(value: str) -> str:
    """Replace ``${VAR}`` with the environment value; a missing variable is an error."""

    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise SourceError(f"variable d'environnement {name} non définie", "auth")
        return os.environ[name]

    return _ENV.sub(repl, value)


@register_source
class SqlSource(DataSource):
    """A table or view of a SQL database reached through SQLAlchemy."""

    type_name = "sql"

    class Config(DatasetBase):
        """A SQL dataset."""

        type: Literal["sql"] = "sql"
        """Type de source : `sql`."""
        url: str
        """URL SQLAlchemy ; mettez le mot de passe dans l'environnement : `postgresql+psycopg://lecteur:${PG_PASSWORD}@hote/base`."""
        table: str
        """Table ou vue interrogée (éventuellement `schema.table`)."""
        timeout: Duration = 10
        """Délai maximal de connexion et de requête (`10s`) ; au-delà : « délai dépassé »."""

        @field_validator("timeout", mode="before")
        @classmethod
        def _timeout(cls, value: str | int) -> int:
            return parse_duration(value)

    def __init__(self, *args, **kwargs) -> None:
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
                timeout = self.config.timeout  # type: ignore[attr-defined]
                args: dict[str, object] = {}
                if url.startswith("postgresql"):
                    args = {"connect_timeout": timeout, "options": f"-c statement_timeout={timeout * 1000}"}
                elif url.startswith("sqlite"):
                    args = {"timeout": timeout}
                try:
                    self._engine = forks.sqlalchemy_engine(sa.create_engine(url, pool_pre_ping=True, connect_args=args))
                except (sa.exc.ArgumentError, ImportError, ValueError) as exc:
                    raise SourceError(
                        f"URL de base de données invalide pour {self.id} : {exc.__class__.__name__}", "refused"
                    ) from exc
            return self._engine

    def invalidate(self) -> None:
        self._schema = None

    def _error(self, exc: Exception, doing: str) -> SourceError:
        """A French SourceError of the right kind, without the URL or password of the database."""
        text = str(getattr(exc, "orig", None) or exc).lower()
        if any(
            w in text
            for w in (
                "password authentication",
                "authentication failed",
                "access denied",
                "permission denied",
                "no password",
                'role "',
            )
        ):
            kind, what = "auth", "identifiants refusés par la base"
        elif any(w in text for w in ("timeout", "timed out", "statement_timeout", "canceling statement")):
            kind, what = "timeout", "délai dépassé"
        elif any(w in text for w in ("no such column", "no such table", "unknown column")) or (
            isinstance(exc, sa.exc.ProgrammingError) and "does not exist" in text
        ):
            kind, what = "columns", "colonnes ou table modifiées"
        elif isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
            kind, what = "unreachable", "base de données injoignable"
        else:
            kind, what = "refused", "requête refusée"
        self._schema = None  # the table may have changed: reflect it again next time
        return SourceError(f"{what} ({doing} {self.id} : {exc.__class__.__name__})", kind)

    def _table(self) -> sa.TableClause:
        schema, _, name = self.config.table.rpartition(".")  # type: ignore[attr-defined]
        return sa.table(name, *(sa.column(c) for c in self._reflect()), schema=schema or None)

    def schema(self) -> dict[str, str]:
        """Reflected columns; the declared ones while the database does not answer."""
        try:
            return self._reflect()
        except SourceError as exc:
            if exc.kind in ("columns", "refused"):
                raise
            return self.declared_schema(exc)

    def _reflect(self) -> dict[str, str]:
        if self._schema is None:
            schema, _, name = self.config.table.rpartition(".")  # type: ignore[attr-defined]
            try:
                columns = sa.inspect(self.engine).get_columns(name, schema=schema or None)
            except sa.exc.NoSuchTableError:
                columns = []
            except sa.exc.SQLAlchemyError as exc:
                raise self._error(exc, "lecture des colonnes de") from exc
            if not columns:
                raise SourceError(f"table {self.config.table} introuvable", "columns")  # type: ignore[attr-defined]
            self._schema = {c["name"]: str(c["type"]) for c in columns}
        return self._schema

    def run(self, query: Query) -> pd.DataFrame:
        columns = self._reflect()
        self.check_columns(query, columns)
        stmt = build_select(query, self._table(), self.engine.dialect.name)
        try:
            with self.engine.connect() as con:
                return pd.read_sql(stmt, con)
        except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
            cause = exc.__cause__ if isinstance(exc.__cause__, sa.exc.SQLAlchemyError) else exc
            raise self._error(cause, "requête sur") from exc
