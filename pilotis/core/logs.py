"""Logs: one line of JSON per record (``PILOTIS_LOG_FORMAT=json``) and the request id on every line.

The request id comes from the ``X-Request-ID`` header set by the reverse proxy (nginx
``$request_id``), or is generated when absent or malformed; it is kept in a context variable for
the time of the request (:func:`request_id_scope`, set by :mod:`pilotis.web.request_id`) and added
to every record logged meanwhile, whatever the logger. The same id is returned in the response's
``X-Request-ID``, so a user's report, nginx's access log and the app's lines can be matched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

REQUEST_ID: ContextVar[str] = ContextVar("pilotis_request_id", default="")
VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
"""What a received id may look like (nginx's are 32 hex digits): anything else is replaced, so
that a client cannot write arbitrary text (new lines, JSON) into the logs."""
FORMATS = ("text", "json")
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


def request_id_from(header: str | None) -> str:
    """The received id when it is well-formed, else a new random one."""
    if header and VALID_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


@contextlib.contextmanager
def request_id_scope(request_id: str) -> Iterator[str]:
    """Inside the block, every log record carries ``request_id``."""
    token = REQUEST_ID.set(request_id)
    try:
        yield request_id
    finally:
        REQUEST_ID.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``""`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO), level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", "") or REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool | str | None) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(log_format: str, level: int = logging.INFO, *, keep_text: bool = False) -> None:
    """Send the root logger's records to stderr, as JSON or as text with the request id.

    ``text`` keeps the process's own logging when it already has a handler (gunicorn, tests), and
    changes nothing at all with ``keep_text`` (the app: text logs stay as they were before).
    """
    root = logging.getLogger()
    if log_format not in FORMATS:
        raise ValueError(f"PILOTIS_LOG_FORMAT : « {log_format} » inconnu (text ou json)")
    if log_format == "text" and (keep_text or root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    for old in [h for h in root.handlers if getattr(h, "_pilotis", False)]:
        root.removeHandler(old)
    handler._pilotis = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
