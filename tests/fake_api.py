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
(HTTP 401), ``columns`` (a field renamed), ``reset`` (connection closed without an answer).
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

import duckdb

ODS_PREFIX = "/api/explore/v2.1/catalog/datasets/"


def odsql_to_sql(text: str) -> str:
    """Translate the ODSQL subset Pilotis writes into DuckDB SQL."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "`":
            end = text.index("`", i + 1)
            out.append('"' + text[i + 1 : end] + '"')
            i = end + 1
        elif char == '"':
            j, value = i + 1, []
            while text[j] != '"':
                if text[j] == "\\":
                    j += 1
                value.append(text[j])
                j += 1
            out.append("'" + "".join(value).replace("'", "''") + "'")
            i = j + 1
        elif text[i : i + 5].lower() == "date'":
            end = text.index("'", i + 5)
            literal = text[i + 5 : end]
            out.append(("TIMESTAMP '" if "T" in literal else "DATE '") + literal + "'")
            i = end + 1
        else:
            out.append(char)
            i += 1
    sql = "".join(out)

    def fmt(match: re.Match[str]) -> str:
        pattern = match.group(2).replace("yyyy", "%Y").replace("MM", "%m").replace("dd", "%d")
        return f"strftime({match.group(1)}, '{pattern}')"

    return re.sub(r"date_format\(([^,]+),\s*'([^']*)'\)", fmt, sql)


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
        select = params.get("select", "*")
        where = params.get("where")
        group_by = params.get("group_by")
        order_by = params.get("order_by")
        columns = list(self._visible_fields())
        exprs: list[str] = []
        groups: list[str] = []
        if group_by:
            for part in _split(group_by):
                expr, _, alias = part.rpartition(" as ")
                expr, alias = (expr, alias) if expr else (part, part.strip("`"))
                exprs.append(f'{odsql_to_sql(expr)} AS "{alias}"')
                groups.append(f'"{alias}"')
        if select != "*":
            exprs += [odsql_to_sql(s) for s in _split(select)]
        elif not group_by:
            exprs = [f'"{c}"' for c in columns]
        source = "(SELECT " + ", ".join(f'"{self._real(c)}" AS "{c}"' for c in columns) + " FROM data)"
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
            cap_limit, cap_window = (20000, 20000) if group_by else (100, 10000)
            if limit > cap_limit or offset + limit > cap_window:
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
        rows = [{k: _jsonable(v) for k, v in r.items()} for r in rows]
        if not paged:
            return 200, rows if limit < 0 else rows[:limit]
        return 200, {"total_count": len(rows), "results": rows[offset : offset + limit]}

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

            def _send(self, status: int, payload: Any, raw: bytes | None = None) -> None:
                body = raw if raw is not None else json.dumps(payload).encode()
                self.send_response(status)
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


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value
