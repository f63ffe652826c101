"""A real HTTP server for tests: the subset of OGC SensorThings API v1.1 that Pilotis reads.

``GET /v1.1/Observations`` and ``GET /v1.1/Datastreams(<id>)/Observations`` answer as the
standard says (OGC 18-088, §9.3 « Query entities »): ``{"value": [...]}`` with, when more remain,
``"@iot.nextLink"`` — the full address of the next page, carrying every query option. Options:
``$top`` (the server caps it at ``max_top``, as servers may), ``$skip``, ``$orderby=phenomenonTime
asc|desc``, ``$count=true`` (``@iot.count``), ``$expand=Datastream($select=name)``, and
``$filter=phenomenonTime ge <instant>``. Any other ``$`` option or filter: HTTP 400, as a
server refusing an unsupported option does. Observations have ``@iot.id``, ``phenomenonTime``,
``resultTime``, ``result``.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

KNOWN = {"$top", "$skip", "$orderby", "$count", "$expand", "$filter"}
_PATH = re.compile(r"^/v1\.1/(?:Datastreams\((\d+)\)/)?Observations$")
_FILTER = re.compile(r"^phenomenonTime ge (\S+)$")


class FakeSensorThings:
    """The server, its datastreams (id → name) and observations (dicts with a ``datastream`` id)."""

    def __init__(self, datastreams: dict[int, str], observations: list[dict[str, Any]], max_top: int = 100) -> None:
        self.datastreams = datastreams
        self.observations = [{"@iot.id": i + 1, **o} for i, o in enumerate(observations)]
        self.max_top = max_top
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1.1"

    def start(self) -> FakeSensorThings:
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def answer(self, path: str, query: str) -> tuple[int, Any]:
        match = _PATH.match(path)
        if not match:
            return 404, {"code": 404, "type": "error", "message": "Not a valid path"}
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        unknown = set(params) - KNOWN
        if unknown:
            return 400, {"code": 400, "type": "error", "message": f"Unsupported option {sorted(unknown)}"}
        items = [o for o in self.observations if match.group(1) is None or o["datastream"] == int(match.group(1))]
        if "$filter" in params:
            found = _FILTER.match(params["$filter"])
            if not found:
                return 400, {"code": 400, "type": "error", "message": "Unsupported $filter"}
            items = [o for o in items if o["phenomenonTime"].split("/")[-1] >= found.group(1)]
        order = params.get("$orderby", "@iot.id asc")
        if order not in ("phenomenonTime asc", "phenomenonTime desc", "@iot.id asc"):
            return 400, {"code": 400, "type": "error", "message": "Unsupported $orderby"}
        key = "@iot.id" if order.startswith("@") else "phenomenonTime"
        items = sorted(items, key=lambda o: o[key], reverse=order.endswith("desc"))
        top = min(int(params.get("$top", self.max_top)), self.max_top)
        skip = int(params.get("$skip", 0))
        page = items[skip : skip + top]
        body: dict[str, Any] = {}
        if params.get("$count") == "true":
            body["@iot.count"] = len(items)
        if skip + top < len(items):
            body["@iot.nextLink"] = f"http://127.0.0.1:{self.port}{path}?" + urlencode({**params, "$skip": skip + top})
        expand = params.get("$expand", "")
        body["value"] = [self._entity(o, expand.startswith("Datastream")) for o in page]
        return 200, body

    def _entity(self, observation: dict[str, Any], expand: bool) -> dict[str, Any]:
        base = f"http://127.0.0.1:{self.port}/v1.1/Observations({observation['@iot.id']})"
        entity = {
            "@iot.id": observation["@iot.id"],
            "@iot.selfLink": base,
            "phenomenonTime": observation["phenomenonTime"],
            "resultTime": observation.get("resultTime"),
            "result": observation["result"],
        }
        if expand:
            entity["Datastream"] = {"name": self.datastreams[observation["datastream"]]}
        else:
            entity["Datastream@iot.navigationLink"] = f"{base}/Datastream"
        return entity

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                parts = urlsplit(self.path)
                owner.requests.append(self.path)
                status, body = owner.answer(parts.path, parts.query)
                data = json.dumps(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                pass

        return Handler
