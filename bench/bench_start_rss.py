"""Start-up and worker memory under ``gunicorn -w 2``: Pilotis against the Dash + pandas peer.

For each of ``--runs`` rounds, interleaved (Pilotis, Pilotis (before) when ``--before``, the
peers, the stack floors), each app on a fresh server (new instance folder for Pilotis, as on a first start; then a
second start on the same instance folder, as a restart):

1. start to first 200 (``/login`` for Pilotis, ``/`` for the peer), from ``Popen`` on;
2. server CPU (user + system of the master and its workers) spent by then;
3. each worker's RSS / PSS / USS (``/proc/<pid>/smaps_rollup``, the largest) right after start,
   then after one filter change on ``/rsa`` (Pilotis signed in as the demo president: the page
   callback and the widget callbacks of the page; the peer: its three callbacks).

Two more apps bound what any app on Pilotis's stack pays (``bench/peers/stack_floor_app.py``):
« stack floor » is the Dash + pandas peer that also imports and opens what Pilotis must be built
on (Dash Bootstrap Components, SQLAlchemy with a users table in SQLite, Flask-Login, PyYAML);
« stack floor + DuckDB » adds Pilotis's query engine. A second table sets Pilotis against them
and against issue 13's goals (start ≤ 1.0 s, worker RSS ≤ the peer's + 20 MB).

Every app runs with the repository's ``gunicorn.conf.py`` (``preload_app``: the master builds
the app, then forks the workers; gthread workers), as in ``bench_peers.py``: the apps are compared
on the same server settings. « Dash + pandas, gunicorn defaults » is the peer as a tutorial
deploys it (``gunicorn -c /dev/null``: sync workers, each importing the app itself). The
instance's memory is the PSS of the master and the workers together. Medians over the runs; read
the ratios (the machine is shared). Usage:
``.venv/bin/python bench/bench_start_rss.py [--runs 3] [--before /tmp/before]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_peers import App, Client, DashPandas, Pilotis, Server  # noqa: E402
from common import fmt, load_average, machine, md_table, process_cpu_seconds  # noqa: E402


def memory(server: Server) -> tuple[float, float, float]:
    """The largest RSS, PSS and USS of the workers (MB)."""
    return (server.rss_mb(), *server.pss_uss_mb())


def measure(app: App, server: Server) -> dict[str, Any]:
    """Start ``server``, time its first 200, read its memory before and after a filter change."""
    server.start()
    out: dict[str, Any] = {"start": server.startup_s}
    try:
        pids = [server.proc.pid, *server.workers()]
        out["cpu"] = sum(process_cpu_seconds(pid) or 0.0 for pid in pids)
        out["rss0"], out["pss0"], out["uss0"] = memory(server)
        app.prepare(server)
        client = Client(app, server)
        client.change(app.change("commune:53130", "2019", whole=True))
        out["rss1"], out["pss1"], out["uss1"] = memory(server)
        out["instance1"] = server.instance_pss_mb()
        client.close()
    finally:
        server.stop()
    return out


class StackFloor(DashPandas):
    """The Dash + pandas peer with Pilotis's required stack imported and opened (a lower bound)."""

    name = "stack floor"
    duckdb = False

    def server(self) -> Server:
        server = DashPandas.server(self)
        server.command = [server.command[0], "bench.peers.stack_floor_app:server"]
        server.env = {
            **server.env,
            "FLOOR_DB": str(self.workdir / "floor.db"),
            "FLOOR_DUCKDB": "1" if self.duckdb else "",
        }
        return server


class StackFloorDuckDB(StackFloor):
    """The stack floor with DuckDB opened and queried once at start."""

    name = "stack floor + DuckDB"
    duckdb = True


def floor_table(med: dict[str, dict[str, float]]) -> str:
    """Pilotis against the stack floors and the goals of issue 13."""
    peer = med[DashPandas.name]
    goals = {"start": 1.0, "restart": 1.0, "rss0": peer["rss0"] + 20, "rss1": peer["rss1"] + 20}
    floors = (StackFloor.name, StackFloorDuckDB.name)
    rows = []
    for label, key, digits in ROWS:
        if key not in goals:
            continue
        pilotis = med[Pilotis.name][key]
        cells = [fmt(med[n][key], digits) for n in floors]
        rows.append(
            [label, fmt(pilotis, digits), *cells, fmt(goals[key], digits), fmt(pilotis - med[floors[1]][key], digits)]
        )
    head = ["", Pilotis.name, *floors, "goal (issue 13)", f"{Pilotis.name} − {floors[1]}"]
    return md_table(head, rows)


class TutorialPeer(DashPandas):
    """The Dash + pandas peer under gunicorn's defaults (no configuration file)."""

    name = "Dash + pandas, gunicorn defaults"

    def server(self) -> Server:
        server = DashPandas.server(self)
        server.command = [server.command[0], "-c", "/dev/null", *server.command[1:]]
        return server


ROWS = (
    ("start to first 200, first start (s)", "start", 2),
    ("same, restart on the same instance folder (s)", "restart", 2),
    ("server CPU to the first 200, restart (s)", "cpu", 2),
    ("worker RSS after start, restart (MB)", "rss0", 1),
    ("worker PSS / USS after start (MB)", "pss0/uss0", 1),
    ("worker RSS after one /rsa filter change, restart (MB)", "rss1", 1),
    ("worker PSS / USS after it (MB)", "pss1/uss1", 1),
    ("instance memory after it: PSS of master + workers (MB)", "instance1", 1),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", type=Path, help="an older checkout (git archive REV | tar -x -C DIR)")
    args = parser.parse_args()
    kinds: list[type[App]] = [Pilotis, DashPandas, TutorialPeer, StackFloor, StackFloorDuckDB]
    if args.before:
        before = type("PilotisBefore", (Pilotis,), {"name": "Pilotis (before)", "checkout": args.before.resolve()})
        kinds.insert(1, before)
    print(f"Machine: {machine()}\n\nLoad average at start: {load_average()}\n")
    results: dict[str, list[dict[str, Any]]] = {kind.name: [] for kind in kinds}
    with tempfile.TemporaryDirectory(prefix="pilotis-start-") as tmp:
        for _ in range(args.runs):
            for kind in kinds:
                app = kind(Path(tmp), None)
                server = app.server()
                first = measure(app, server)
                again = Server(
                    server.name,
                    server.command,
                    server.env,
                    server.ready_path,
                    server.workdir,
                    server.cwd,
                    bytecode=server.bytecode,
                )
                second = measure(app, again)  # Pilotis: same instance folder (database at head, caches)
                results[kind.name].append({**second, "start": first["start"], "restart": second["start"]})
    names = list(results)
    base = DashPandas.name
    med = {n: {k: statistics.median(r[k] for r in results[n]) for k in results[n][0]} for n in names}
    rows = []
    for label, key, digits in ROWS:
        keys = key.split("/")
        cells = [" / ".join(fmt(med[n][k], digits) for k in keys) for n in names]
        ratios = [f"{med[n][keys[0]] / med[base][keys[0]]:.2f}" for n in names if n != base]
        rows.append([label, *cells, *ratios])
    print(md_table(["", *names, *(f"{n} ÷ {base}" for n in names if n != base)], rows))
    print(f"\n{floor_table(med)}")
    print(f"\nLoad average at the end: {load_average()}")


if __name__ == "__main__":
    main()
