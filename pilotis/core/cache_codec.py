"""How the shared caches store a value: Arrow IPC for DataFrames (their ``attrs`` as JSON), JSON
for the rest, never pickle (a shared cache must not be a way to run code in the app); and how a
key becomes a file name or a Redis key."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import struct
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)


_FRAME, _JSON = b"F", b"J"


def encode(value: Any) -> bytes:
    """Bytes of a DataFrame (Arrow IPC + attrs) or of a JSON value; ValueError otherwise."""
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        import pyarrow as pa

        try:
            table = pa.Table.from_pandas(value, preserve_index=False)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise ValueError(f"résultat non sérialisable : {exc}") from exc
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        attrs = json.dumps({k: v for k, v in value.attrs.items() if jsonable(v)}).encode()
        return _FRAME + struct.pack(">I", len(attrs)) + attrs + sink.getvalue()
    try:
        return _JSON + json.dumps(value).encode()
    except TypeError as exc:
        raise ValueError(f"valeur non sérialisable : {exc}") from exc


def decode(data: bytes) -> Any:
    """The value :func:`encode` wrote."""
    kind, body = data[:1], data[1:]
    if kind == _JSON:
        return json.loads(body)
    if kind == _FRAME:
        import pyarrow as pa

        (size,) = struct.unpack(">I", body[:4])
        attrs = json.loads(body[4 : 4 + size])
        with pa.ipc.open_stream(body[4 + size :]) as reader:
            frame = reader.read_all().to_pandas()
        frame.attrs.update(attrs)
        return frame
    raise ValueError("entrée de cache illisible")


def jsonable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def namespace_of(key: str) -> str:
    return key.partition("|")[0]


def encoded_entries(entries: Sequence[tuple[str, Any, float]], backend: str) -> list[tuple[str, bytes, float]]:
    """``(key, bytes, ttl)`` of the entries to store (ttl > 0), each distinct value encoded once;
    a value that cannot be encoded is logged and left out."""
    done: dict[int, bytes | None] = {}
    out: list[tuple[str, bytes, float]] = []
    for key, value, ttl in entries:
        if ttl <= 0:
            continue
        if id(value) not in done:
            try:
                done[id(value)] = encode(value)
            except ValueError as exc:
                log.warning("%s : %s", backend, exc)
                done[id(value)] = None
        body = done[id(value)]
        if body is not None:
            out.append((key, body, ttl))
    return out
