"""Generate a large synthetic RSA-like fact table for load/perf benchmarks.

Usage: ``python bench/make_bench_data.py [--rows N] [--out DIR] [--csv]``

Writes ``DIR/rsa_bench.parquet`` (default ``bench/data/``, git-ignored) with columns
``code_insee`` (string, one of the 240 real communes of ``data/communes.csv``),
``epci_siren`` (string), ``date`` (date32, the first day of the month, rows spread evenly
over the 120 months 2015-01..2024-12: the ``grain: month`` contract of a Pilotis period
column), ``foyers`` (int32) and ``montant`` (float64).  Rows are sorted by date and written
in row groups of ~1M rows (zstd), so min/max statistics let readers prune by date.
The file carries ``FORMAT`` in its key-value metadata (``pilotis_bench_format``): the
benchmarks regenerate a file written by an older version of this script.
Generation is chunked (one row group at a time) with fixed seeds: memory stays
low and the output is deterministic for a given ``--rows``.  The data is
synthetic (not real RSA figures).
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
START, END = dt.date(2015, 1, 1), dt.date(2024, 12, 31)
FORMAT = "2"
"""Version of the file layout (1: daily dates; 2: first day of the month)."""
SCHEMA = pa.schema(
    [
        ("code_insee", pa.string()),
        ("epci_siren", pa.string()),
        ("date", pa.date32()),
        ("foyers", pa.int32()),
        ("montant", pa.float64()),
    ]
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="number of rows (default 10,000,000)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "data", help="output directory")
    parser.add_argument("--csv", action="store_true", help="also write rsa_bench.csv")
    parser.add_argument("--row-group", type=int, default=1_000_000, help="rows per row group / chunk")
    return parser.parse_args()


def load_communes() -> tuple[pa.Array, pa.Array, np.ndarray]:
    """Codes, EPCI and sampling weights (population^0.8) of the 240 real communes."""
    df = pd.read_csv(ROOT / "data" / "communes.csv", dtype=str).sort_values("code_insee")
    pop = df["population"].astype(float).to_numpy()
    weights = pop**0.8
    return (
        pa.array(df["code_insee"].tolist()),
        pa.array(df["epci_siren"].tolist()),
        weights / weights.sum(),
    )


def make_chunk(
    index: int,
    first_row: int,
    size: int,
    total: int,
    codes: pa.Array,
    epcis: pa.Array,
    probs: np.ndarray,
) -> pa.Table:
    """Rows ``first_row .. first_row+size-1``; months grow monotonically with the row number."""
    rng = np.random.default_rng([53, index])
    n_months = (END.year - START.year) * 12 + END.month - START.month + 1
    rows = np.arange(first_row, first_row + size, dtype=np.int64)
    month = rows * n_months // total + (START.year - 1970) * 12 + START.month - 1
    days_since_epoch = month.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64).astype(np.int32)
    commune = pa.array(rng.choice(len(probs), size=size, p=probs).astype(np.int32))
    foyers = rng.poisson(12.0, size).astype(np.int32) + 1
    montant = np.round(foyers * rng.normal(560.0, 60.0, size), 2)
    return pa.Table.from_arrays(
        [
            codes.take(commune),
            epcis.take(commune),
            pa.Array.from_buffers(pa.date32(), size, [None, pa.py_buffer(days_since_epoch)]),
            pa.array(foyers),
            pa.array(montant),
        ],
        schema=SCHEMA,
    )


def file_format(path: Path) -> str | None:
    """The ``FORMAT`` stamped in a generated file (``None``: missing or older than version 2)."""
    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowInvalid):
        return None
    value = meta.get(b"pilotis_bench_format")
    return value.decode() if value else None


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    codes, epcis, probs = load_communes()
    parquet_path = args.out / "rsa_bench.parquet"
    csv_path = args.out / "rsa_bench.csv"
    t0 = time.perf_counter()
    csv_writer = pacsv.CSVWriter(csv_path, SCHEMA) if args.csv else None
    schema = SCHEMA.with_metadata({"pilotis_bench_format": FORMAT})
    with pq.ParquetWriter(parquet_path, schema, compression="zstd", write_statistics=True) as writer:
        for index, first in enumerate(range(0, args.rows, args.row_group)):
            size = min(args.row_group, args.rows - first)
            chunk = make_chunk(index, first, size, args.rows, codes, epcis, probs)
            chunk = chunk.replace_schema_metadata(schema.metadata)
            writer.write_table(chunk, row_group_size=args.row_group)
            if csv_writer is not None:
                csv_writer.write_table(chunk)
    if csv_writer is not None:
        csv_writer.close()
    elapsed = time.perf_counter() - t0
    meta = pq.read_metadata(parquet_path)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{parquet_path}: {meta.num_rows:,} rows, {meta.num_row_groups} row groups, "
        f"{parquet_path.stat().st_size / 1e6:.1f} MB"
    )
    if args.csv:
        print(f"{csv_path}: {csv_path.stat().st_size / 1e6:.1f} MB")
    print(f"elapsed {elapsed:.1f} s, peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
