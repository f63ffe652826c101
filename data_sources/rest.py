"""Generic REST JSON datasets: records fetched over HTTP, then queried with DuckDB.

The records (every page) are fetched at most once per refresh period per process, loaded into a
DuckDB table, and every widget query runs there as SQL, so measures, filters and period grains
behave exactly as for files. The query *results* are shared by the workers through the cache.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any, Literal

import duckdb
import pandas as pd
from pydantic import Field, field_validator

from data_sources.http import get_json, json_path
from data_sources.sql import expand_env
from pilotis.core.freshness import window
from pilotis.core.query import Query, build_select, compile_for_duckdb, table_for
from pilotis.core.schema import DatasetBase, Duration, Strict, parse_duration
from pilotis.core.sources import DUCK_TYPES, DataSource, DuckRuntime, SourceError, register_source


class Pagination(Strict):
    """How to read every page of a paginated API."""

    type: Literal["page", "offset", "next"]
    """`page` (numéro de page), `offset` (rang du premier enregistrement) ou `next` (adresse de la page suivante donnée
    dans la réponse)."""
    size: int = Field(default=100, ge=1, le=10000)
    """Nombre d'enregistrements demandés par page (`page` et `offset`)."""
    size_param: str = "limit"
    """Paramètre d'URL du nombre par page (`limit`, `per_page`, `page_size`…)."""
    page_param: str = "page"
    """`type: page` : paramètre d'URL du numéro de page."""
    first_page: int = 1
    """`type: page` : numéro de la première page (`1` ou `0`)."""
    offset_param: str = "offset"
    """`type: offset` : paramètre d'URL du rang du premier enregistrement."""
    next: str = "next"
    """`type: next` : chemin JSON, dans la réponse, de l'adresse de la page suivante (`links.next`)."""
    max_pages: int = Field(default=1000, ge=1)
    """Garde-fou : nombre maximal de pages lues (au-delà : erreur, pas de boucle sans fin)."""


@register_source
class RestSource(DataSource):
    """Records of a JSON API (a business application, an open-data API)."""

    type_name = "rest"

    class Config(DatasetBase):
        """A REST JSON dataset."""

        type: Literal["rest"] = "rest"
        """Type de source : `rest`."""
        url: str
        """Adresse de l'API (`https://…` ; `${VAR}` accepté)."""
        records: str = ""
        """Chemin JSON des enregistrements dans la réponse, en notation pointée (`data.items`) ; vide : la réponse est
        la liste. Les objets imbriqués deviennent des colonnes `parent_enfant`."""
        params: dict[str, str | int | float | bool] = Field(default_factory=dict)
        """Paramètres d'URL fixes (`{format: json}`) ; `${VAR}` accepté dans les valeurs."""
        headers: dict[str, str] = Field(default_factory=dict)
        """En-têtes HTTP ; secrets par référence uniquement : `{Authorization: "Bearer ${API_TOKEN}"}`."""
        pagination: Pagination | None = None
        """Pagination de l'API ; absent : une seule requête renvoie tous les enregistrements."""
        timeout: Duration = 10
        """Délai maximal d'une requête (`10s`) ; au-delà : « délai dépassé »."""

        @field_validator("timeout", mode="before")
        @classmethod
        def _timeout(cls, value: str | int) -> int:
            return parse_duration(value)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._columns: dict[str, str] | None = None
        self._loaded_at: float | None = None
        self._valid_until = 0.0
        self._connection_id: int | None = None

    @property
    def table(self) -> str:
        """The DuckDB table holding the fetched records."""
        return f"rest_{self.id}"

    # ------------------------------------------------------------------ fetching
    def fetch(self) -> list[dict[str, Any]]:
        """Every record of the API, following the pagination."""
        cfg: Any = self.config
        url = expand_env(cfg.url)
        headers = {k: expand_env(v) for k, v in cfg.headers.items()}
        params: dict[str, Any] = {k: expand_env(v) if isinstance(v, str) else v for k, v in cfg.params.items()}
        timeout = float(cfg.timeout)
        paging: Pagination | None = cfg.pagination
        if paging is None:
            return self._records(get_json(self.id, url, params, headers, timeout))
        records: list[dict[str, Any]] = []
        next_url: str | None = url
        for page in range(paging.max_pages):
            extra: dict[str, Any] = {}
            if paging.type == "page":
                extra = {
                    paging.page_param: paging.first_page + page,
                    paging.size_param: paging.size,
                }
            elif paging.type == "offset":
                extra = {paging.offset_param: page * paging.size, paging.size_param: paging.size}
            assert next_url is not None
            document = get_json(
                self.id,
                next_url,
                {**params, **extra} if page == 0 or paging.type != "next" else None,
                headers,
                timeout,
            )
            batch = self._records(document)
            records += batch
            if paging.type == "next":
                link = json_path(document, paging.next)
                if not link:
                    return records
                next_url = str(link)
            elif len(batch) < paging.size:
                return records
        raise SourceError(
            f"source {self.id} : plus de {paging.max_pages} pages, pagination interrompue (vérifiez `pagination`)",
            "malformed",
        )

    def _records(self, document: Any) -> list[dict[str, Any]]:
        records = json_path(document, self.config.records)  # type: ignore[attr-defined]
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            where = f"« {self.config.records} »" if self.config.records else "la racine"  # type: ignore[attr-defined]
            raise SourceError(
                f"source {self.id} : réponse illisible (pas de liste d'enregistrements à {where})",
                "malformed",
            )
        return records

    def _ensure_loaded(self) -> None:
        now = time.time()
        connection = id(self.duck.connection())
        if self._loaded_at is not None and now < self._valid_until and self._connection_id == connection:
            return
        with self._lock:
            if self._loaded_at is not None and now < self._valid_until and self._connection_id == connection:
                return
            frame = pd.json_normalize(self.fetch(), sep="_")
            self._columns = load_frame(self.duck, self.table, frame, self.config)
            self._loaded_at = now
            self._valid_until = now + window(self.config, now)[0]
            self._connection_id = connection

    def invalidate(self) -> None:
        self._valid_until = 0.0

    # ------------------------------------------------------------------ DataSource
    def schema(self) -> dict[str, str]:
        try:
            self._ensure_loaded()
        except SourceError as exc:
            return self.declared_schema(exc)
        assert self._columns is not None
        return self._columns

    def run(self, query: Query) -> pd.DataFrame:
        self._ensure_loaded()
        assert self._columns is not None
        frame = run_in_duck(self, self.table, self._columns, query)
        frame.attrs["refreshed_at"] = self._loaded_at
        frame.attrs["valid_until"] = self._valid_until
        return frame


