"""Bodies of the API: data frames as JSON rows or CSV, values made JSON-safe."""

from __future__ import annotations

import datetime as dt
import io
import math
from typing import Any

import flask
import numpy as np
import pandas as pd

from pilotis.core.secrecy import SECRET, as_text, label_of


def plain(value: Any) -> Any:
    """A JSON value: dates as ``AAAA-MM-JJ`` (with the time only when there is one), NaN and
    infinities as null, numpy scalars as Python numbers."""
    kind = type(value)
    if kind is str or kind is int or kind is bool:
        return value
    if kind is float or kind is np.float64:
        return float(value) if math.isfinite(value) else None
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        stamp = pd.Timestamp(value)
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame's rows as JSON-safe dictionaries; under statistical secrecy each row says
    ``"secret": true`` when its protected values are masked (they are ``null``)."""
    names = ["secret" if c == SECRET else str(c) for c in frame.columns]
    values = frame.to_numpy(dtype=object).tolist()  # one conversion (itertuples: 1 ms per row on strings)
    return [dict(zip(names, map(plain, record), strict=True)) for record in values]


def columns(frame: pd.DataFrame) -> list[dict[str, str]]:
    """``[{"name", "label"}]``: labels from ``attrs['labels']`` (the dataset's column labels)."""
    labels = frame.attrs.get("labels") or {}
    return [{"name": str(c), "label": str(labels.get(c, c))} for c in frame.columns if c != SECRET]


def secret(frame: pd.DataFrame) -> str | None:
    """What masked values stand for (« < 5 ») when the frame has some, else None."""
    return label_of(frame) or None


def json_body(body: dict[str, Any]) -> flask.Response:
    """A JSON answer that no shared cache keeps (it depends on who asks)."""
    answer = flask.jsonify(body)
    answer.headers["Cache-Control"] = "no-store"
    return answer


def csv_body(frame: pd.DataFrame, filename: str) -> flask.Response:
    """RFC 4180 CSV (comma, point as decimal separator, UTF-8), dates as ``AAAA-MM-JJ``; a value
    masked by statistical secrecy is written « < 5 »."""
    frame, _ = as_text(frame)
    buffer = io.StringIO()
    names = [str(c) for c in frame.columns]
    pd.DataFrame(rows(frame), columns=names).to_csv(buffer, index=False, lineterminator="\r\n")
    answer = flask.Response(buffer.getvalue().encode("utf-8"), mimetype="text/csv")
    answer.headers["Content-Type"] = "text/csv; charset=utf-8"
    answer.headers["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    answer.headers["Cache-Control"] = "no-store"
    return answer


def stale(frame: pd.DataFrame) -> bool:
    """True when the data comes from the last good result of a failing source."""
    return frame.attrs.get("stale_since") is not None
