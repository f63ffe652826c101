"""Opendatasoft datasets through the Explore API v2.1: the portal does the aggregation.

A widget query becomes one ODSQL request on
``/api/explore/v2.1/catalog/datasets/<id>/records``: filters → ``where`` (strings quoted, dates
as ``date'YYYY-MM-DD'``), each aggregate of the measures → ``select`` (``sum(`x`) as m0``),
groups and period grains → ``group_by`` (``date_format(`date`, "yyyy-MM") as periode``).
Arithmetic between aggregates (``sum(a) / sum(b)``) is done on the few returned rows.

Paging respects the documented limits of ``/records`` (``limit`` ≤ 100, ``offset + limit`` ≤
10 000; with ``group_by``, ``offset + limit`` < 20 000); a result that does not fit is read from
``/exports/json`` (no cap). What ODSQL cannot aggregate (``count_distinct``, quarters, ``min`` /
``max`` of text, which the API allows on numbers and dates only) falls back to exporting the
filtered rows, only the needed columns, and aggregating them with DuckDB.

Every request carries ``timezone=Europe/Paris`` (the API's default is UTC): datetimes are grouped,
filtered and returned in Paris time, as the rest of the portal shows them.

Quoting follows the official client (``@opendatasoft/api-client``): every field name and every
label is back-quoted (a field called ``year`` or ``date`` is a keyword otherwise), a back-quote
inside a name is written ``\\```; strings are JSON string literals (quotes, backslashes and control
characters escaped); numbers are plain decimals, never in scientific notation.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re
import threading
import urllib.parse
import uuid
from typing import Any, Literal

import pandas as pd
from pydantic import Field, field_validator

from data_sources.http import get_json
from data_sources.rest import load_frame, run_in_duck
from data_sources.sql import expand_env
from pilotis.core.cron import PARIS
from pilotis.core.measures import Agg, BinOp, Node, Num
from pilotis.core.query import PERIOD, Filter, Query
from pilotis.core.schema import DatasetBase, Duration, parse_duration
from pilotis.core.sources import DataSource, SourceError, query_columns, register_source

RECORDS_MAX_LIMIT = 100
"""Largest ``limit`` accepted by ``/records`` (for a query without ``group_by``)."""
RECORDS_MAX_WINDOW = 10_000
"""``offset + limit`` must stay within this on ``/records``; beyond, ``/exports`` is used."""
GROUPED_WINDOW = 20_000
"""With ``group_by`` the documented limits are larger: ``offset + limit`` must stay *below* 20 000."""
GROUPED_MAX = GROUPED_WINDOW - 1
"""Largest ``limit`` of a grouped query (``offset`` 0: ``0 + limit`` < 20 000)."""
TIMEZONE = PARIS.key
"""The portal's time zone, sent as ``timezone``: how datetimes are grouped, filtered and returned."""
_TYPES = {
    "text": "VARCHAR",
    "int": "BIGINT",
    "double": "DOUBLE",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "boolean": "BOOLEAN",
}
_FORMATS = {"year": "yyyy", "month": "yyyy-MM", "day": "yyyy-MM-dd"}
_OFFSET = re.compile(r"T.*(Z|[+-]\d\d:?\d\d)$")
"""The end of an ISO datetime that carries its offset."""
_ORDERED = ("int", "double", "date", "datetime")
"""Field types on which the API computes ``min`` and ``max``."""