def load_frame(duck: DuckRuntime, table: str, frame: pd.DataFrame, config: DatasetBase) -> dict[str, str]:
    """Store ``frame`` as the DuckDB table ``table`` with the declared column types; its schema."""
    if frame.columns.empty:  # no record at all: the declared columns, empty
        if not config.columns:
            raise SourceError(f"aucun enregistrement reçu pour {table.split('_', 1)[-1]}", "malformed")
        frame = pd.DataFrame({name: pd.Series(dtype="object") for name in config.columns})
    casts = {
        name: DUCK_TYPES[spec.type] for name, spec in config.columns.items() if spec.type and name in frame.columns
    }
    if config.period and config.period.column in frame.columns:
        casts.setdefault(config.period.column, "DATE")
    select = (
        ", ".join(
            f'CAST("{name}" AS {casts[name]}) AS "{name}"' if name in casts else f'"{name}"' for name in frame.columns
        )
        or "*"
    )
    temp = f"frame_{uuid.uuid4().hex[:10]}"
    con = duck.connection()
    with duck._lock:
        con.register(temp, frame)
        try:
            con.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT {select} FROM "{temp}"')
            rows = con.execute(f'DESCRIBE "{table}"').fetchall()
        except duckdb.Error as exc:
            raise SourceError(
                f"données illisibles pour {table.split('_', 1)[-1]} : {str(exc).splitlines()[0][:200]}",
                "malformed",
            ) from exc
        finally:
            con.unregister(temp)
    return {row[0]: row[1] for row in rows}


def run_in_duck(source: DataSource, table: str, columns: dict[str, str], query: Query) -> pd.DataFrame:
    """Run ``query`` as SQL over a DuckDB table filled from a remote source."""
    source.check_columns(query, columns)
    stmt = build_select(query, table_for(table, list(columns)), "duckdb")
    sql, params = compile_for_duckdb(stmt)
    try:
        return source.duck.cursor().execute(sql, params).df()
    except duckdb.Error as exc:
        raise SourceError(
            f"requête impossible sur {source.id} : {str(exc).splitlines()[0][:200]}", "malformed"
        ) from exc
