"""A real HTTP server for tests: the documented Explore API v2.1 behaviour, and a generic REST API.

Started on 127.0.0.1 on a free port, in a thread. It serves:

- ``/api/explore/v2.1/catalog/datasets/<id>``: the dataset's ``fields``;
- ``.../records``: ``select``, ``where``, ``group_by``, ``order_by``, ``limit``, ``offset`` with
  the documented limits (without ``group_by``: ``limit`` ≤ 100 and ``offset + limit`` ≤ 10 000;
  with it: 20 000), answering ``{"total_count": n, "results": [...]}`` or HTTP 400;
- ``.../exports/json``: the same query, every row, as a JSON array (no cap);
- ``/rest/items``: records under ``data.items``, paginated by ``page`` / ``limit``;
- ``/rest/cursor``: records under ``items`` with a ``links.next`` URL.

ODSQL is executed by translating the subset Pilotis emits to DuckDB SQL. ``mode`` makes it fail:
``error`` (HTTP 500), ``timeout`` (answers after ``delay`` s), ``malformed`` (not JSON), ``auth``
(HTTP 401), ``columns`` (a field renamed), ``reset`` (connection closed without an answer),
``quota`` (HTTP 429 with ``reset_time`` and ``X-RateLimit-Reset``, as the reference).

Like the reference (Explore API v2.1 OpenAPI document, ODSQL grammar), it answers HTTP 400 to: a
number in scientific notation; a reserved keyword (``year``, ``date``, ``group``…) standing bare
as a field or a label; an unescaped control character in a string; ``min``/``max`` of a text
field; a grouped query whose ``offset + limit`` reaches 20 000. It honours ``timezone`` (default
UTC): datetime fields are grouped, filtered and returned in that zone, with their offset.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

ODS_PREFIX = "/api/explore/v2.1/catalog/datasets/"


class OdsqlError(ValueError):
    """What the reference answers with HTTP 400 (``ODSQLError``): the text is not valid ODSQL."""


SYNTAX_WORDS = frozenset({"and", "or", "not", "in", "like", "is", "null", "true", "false", "as", "asc", "desc"})
"""Keywords that may stand bare where the grammar expects them (operators, aliases, sort order)."""
RESERVED = SYNTAX_WORDS | {
    "select", "where", "group", "order", "by", "limit", "offset", "from", "having", "distinct",
    "date", "datetime", "year", "month", "day", "hour", "minute", "second", "geometry", "search",
}  # fmt: skip
"""ODSQL keywords: a field or a label spelled like one must be back-quoted (`` `year` ``)."""
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"\d+(\.\d+)?([eE][+-]?\d+)?")


def _backquoted(text: str, i: int) -> tuple[str, int]:
    """The field name of the back-quoted literal starting at ``text[i]`` (a back-quote inside is
    written ``\\``` , as the official client does) and the end."""
    j, name = i + 1, []
    while j < len(text) and text[j] != "`":
        if text[j : j + 2] == "\\`":
            j += 1
        name.append(text[j])
        j += 1
    if j >= len(text):
        raise OdsqlError("unterminated back-quoted field")
    return "".join(name), j + 1


def _string(text: str, i: int) -> tuple[str, int]:
    """The value of the double-quoted literal at ``text[i]`` (JSON-style escapes; raw control
    characters refused, as the reference's lexer does) and the end."""
    j, value = i + 1, []
    while j < len(text) and text[j] != '"':
        char = text[j]
        if ord(char) < 0x20:
            raise OdsqlError(f"unescaped control character U+{ord(char):04X} in string literal")
        if char == "\\":
            j += 1
            code = text[j] if j < len(text) else ""
            if code == "u":
                char, j = chr(int(text[j + 1 : j + 5], 16)), j + 4
            elif code in _ESCAPES:
                char = _ESCAPES[code]
            else:
                raise OdsqlError(f"invalid escape sequence \\{code} in string literal")
        value.append(char)
        j += 1
    if j >= len(text):
        raise OdsqlError("unterminated string literal")
    return "".join(value), j + 1


def odsql_to_sql(text: str) -> str:
    """Translate the ODSQL subset Pilotis writes into DuckDB SQL; :class:`OdsqlError` for what the
    reference refuses: numbers in scientific notation, a reserved keyword standing bare where a
    field or a label is expected, unterminated or badly escaped literals."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "`":
            name, i = _backquoted(text, i)
            out.append('"' + name.replace('"', '""') + '"')
        elif char == '"':
            value, i = _string(text, i)
            out.append("'" + value.replace("'", "''") + "'")
        elif text[i : i + 5].lower() == "date'":
            end = text.index("'", i + 5)
            literal = text[i + 5 : end]
            out.append(("TIMESTAMP '" if "T" in literal else "DATE '") + literal + "'")
            i = end + 1
        elif number := _NUMBER.match(text, i):
            if number.group(2):
                raise OdsqlError(f"invalid number literal {number.group(0)}: scientific notation is not ODSQL")
            out.append(number.group(0))
            i = number.end()
        elif word := _WORD.match(text, i):
            name = word.group(0)
            called = text[word.end() :].lstrip().startswith("(")
            if name.lower() in RESERVED - SYNTAX_WORDS and not called:
                raise OdsqlError(f"reserved keyword `{name}` must be escaped with back-quotes")
            out.append(name)
            i = word.end()
        else:
            out.append(char)
            i += 1
    sql = "".join(out)

    def fmt(match: re.Match[str]) -> str:
        pattern = match.group(2).replace("yyyy", "%Y").replace("MM", "%m").replace("dd", "%d")
        return f"strftime({match.group(1)}, '{pattern}')"

    return re.sub(r"date_format\(([^,]+),\s*'([^']*)'\)", fmt, sql)


def _label(alias: str) -> str:
    """A label as the reference names the result column: back-quotes removed, keywords refused."""
    alias = alias.strip()
    if alias.startswith("`"):
        name, end = _backquoted(alias, 0)
        if end != len(alias):
            raise OdsqlError(f"invalid label {alias}")
        return name
    if alias.lower() in RESERVED:
        raise OdsqlError(f"reserved keyword `{alias}` must be escaped with back-quotes")
    return alias


def _split(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        depth += char == "("
        depth -= char == ")"
        current += char
    if current.strip():
        parts.append(current.strip())
    return parts


class FakeApi:
    """The server and its state (rows, failure mode, request log)."""

    def __init__(
        self,
        rows: list[dict[str, Any]],
        fields: dict[str, str],
        dataset_id: str = "indicateurs",
        rest_items: list[dict[str, Any]] | None = None,
        port: int = 0,
    ) -> None:
        self.dataset_id = dataset_id
        self.fields = dict(fields)
        self.rest_items = [
            {k: _jsonable(v) for k, v in r.items()} for r in (rest_items if rest_items is not None else rows)
        ]
        self.mode = "ok"
        self.delay = 3.0
        self.quota_reset = 0.0
        """``mode = "quota"``: when the quota resets (epoch seconds), sent in the 429 answer."""
        self.api_key: str | None = None
        self.token: str | None = None
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._db = duckdb.connect(":memory:")
        self._db_lock = threading.Lock()
        self._load(rows)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    def _load(self, rows: list[dict[str, Any]]) -> None:
        import pandas as pd

        frame = pd.DataFrame(rows)
        if frame.columns.empty:
            frame = pd.DataFrame({name: pd.Series(dtype="object") for name in self.fields})
        with self._db_lock:
            self._db.register("incoming", frame)
            self._db.execute("CREATE OR REPLACE TABLE data AS SELECT * FROM incoming")
            self._db.unregister("incoming")

    def start(self) -> FakeApi:
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    # ------------------------------------------------------------------ ODS
    def _query(self, params: dict[str, str], paged: bool) -> tuple[int, Any]:
        try:
            return self._run_query(params, paged)
        except OdsqlError as exc:
            return 400, {"error_code": "ODSQLError", "message": str(exc)}

    def _run_query(self, params: dict[str, str], paged: bool) -> tuple[int, Any]:
        select = params.get("select", "*")
        where = params.get("where")
        group_by = params.get("group_by")
        order_by = params.get("order_by")
        zone = params.get("timezone", "UTC")
        try:
            ZoneInfo(zone)
        except (ValueError, ZoneInfoNotFoundError):
            return 400, {"error_code": "InvalidRESTParameterError", "message": f"Unknown timezone {zone}"}
        columns = list(self._visible_fields())
        exprs: list[str] = []
        groups: list[str] = []
        if group_by:
            for part in _split(group_by):
                expr, _, alias = part.rpartition(" as ")
                expr, alias = (expr, _label(alias)) if expr else (part, _label(part))
                exprs.append(f'{odsql_to_sql(expr)} AS "{alias}"')
                groups.append(f'"{alias}"')
        if select != "*":
            for part in _split(select):
                expr, _, alias = part.rpartition(" as ")
                self._check_aggregates(expr or part)
                exprs.append(f'{odsql_to_sql(expr)} AS "{_label(alias)}"' if expr else odsql_to_sql(part))
        elif not group_by:
            exprs = [f'"{c}"' for c in columns]
        source = "(SELECT " + ", ".join(self._source_column(c, zone) for c in columns) + " FROM data)"
        sql = f"SELECT {', '.join(exprs)} FROM {source} AS t"
        if where:
            sql += f" WHERE {odsql_to_sql(where)}"
        if groups:
            sql += " GROUP BY " + ", ".join(groups)
        if order_by:
            sql += " ORDER BY " + odsql_to_sql(order_by)
        limit = int(params.get("limit", "10" if paged else "-1"))
        offset = int(params.get("offset", "0"))
        if paged:
            # the reference: without group_by, limit <= 100 and offset + limit <= 10 000;
            # with group_by, limit <= 20 000 and offset + limit strictly below 20 000
            too_far = offset + limit >= 20000 if group_by else offset + limit > 10000
            if limit > (20000 if group_by else 100) or too_far:
                return 400, {
                    "error_code": "InvalidRESTParameterError",
                    "message": f"Invalid value for limit/offset ({limit}, {offset})",
                }
        try:
            with self._db_lock:
                cursor = self._db.execute(sql)
                names = [d[0] for d in cursor.description]
                rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        except duckdb.Error as exc:
            return 400, {"error_code": "ODSQLError", "message": str(exc).splitlines()[0]}
        rows = [{k: _jsonable(v, zone) for k, v in r.items()} for r in rows]
        if not paged:
            return 200, rows if limit < 0 else rows[:limit]
        return 200, {"total_count": len(rows), "results": rows[offset : offset + limit]}

    def _source_column(self, name: str, zone: str) -> str:
        """A column of the dataset as the query sees it: datetimes (stored in UTC) as local times of
        the request's ``timezone``, so that grouping, filtering and formatting happen there."""
        real = self._real(name).replace('"', '""')
        if self.fields.get(self._real(name)) == "datetime":
            return f"timezone('{zone}', timezone('UTC', \"{real}\")) AS \"{name}\""
        return f'"{real}" AS "{name}"'

    def _check_aggregates(self, expr: str) -> None:
        """The reference allows ``min``/``max`` on numbers and dates only."""
        for func, field in re.findall(r"\b(min|max)\s*\(\s*`((?:[^`\\]|\\.)*)`\s*\)", expr, re.IGNORECASE):
            name = field.replace("\\`", "`")
            if self._visible_fields().get(name) not in ("int", "double", "date", "datetime"):
                raise OdsqlError(f"{func}() is only allowed on numeric and date fields, not `{name}`")

    def _visible_fields(self) -> dict[str, str]:
        if self.mode == "columns":
            return {("value_renamed" if name == "valeur" else name): kind for name, kind in self.fields.items()}
        return self.fields

    def _real(self, name: str) -> str:
        return "valeur" if name == "value_renamed" else name

    # ------------------------------------------------------------------ handler
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(
                self, status: int, payload: Any, raw: bytes | None = None, headers: dict[str, str] | None = None
            ) -> None:
                body = raw if raw is not None else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                parts = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                api.requests.append((parts.path, params))
                if api.mode == "reset":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if api.mode == "timeout":
                    time.sleep(api.delay)
                if api.mode == "error":
                    return self._send(500, {"error_code": "InternalError", "message": "boom"})
                if api.mode == "malformed":
                    return self._send(200, None, b'{"results": [ {"oops"')
                if api.mode == "quota":  # the reference's answer once the daily quota is used up
                    reset = dt.datetime.fromtimestamp(api.quota_reset, dt.UTC)
                    body = {
                        "errorcode": 10002,
                        "reset_time": reset.isoformat().replace("+00:00", "Z"),
                        "limit_time_unit": "day",
                        "call_limit": 10000,
                        "error": "Too many requests on the domain. Please contact the domain administrator.",
                    }
                    limits = {"X-RateLimit-Limit": "10000", "X-RateLimit-Remaining": "0"}
                    limits["X-RateLimit-Reset"] = str(int(api.quota_reset))
                    return self._send(429, body, headers=limits)
                auth = self.headers.get("Authorization", "")
                if (
                    api.mode == "auth"
                    or (api.api_key and auth != f"Apikey {api.api_key}")
                    or (api.token and auth != f"Bearer {api.token}")
                ):
                    return self._send(401, {"error_code": "Unauthorized", "message": "Invalid API key"})
                path = parts.path
                if path == f"{ODS_PREFIX}{api.dataset_id}":
                    fields = [{"name": n, "type": t, "label": n} for n, t in api._visible_fields().items()]
                    return self._send(200, {"dataset_id": api.dataset_id, "fields": fields})
                if path == f"{ODS_PREFIX}{api.dataset_id}/records":
                    return self._send(*api._query(params, paged=True))
                if path == f"{ODS_PREFIX}{api.dataset_id}/exports/json":
                    return self._send(*api._query(params, paged=False))
                if path == "/rest/items":
                    page, limit = int(params.get("page", "1")), int(params.get("limit", "100"))
                    items = api._rest_items()[(page - 1) * limit : page * limit]
                    return self._send(200, {"data": {"items": items, "page": page}})
                if path == "/rest/cursor":
                    start = int(params.get("cursor", "0"))
                    every = api._rest_items()
                    items = every[start : start + 50]
                    more = start + 50 < len(every)
                    link = f"{api.url}/rest/cursor?cursor={start + 50}" if more else None
                    return self._send(200, {"items": items, "links": {"next": link}})
                return self._send(404, {"error_code": "NotFound", "message": "no such path"})

        return Handler

    def _rest_items(self) -> list[dict[str, Any]]:
        items = self.rest_items
        if self.mode == "columns":
            items = [{("value_renamed" if k == "valeur" else k): v for k, v in r.items()} for r in items]
        return items


def _jsonable(value: Any, zone: str | None = None) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is None and zone:
        return value.replace(tzinfo=ZoneInfo(zone)).isoformat()  # as the reference: with the offset
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value