@register_source
class OpendatasoftSource(DataSource):
    """A dataset of an Opendatasoft portal (Explore API v2.1), aggregated by the portal."""

    type_name = "opendatasoft"

    class Config(DatasetBase):
        """An Opendatasoft dataset."""

        type: Literal["opendatasoft"] = "opendatasoft"
        """Type de source : `opendatasoft`."""
        url: str
        """Adresse du portail (`https://data.exemple.fr`), sans `/api/…`."""
        dataset_id: str
        """Identifiant du jeu de données sur le portail (ce qui suit `/datasets/` dans son adresse)."""
        api_key: str | None = None
        """Clé d'API pour un jeu non public, par référence : `${ODS_API_KEY}` (envoyée dans l'en-tête `Authorization:
        Apikey …`)."""
        where: str = ""
        """Filtre ODSQL fixe ajouté à chaque requête (`annee >= 2015`)."""
        page_size: int = Field(default=100, ge=1, le=RECORDS_MAX_LIMIT)
        """Lignes par appel à `/records` sans regroupement (100 au plus, limite de l'API)."""
        group_page_size: int = Field(default=GROUPED_MAX, ge=1, le=GROUPED_MAX)
        """Groupes par appel à `/records` pour une agrégation (`group_by` : 19 999 au plus, limite de l'API)."""
        timeout: Duration = 10
        """Délai maximal d'une requête (`10s`) ; au-delà : « délai dépassé »."""

        @field_validator("timeout", mode="before")
        @classmethod
        def _timeout(cls, value: str | int) -> int:
            return parse_duration(value)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fields: dict[str, str] | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ HTTP
    @property
    def base(self) -> str:
        """``<portal>/api/explore/v2.1/catalog/datasets/<id>``."""
        cfg = self.config
        root = expand_env(cfg.url).rstrip("/")  # type: ignore[attr-defined]
        return f"{root}/api/explore/v2.1/catalog/datasets/{urllib.parse.quote(cfg.dataset_id)}"  # type: ignore[attr-defined]

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        headers = {}
        if self.config.api_key:  # type: ignore[attr-defined]
            headers["Authorization"] = f"Apikey {expand_env(self.config.api_key)}"  # type: ignore[attr-defined]
        params = {**(params or {}), "timezone": TIMEZONE}
        return get_json(self.id, self.base + path, params, headers, float(self.config.timeout))  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ schema
    def fields(self) -> dict[str, str]:
        """Field names and ODS types of the dataset (read once, again after a refresh)."""
        if self._fields is None:
            document = self._get("")
            fields = document.get("fields") if isinstance(document, dict) else None
            if not isinstance(fields, list):
                raise SourceError(f"source {self.id} : réponse illisible (pas de `fields`)", "malformed")
            self._fields = {str(f.get("name")): str(f.get("type", "text")) for f in fields if isinstance(f, dict)}
        return self._fields

    def schema(self) -> dict[str, str]:
        try:
            return {name: _TYPES.get(kind, "VARCHAR") for name, kind in self.fields().items()}
        except SourceError as exc:
            return self.declared_schema(exc)

    def invalidate(self) -> None:
        self._fields = None

    # ------------------------------------------------------------------ queries
    def run(self, query: Query) -> pd.DataFrame:
        try:
            fields = self.fields()
            self.check_columns(query, fields)
        except SourceError as exc:
            self._fields = None
            raise exc
        if any(f.op == "in" and not _values(f) for f in query.filters):
            return pd.DataFrame(
                columns=[
                    *query.group_by,
                    *query.raw_columns,
                    *(alias for alias, _ in query.measures),
                ]
            )
        plan = self._plan(query, fields)
        frame = self._local(query, fields) if plan is None else self._pushed(query, plan, fields)
        return frame

    def _where(self, filters: tuple[Filter, ...]) -> str | None:
        parts = [f"({self.config.where})"] if self.config.where else []  # type: ignore[attr-defined]
        parts += [odsql_condition(f) for f in filters]
        return " AND ".join(parts) or None

    def _plan(self, query: Query, fields: dict[str, str]) -> dict[str, Any] | None:
        """The ODSQL parameters computing ``query``'s aggregates, or None when ODSQL cannot."""
        if query.raw_columns or not query.measures:
            return None
        leaves: dict[Agg, str] = {}
        for _, node in query.measures:
            for leaf in _leaves(node):
                if leaf.func == "count_distinct":
                    return None
                if leaf.func in ("min", "max") and fields.get(leaf.column) not in _ORDERED:
                    return None  # the API allows min / max on numbers and dates only
                leaves.setdefault(leaf, f"m{len(leaves)}")
        groups: list[str] = []
        for name in query.group_by:
            if name == PERIOD:
                grain = query.period_grain
                column = odsql_field(str(query.period_column))
                if grain == query.native_grain:
                    groups.append(f"{column} as {odsql_field(PERIOD)}")
                elif grain in _FORMATS:
                    groups.append(f'date_format({column}, "{_FORMATS[grain]}") as {odsql_field(PERIOD)}')
                else:
                    return None  # quarters: no ODSQL date function
            else:
                groups.append(f"{odsql_field(name)} as {odsql_field(name)}")
        select = [f"{_agg(leaf)} as {odsql_field(label)}" for leaf, label in leaves.items()]
        return {
            "leaves": leaves,
            "select": ", ".join(select),
            "group_by": ", ".join(groups),
            "labels": list(query.group_by),
        }

    def _pushed(self, query: Query, plan: dict[str, Any], fields: dict[str, str]) -> pd.DataFrame:
        params: dict[str, Any] = {"select": plan["select"], "where": self._where(query.filters)}
        if plan["group_by"]:
            params["group_by"] = plan["group_by"]
            params["order_by"] = ", ".join(odsql_field(label) for label in plan["labels"])
        rows = self.fetch(params, grouped=bool(plan["group_by"]))
        frame = pd.DataFrame(rows)
        for label in [*plan["labels"], *plan["leaves"].values()]:
            if label not in frame.columns:
                frame[label] = pd.Series([None] * len(frame), dtype="object")
        result = pd.DataFrame(index=frame.index)
        for name in query.group_by:
            result[name] = frame[name]
        if PERIOD in query.group_by:
            result[PERIOD] = _to_dates(result[PERIOD], query.period_grain)
        for leaf, label in plan["leaves"].items():
            if leaf.func in ("min", "max") and fields.get(leaf.column) in ("date", "datetime"):
                frame[label] = _to_dates(frame[label], None)
            elif not (leaf.func in ("min", "max") and fields.get(leaf.column) == "text"):
                frame[label] = pd.to_numeric(frame[label], errors="coerce")
        for alias, node in query.measures:
            result[alias] = _evaluate(node, frame, plan["leaves"])
        return _order(result, query)

    def _local(self, query: Query, fields: dict[str, str]) -> pd.DataFrame:
        """Export the filtered rows (needed columns only) and aggregate them with DuckDB."""
        names = sorted(query_columns(query)) or list(fields)[:1]
        rows = self.fetch(
            {"select": ", ".join(odsql_field(n) for n in names), "where": self._where(query.filters)},
            export=True,
        )
        frame = pd.DataFrame(rows, columns=names)
        for name in names:
            if fields.get(name) in ("date", "datetime"):
                frame[name] = _to_dates(frame[name], None)
        table = f"ods_{self.id}_{uuid.uuid4().hex[:8]}"
        columns = load_frame(self.duck, table, frame, self.config)
        try:
            return run_in_duck(self, table, columns, query)
        finally:
            self.duck.execute_locked(f'DROP TABLE IF EXISTS "{table}"')

    def fetch(self, params: dict[str, Any], export: bool = False, grouped: bool = False) -> list[dict[str, Any]]:
        """Every result row: pages of ``/records`` within the API limits, else ``/exports/json``.

        Documented limits of ``/records``: without ``group_by``, ``limit`` ≤ 100 and
        ``offset + limit`` ≤ 10 000; with ``group_by``, ``offset + limit`` < 20 000.
        """
        params = {k: v for k, v in params.items() if v}
        if not export:
            cfg = self.config
            limit = cfg.group_page_size if grouped else cfg.page_size  # type: ignore[attr-defined]
            window = GROUPED_MAX if grouped else RECORDS_MAX_WINDOW  # largest offset + limit allowed
            rows: list[dict[str, Any]] = []
            offset = 0
            while offset + limit <= window:
                document = self._get("/records", {**params, "limit": limit, "offset": offset})
                results = document.get("results") if isinstance(document, dict) else None
                if not isinstance(results, list):
                    raise SourceError(f"source {self.id} : réponse illisible (pas de `results`)", "malformed")
                rows += results
                total = document.get("total_count")
                if len(results) < limit or (isinstance(total, int) and len(rows) >= total):
                    return _dicts(self.id, rows)
                if isinstance(total, int) and total > window:
                    break  # will not fit in the paging window: export at once
                offset += limit
        document = self._get("/exports/json", {**params, "limit": -1})
        if not isinstance(document, list):
            raise SourceError(f"source {self.id} : réponse illisible (export JSON attendu)", "malformed")
        return _dicts(self.id, document)


