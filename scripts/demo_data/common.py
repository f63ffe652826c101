"""Deterministic writers and small helpers shared by the demo-data scripts."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

FIXED_ZIP_TIME = (2026, 1, 1, 0, 0, 0)
FIXED_DOC_TIME = "2026-01-01T00:00:00Z"


def collation_key(text: str) -> str:
    """Approximate French collation: accents removed, case folded ("Évron" sorts with "E")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def month_starts(start: str, end: str) -> pd.DatetimeIndex:
    """First day of every month from ``start`` to ``end`` inclusive (ISO dates)."""
    return pd.date_range(start, end, freq="MS")


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split the integer ``total`` in proportion to ``weights``; parts sum exactly to ``total``.

    Ties on the remainder are broken by position (stable sort), hence deterministic.
    """
    w = np.asarray(weights, dtype=float)
    quotas = total * w / w.sum()
    base = np.floor(quotas).astype(np.int64)
    missing = int(total - base.sum())
    order = np.argsort(-(quotas - base), kind="stable")
    base[order[:missing]] += 1
    return base


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """UTF-8 CSV, ``\\n`` line endings, no index; dates must already be ISO strings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def write_parquet(df: pd.DataFrame, schema: pa.Schema, path: Path) -> None:
    """Parquet (zstd) with an explicit Arrow schema and no pandas/timestamp metadata."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = []
    for field in schema:
        col = df[field.name]
        if pa.types.is_date32(field.type):
            values = pd.to_datetime(col).to_numpy().astype("datetime64[D]")
            arrays.append(pa.array(values, type=pa.date32()))
        elif pa.types.is_string(field.type):
            arrays.append(pa.array(col.astype(object).tolist(), type=pa.string()))
        else:
            arrays.append(pa.array(col.to_numpy(), type=field.type))
    table = pa.Table.from_arrays(arrays, schema=schema.remove_metadata())
    pq.write_table(table, path, compression="zstd", write_statistics=True)


def write_json(obj: Any, path: Path) -> None:
    """Compact UTF-8 JSON (no spaces)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def write_xlsx(df: pd.DataFrame, sheet: str, path: Path) -> None:
    """Write an .xlsx with openpyxl, then normalise zip timestamps and document dates."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        df.to_excel(writer, sheet_name=sheet, index=False)
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():  # openpyxl order: [Content_Types].xml first
            data = src.read(name)
            if name == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(
                    r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)",
                    rf"\g<1>{FIXED_DOC_TIME}\2",
                    text,
                )
                data = text.encode("utf-8")
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, data)
    path.write_bytes(out.getvalue())


def iso(dates: pd.Series | pd.DatetimeIndex) -> pd.Series:
    """Format datetimes as ``YYYY-MM-DD`` strings (for CSV output)."""
    return pd.Series(pd.to_datetime(dates)).dt.strftime("%Y-%m-%d").to_numpy()


def first_of_year(years: pd.Series) -> pd.Series:
    """``2019`` -> ``'2019-01-01'``."""
    return years.astype(int).map(lambda y: dt.date(int(y), 1, 1).isoformat())
