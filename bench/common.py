"""Small helpers shared by the benchmarks: statistics, Markdown tables, memory, ports."""

from __future__ import annotations

import os
import platform
import resource
import signal
import socket
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository root (the benchmarks run against this checkout)."""


def median_ms(seconds: Sequence[float]) -> float:
    """Median of durations given in seconds, in milliseconds."""
    return statistics.median(seconds) * 1000


def p95_ms(seconds: Sequence[float]) -> float:
    """95th percentile (linear interpolation) of durations in seconds, in milliseconds."""
    if len(seconds) == 1:
        return seconds[0] * 1000
    return statistics.quantiles(seconds, n=20, method="inclusive")[-1] * 1000


def peak_rss_mb() -> float:
    """Peak resident set size of this process since it started or since :func:`reset_peak_rss`, in MB.

    Linux ``VmHWM``. Not ``ru_maxrss``: after fork + exec, that one still holds the parent's
    peak (a child started by a 500 MB parent reports 500 MB). Elsewhere: ``ru_maxrss``.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> None:
    """Start a new window for :func:`peak_rss_mb` (Linux: ``clear_refs`` 5; no-op elsewhere)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def current_rss_mb() -> float:
    """Current resident set size of this process, in MB (Linux ``/proc``; peak elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return peak_rss_mb()
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def load_average() -> str:
    """The 1-minute load average and the core count, e.g. ``0.4 on 2 cores`` (Linux/macOS)."""
    try:
        one = os.getloadavg()[0]
    except OSError:
        return "unknown"
    return f"{one:.1f} on {os.cpu_count()} cores"


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time used so far by process ``pid`` (Linux ``/proc``), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the command name: state is field 3, utime 14 and stime 15 (1-based, man proc).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fmt(value: float | None, digits: int = 1) -> str:
    """A number for a table cell (``—`` when missing)."""
    if value is None:
        return "—"
    return f"{value:,.{digits}f}".replace(",", " ")


def ratio(value: float | None) -> str:
    """A ratio for a table cell, e.g. ``23.4×``."""
    if value is None:
        return "—"
    return f"{value:.1f}×" if value < 100 else f"{value:.0f}×"


def md_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table (first column left-aligned, the others right-aligned)."""
    align = [":---"] + ["---:"] * (len(headers) - 1)
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """One line describing the machine and the versions that matter for the figures."""
    import dash
    import duckdb
    import pandas
    import pyarrow

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kib / 1024 / 1024:.0f} GB RAM"
    except (OSError, IndexError, ValueError):
        pass
    return (
        f"{os.cpu_count()} cores{f' ({cpu})' if cpu else ''}{mem}, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, Dash {dash.__version__}, "
        f"DuckDB {duckdb.__version__}, pandas {pandas.__version__}, pyarrow {pyarrow.__version__}"
    )


def ensure_bench_data(path: Path) -> None:
    """Generate the 10M-row Parquet file with ``make_bench_data.py`` when missing or stale."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        import make_bench_data
    finally:
        sys.path.pop(0)
    if path.exists() and make_bench_data.file_format(path) == make_bench_data.FORMAT:
        return
    state = "missing" if not path.exists() else "written by an older make_bench_data.py"
    print(f"{path} {state}: generating it (a few seconds)…", file=sys.stderr, flush=True)
    subprocess.run(
        [sys.executable, str(Path(make_bench_data.__file__)), "--out", str(path.parent)],
        check=True,
        stdout=sys.stderr,
    )


PORTAL_YAML = """\
title: Pilotis bench
collectivite: {nom: Département de la Mayenne, code_departement: "53"}
communes_dataset: communes
epci_dataset: epci
"""

REFERENCE_DATASETS_YAML = """\
communes:
  type: csv
  path: data/communes.csv
  title: Communes
  columns:
    code_insee: {type: string}
    nom: {type: string}
    epci_siren: {type: string}
    epci_nom: {type: string}
    population: {type: integer}
  territory: {commune: code_insee, epci: epci_siren}
epci:
  type: csv
  path: data/epci.csv
  title: EPCI
  columns:
    epci_siren: {type: string}
    population: {type: integer}
  territory: {epci: epci_siren}
"""
"""The commune and EPCI lookup tables every bench configuration declares (real files in data/)."""


def stop_process_group(proc: subprocess.Popen[bytes], wait: float = 5.0) -> None:
    """SIGTERM to ``proc``'s own process group (started with ``start_new_session``), then
    SIGKILL if it is still there after ``wait`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