# --------------------------------------------------------------------------- ODSQL
def odsql_literal(value: object) -> str:
    """An ODSQL literal: ``"texte"``, ``12.5``, ``true``, ``date'2020-01-01'``.

    Numbers are plain decimals (``0.00001``, not ``1e-05``: ODSQL has no exponent); strings are
    JSON string literals, as the official client writes them (``"a\\nb"``, ``"\\"x\\""``).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return f"date'{value.isoformat()}'"
    if isinstance(value, dt.date):
        return f"date'{value.isoformat()}'"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SourceError(f"valeur numérique impossible à transmettre à Opendatasoft : {value}", "refused")
        return format(decimal.Decimal(repr(value)), "f")
    return json.dumps(str(value), ensure_ascii=False)


def odsql_field(name: str) -> str:
    """A field name or a label, always back-quoted (keywords such as ``year`` or ``date`` would
    be read as ODSQL otherwise), a back-quote inside written ``\\``` as the official client does."""
    return "`" + name.replace("`", "\\`") + "`"


def odsql_condition(flt: Filter) -> str:
    """One filter as an ODSQL ``where`` expression."""
    field = odsql_field(flt.column)
    if flt.op == "in":
        return "(" + " OR ".join(f"{field} = {odsql_literal(v)}" for v in _values(flt)) + ")"
    return f"{field} {flt.op} {odsql_literal(flt.value)}"


def _values(flt: Filter) -> tuple[object, ...]:
    return flt.value if isinstance(flt.value, tuple) else (flt.value,)


def _agg(leaf: Agg) -> str:
    if leaf.column == "*":
        return "count(*)"
    return f"{leaf.func}({odsql_field(leaf.column)})"


def _leaves(node: Node) -> list[Agg]:
    if isinstance(node, Agg):
        return [node]
    if isinstance(node, BinOp):
        return _leaves(node.left) + _leaves(node.right)
    return []


def _evaluate(node: Node, frame: pd.DataFrame, labels: dict[Agg, str]) -> pd.Series | float:
    """A measure computed from the aggregated columns (SQL semantics: x / 0 is NULL)."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Agg):
        return frame[labels[node]]
    left, right = _evaluate(node.left, frame, labels), _evaluate(node.right, frame, labels)
    if node.op == "/":
        if isinstance(right, pd.Series):
            right = right.astype("float64").where(right != 0)
        elif right == 0:
            right = float("nan")
        return left / right
    return {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}[node.op](left, right)


def _to_dates(values: pd.Series, grain: str | None) -> pd.Series:
    """ODS date strings (``2020``, ``2020-03``, ``2020-03-01``, ISO datetimes) as naive datetimes;
    a datetime with an offset (``2024-02-01T00:30:00+01:00``) as Paris local time."""
    text = values.astype("object").where(values.notna(), None)
    if grain == "year":
        text = text.map(lambda v: None if v is None else f"{str(v)[:4]}-01-01")
    elif grain == "month":
        text = text.map(lambda v: None if v is None else f"{str(v)[:7]}-01")
    parsed = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    zoned = text.map(lambda v: v is not None and _OFFSET.search(str(v)) is not None).astype(bool)
    return parsed.dt.tz_convert(PARIS).dt.tz_localize(None).where(zoned, parsed.dt.tz_localize(None))


def _order(frame: pd.DataFrame, query: Query) -> pd.DataFrame:
    order = query.order_by or tuple((g, False) for g in query.group_by)
    if order and not frame.empty:
        frame = frame.sort_values(
            [name for name, _ in order],
            ascending=[not desc for _, desc in order],
            na_position="last",
            kind="stable",
        )
    if query.offset:
        frame = frame.iloc[query.offset :]
    if query.limit:
        frame = frame.head(query.limit)
    return frame.reset_index(drop=True)


def _dicts(source_id: str, rows: list[Any]) -> list[dict[str, Any]]:
    if not all(isinstance(r, dict) for r in rows):
        raise SourceError(f"source {source_id} : réponse illisible (enregistrements attendus)", "malformed")
    return rows
