"""Pilotis against the peers a data team would write: a filter change on the RSA page.

Peers (``bench/peers/``): a plain Dash + pandas app (one global DataFrame, one callback per output)
and, when ``.venv-vizro`` exists, a Vizro app; both draw the core of the RSA page (KPI card,
monthly line, choropleth per 1,000 inhabitants) from the same file. Every app runs under
``gunicorn -w 2`` on loopback, in its own process group; Pilotis with login (demo president),
access, row rules and freshness on, as shipped.

For each of ``--runs`` rounds, the apps run one after another (interleaved: Pilotis, Dash, Vizro,
then again), each on a **fresh server** (a new instance folder: empty file cache, empty memory
fronts). On each server:

1. start to first 200 (``/login`` for Pilotis, ``/`` for the peers);
2. values checked: the KPI of five territories must be the same number in every app;
3. *uncached*: ``--changes`` filter changes to (territory, year) pairs never asked before on this
   server; each change sends what the browser sends, concurrently (6 connections, as a browser),
   naming the filters that changed since the previous change: Pilotis's page callback of
   ``rsa-coeur`` (:func:`core_dashboards`: the three widgets the peers draw), 3 callbacks for the
   Dash peer, 1 request for Vizro (it answers a parameter change with one request); Pilotis's
   *whole page* (the page callback of ``/rsa``, 10 widgets) is timed separately;
4. *warm*: the same changes again (Pilotis: answered from its caches);
5. server CPU per change: user + system time of the two workers (``/proc/<pid>/stat``) over the
   changes, divided by their number;
6. ``wrk -t2 -c16`` for ``--wrk-seconds`` on the core callbacks of the changes (cycled): filter
   changes per second = requests per second ÷ requests per change; then each worker's VmRSS.

Figures are medians over the runs; read the ratios (Pilotis ÷ Dash + pandas): the machine is
shared. ``--sizes 100k,1m,10m`` repeats everything on bigger files made by ``make_bench_data.py``
(long: several minutes per size). Usage: ``.venv/bin/python bench/bench_peers.py [--runs 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_startup import CSRF_COOKIE, CSRF_HEADER, login  # noqa: E402
from common import ROOT, fmt, free_port, load_average, machine, md_table, process_cpu_seconds, stop_process_group  # noqa: E402

VIZRO_VENV = ROOT / ".venv-vizro"
CORE = ("foyers", "evolution", "carte")
"""The RSA widgets the peers reproduce: KPI card, monthly line, choropleth per 1,000 inhabitants."""
CORE_DASHBOARD = "rsa-coeur"
"""Pilotis's page with the core widgets only (:func:`core_dashboards`)."""
CHECKED = ("departement:53", "epci:200083392", "epci:245300355", "commune:53130", "commune:53001")
PILOTIS_LOGIN = "president:demo-pilotis"


def smaps_rollup_mb(pid: int) -> dict[str, float]:
    """A process's memory totals (``/proc/<pid>/smaps_rollup``: Rss, Pss, Private_Dirty…) in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        fields[name.rstrip(":")] = int(value) / 1024
    return fields


@dataclass
class Server:
    """``gunicorn <app> -w 2`` on a free loopback port, in its own process group."""

    name: str
    command: list[str]
    env: dict[str, str]
    ready_path: str
    workdir: Path
    cwd: Path = ROOT
    port: int = field(default_factory=free_port)
    startup_s: float = 0.0
    bytecode: tuple[str, ...] = ()
    """The app's own modules (paths under ``cwd``), compiled before the clock starts, as ``make
    bytecode`` does for Pilotis: this machine sets PYTHONDONTWRITEBYTECODE, where every start
    would otherwise compile them again (for every app alike)."""

    def __post_init__(self) -> None:
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.workdir / f"{self.name}-{self.port}.log"

    def start(self) -> None:
        import requests

        if self.bytecode:
            subprocess.run([sys.executable, "-m", "compileall", "-q", *self.bytecode], cwd=self.cwd, check=True)
        with open(self.log, "wb") as log:
            started = time.perf_counter()
            self.proc = subprocess.Popen(
                [*self.command, "-b", f"127.0.0.1:{self.port}", "-w", "2", "--timeout", "120"],
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log.read_text(errors='replace')[-3000:]}")
            try:
                if requests.get(self.url + self.ready_path, timeout=30).status_code == 200:
                    self.startup_s = time.perf_counter() - started
                    return
            except requests.RequestException:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"{self.name} did not answer:\n{self.log.read_text(errors='replace')[-3000:]}")

    def workers(self) -> list[int]:
        kids = []
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                try:
                    stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(stat[1]) == self.proc.pid:
                    kids.append(int(proc.name))
        return kids

    def cpu(self) -> float:
        return sum(process_cpu_seconds(pid) or 0.0 for pid in self.workers())

    def rss_mb(self) -> float:
        """The largest VmRSS of the workers."""
        sizes = []
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return max(sizes)

    def pss_uss_mb(self) -> tuple[float, float]:
        """The largest PSS and USS of the workers (``/proc/<pid>/smaps_rollup``): with shared
        pages (a preloaded app), what each worker really adds."""
        pss, uss = [], []
        for pid in self.workers():
            fields = smaps_rollup_mb(pid)
            pss.append(fields["Pss"])
            uss.append(fields["Private_Clean"] + fields["Private_Dirty"])
        return max(pss), max(uss)

    def instance_pss_mb(self) -> float:
        """The PSS of the master and its workers together: the instance's memory, shared pages
        counted once (with ``preload_app`` the master holds the app the workers share)."""
        return sum(smaps_rollup_mb(pid)["Pss"] for pid in [self.proc.pid, *self.workers()])

    def stop(self) -> None:
        stop_process_group(self.proc, 10)


Body = dict[str, Any]


class App:
    """How one app is started, signed into, and asked for a filter change."""

    name = ""
    ready_path = "/"

    def __init__(self, workdir: Path, data: Path | None) -> None:
        self.workdir, self.data = workdir, data
        self.headers: dict[str, str] = {}
        self.cookies: dict[str, str] = {}

    def server(self) -> Server:
        raise NotImplementedError

    def prepare(self, server: Server) -> None:
        """Sign in, read the callback graph (once per server)."""

    def change(self, territory: str, year: str, whole: bool = False) -> list[Body]:
        """The callback requests one filter change sends."""
        raise NotImplementedError

    def kpi(self, responses: list[dict[str, Any]]) -> str:
        """The KPI card's number in the responses of a change (as text, spaces removed)."""
        text = json.dumps(responses, ensure_ascii=False)
        marker = (
            '"className": "kpi-value"' if not self.name.startswith("Pilotis") else '"className": "pilotis-kpi-value'
        )
        head = text.split(marker)[0]
        shown = head.rsplit('"children": "', 1)[1].split('"')[0].replace("\u202f", "").replace(" ", "")
        return re.match(r"[\d,]*", shown).group(0)  # type: ignore[union-attr]  # « 3890 foyers » -> 3890


def _body(output: str, outputs: Any, inputs: list[Body], state: list[Body] | None = None) -> Body:
    return {
        "output": output,
        "outputs": outputs,
        "inputs": inputs,
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
        "state": state or [],
    }


class Pilotis(App):
    name = "Pilotis"
    ready_path = "/login"
    checkout = ROOT
    """The checkout served (``--before``: an older one, as Pilotis (before))."""

    def server(self) -> Server:
        instance = Path(tempfile.mkdtemp(prefix="instance-", dir=self.workdir))
        env = dict(os.environ, PILOTIS_INSTANCE_DIR=str(instance), PILOTIS_BENCH_LOGIN=PILOTIS_LOGIN)
        dashboards = core_dashboards(self.checkout, self.workdir)
        env["PILOTIS_DASHBOARDS_DIR"] = str(dashboards)
        # A fresh server starts with empty caches: with Redis (PILOTIS_CACHE_URL), keys of its own.
        env["PILOTIS_CACHE_PREFIX"] = f"bench-{instance.name}:"
        if self.data is not None:  # the RSA communes dataset read from the bigger file
            env["PILOTIS_CONFIG_DIR"] = str(pilotis_config(self.checkout, self.data, self.workdir))
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        modules = ("app.py", "pilotis", "layouts", "data_sources", str(dashboards))
        return Server(
            self.name, [gunicorn, "app:server"], env, self.ready_path, self.workdir, self.checkout, bytecode=modules
        )

    def prepare(self, server: Server) -> None:
        import requests

        session = requests.Session()
        os.environ["PILOTIS_BENCH_LOGIN"] = PILOTIS_LOGIN
        login(session, server.url)
        self.cookies = dict(session.cookies.items())
        self.headers = {CSRF_HEADER: self.cookies.get(CSRF_COOKIE, "")}
        deps = session.get(server.url + "/_dash-dependencies", headers=self.headers, timeout=60).json()
        values: dict[tuple[str, str], Any] = {}

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                props = node.get("props", {})
                if isinstance(props, dict) and isinstance(props.get("id"), str):
                    for key, value in props.items():
                        values[(props["id"], key)] = value
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        self.deps = {}
        for dashboard in ("rsa", CORE_DASHBOARD):
            route = _body(
                "..page.children...page-title.children..",
                [{"id": "page", "property": "children"}, {"id": "page-title", "property": "children"}],
                [{"id": "url", "property": "pathname", "value": f"/{dashboard}"}],
            )
            page = session.post(server.url + "/_dash-update-component", json=route, headers=self.headers, timeout=60)
            walk(page.json())
            territory = f"{dashboard}--territory"
            self.deps[dashboard] = [d for d in deps if any(i["id"] == territory for i in d["inputs"])]
        self.values = values
        self.last: dict[str, tuple[str, str]] = {}

    def change(self, territory: str, year: str, whole: bool = False) -> list[Body]:
        """The page callback of the 3-widget page (``rsa-coeur``), or of the whole RSA page when
        ``whole`` (one callback per widget in older checkouts), saying which filters changed since
        the previous change of the same page, as dash-renderer does."""
        dashboard = "rsa" if whole else CORE_DASHBOARD
        filters = {f"{dashboard}--territory": territory, f"{dashboard}--period": year}
        before = self.last.get(dashboard)
        self.last[dashboard] = (territory, year)
        changed = [
            f"{name}.value"
            for name, old in zip(filters, before or (None, None), strict=True)
            if before is None or filters[name] != old
        ]
        bodies = []
        for dep in self.deps[dashboard]:
            outputs = [part.rsplit(".", 1) for part in dep["output"].strip(".").split("...")]
            inputs = []
            for i in dep["inputs"]:
                value = filters.get(i["id"], values_get(self.values, i))
                inputs.append({"id": i["id"], "property": i["property"], "value": value})
            listed = [{"id": out_id, "property": prop} for out_id, prop in outputs]
            body = _body(dep["output"], listed if dep["output"].startswith("..") else listed[0], inputs)
            body["changedPropIds"] = changed
            bodies.append(body)
        return bodies


def core_dashboards(checkout: Path, workdir: Path) -> Path:
    """A copy of ``checkout``'s dashboards/ plus ``rsa-coeur``: the RSA dashboard (same dataset,
    access rule, filters) with only the three widgets the peers draw (KPI card, monthly line,
    choropleth), for the « 3 widgets » rows: the same work on both sides."""
    import yaml

    target = workdir / f"dashboards-{checkout.name}"
    if not target.exists():
        shutil.copytree(checkout / "dashboards", target)
        rsa = yaml.safe_load((checkout / "dashboards" / "rsa.yaml").read_text(encoding="utf-8"))
        core = {**rsa, "id": CORE_DASHBOARD, "title": "RSA (3 widgets du banc d'essai)", "order": 99}
        core["widgets"] = [w for w in rsa["widgets"] if w["id"] in CORE]
        assert [w["id"] for w in core["widgets"]] == list(CORE), "dashboards/rsa.yaml: a core widget moved"
        text = yaml.safe_dump(core, allow_unicode=True, sort_keys=False)
        (target / f"{CORE_DASHBOARD}.yaml").write_text(text, encoding="utf-8")
    return target


def pilotis_config(checkout: Path, data: Path, workdir: Path) -> Path:
    """A copy of ``checkout``'s config/ whose ``rsa_communes`` dataset reads ``data``'s Pilotis
    copy (:func:`size_data`), in ``workdir``."""
    target = workdir / f"config-{checkout.name}-{data.parent.name}"
    if not target.exists():
        shutil.copytree(checkout / "config", target)
        yaml = target / "datasets" / "solidarites.yaml"
        shipped = "path: data/rsa_communes_mensuel.parquet"
        text = yaml.read_text(encoding="utf-8")
        assert shipped in text, "config/datasets/solidarites.yaml: the rsa_communes path moved"
        yaml.write_text(text.replace(shipped, f"path: {data.with_name('rsa_pilotis.parquet')}"), encoding="utf-8")
    return target


SIZES = {"100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}


def size_data(rows: int) -> Path:
    """``bench/data/size-<rows>/rsa_bench.parquet`` (``make_bench_data.py``, made when missing:
    read by the peers with ``foyers`` as the measure) and its copy ``rsa_pilotis.parquet`` with the
    shipped file's column name (``foyers_allocataires``) for Pilotis's unchanged config."""
    folder = ROOT / "bench" / "data" / f"size-{rows}"
    bench = folder / "rsa_bench.parquet"
    if not bench.exists():
        generator = [sys.executable, str(ROOT / "bench" / "make_bench_data.py"), "--rows", str(rows)]
        subprocess.run([*generator, "--out", str(folder)], check=True)
    copy = folder / "rsa_pilotis.parquet"
    if not copy.exists() or copy.stat().st_mtime < bench.stat().st_mtime:
        import duckdb

        columns = "code_insee, epci_siren, date, foyers AS foyers_allocataires"
        sql = (
            f"COPY (SELECT {columns} FROM read_parquet('{bench}')) TO '{copy}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)"
        )
        duckdb.connect().execute(sql)
    return bench


def values_get(values: dict[tuple[str, str], Any], dep_input: Body) -> Any:
    return values.get((dep_input["id"], dep_input["property"]))


class DashPandas(App):
    name = "Dash + pandas"

    def server(self) -> Server:
        env = dict(os.environ)
        if self.data is not None:
            env.update(PEER_DATA=str(self.data), PEER_MEASURE="foyers")
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        command = [gunicorn, "bench.peers.dash_pandas_app:server"]
        return Server(self.name, command, env, "/", self.workdir, bytecode=("bench/peers",))

    def change(self, territory: str, year: str, whole: bool = False) -> list[Body]:
        inputs = [
            {"id": "territory", "property": "value", "value": territory},
            {"id": "year", "property": "value", "value": year},
        ]
        return [
            _body(f"{out}.{prop}", {"id": out, "property": prop}, inputs)
            for out, prop in (("kpi", "children"), ("line", "figure"), ("map", "figure"))
        ]


class Vizro(App):
    name = "Vizro"

    def server(self) -> Server:
        env = dict(os.environ)
        if self.data is not None:
            env.update(PEER_DATA=str(self.data), PEER_MEASURE="foyers")
        gunicorn = str(VIZRO_VENV / "bin" / "gunicorn")
        command = [gunicorn, "bench.peers.vizro_app:server"]
        return Server(self.name, command, env, "/", self.workdir, bytecode=("bench/peers",))

    def prepare(self, server: Server) -> None:
        import requests

        deps = requests.get(server.url + "/_dash-dependencies", timeout=60).json()
        # The server callback of the territory parameter: it updates the three figures at once.
        self.dep = next(d for d in deps if "_finished" in d["output"] and "line.figure" in d["output"])

    def change(self, territory: str, year: str, whole: bool = False) -> list[Body]:
        outputs = []
        for part in self.dep["output"].strip(".").split("..."):
            name, _, digest = part.partition("@")
            out_id, prop = name.rsplit(".", 1)
            outputs.append({"id": out_id, "property": f"{prop}@{digest}" if digest else prop})
        trigger = self.dep["inputs"][0]
        state = [
            {"id": "territory", "property": "value", "value": territory},
            {"id": "year", "property": "value", "value": year},
        ]
        inputs = [{"id": trigger["id"], "property": trigger["property"], "value": {"triggered": time.time()}}]
        return [_body(self.dep["output"], outputs, inputs, state)]


class Client:
    """Sends the requests of filter changes concurrently, as a browser does (6 connections)."""

    def __init__(self, app: App, server: Server) -> None:
        import requests

        self.url = server.url + "/_dash-update-component"
        self.app = app
        self.pool = ThreadPoolExecutor(6)
        self.sessions: list[requests.Session] = []
        for _ in range(6):
            session = requests.Session()
            session.cookies.update(app.cookies)
            self.sessions.append(session)
        self._next = 0

    def post(self, index: int, body: Body) -> dict[str, Any]:
        response = self.sessions[index % 6].post(self.url, json=body, headers=self.app.headers, timeout=120)
        if response.status_code != 200:
            raise RuntimeError(f"{self.app.name}: HTTP {response.status_code} {response.text[:300]}")
        return response.json()

    def change(self, bodies: list[Body]) -> tuple[float, list[dict[str, Any]]]:
        started = time.perf_counter()
        futures = [self.pool.submit(self.post, i, body) for i, body in enumerate(bodies)]
        answers = [f.result() for f in futures]
        return time.perf_counter() - started, answers

    def close(self) -> None:
        self.pool.shutdown()


def changes_for(count: int, offset: int) -> list[tuple[str, str]]:
    """``count`` (territory, year) pairs, none asked before on this server (all communes × 4 years)."""
    import csv

    with open(ROOT / "data" / "communes.csv", encoding="utf-8") as handle:
        communes = [row["code_insee"] for row in csv.DictReader(handle)]
    pairs = [(f"commune:{c}", str(y)) for y in (2020, 2019, 2018, 2017) for c in communes]
    return pairs[offset : offset + count]


def measure(app: App, changes: int, wrk_seconds: int, wrk: Callable[..., dict[str, float]]) -> dict[str, Any]:
    """One fresh server of ``app``: every figure of the table."""
    server = app.server()
    server.start()
    out: dict[str, Any] = {"startup": server.startup_s}
    try:
        app.prepare(server)
        client = Client(app, server)
        out["kpis"] = [app.kpi(client.change(app.change(t, "2019"))[1]) for t in CHECKED]
        client.change(app.change("epci:200083392", "2018", whole=True))  # first request of each kind
        pairs = changes_for(changes, 0)
        for label, whole in (("core", False), ("page", True)):
            if whole and not app.name.startswith("Pilotis"):
                continue  # the peers draw the three core widgets only
            if whole:  # other pairs: uncached again
                pairs = changes_for(changes, changes)
            for phase in ("uncached", "warm"):
                cpu0, times = server.cpu(), []
                for territory, year in pairs:
                    times.append(client.change(app.change(territory, year, whole))[0])
                out[f"{label} {phase} p50"] = statistics.median(times) * 1000
                out[f"{label} {phase} cpu"] = (server.cpu() - cpu0) / len(pairs) * 1000
        bodies = [b for t, y in changes_for(changes, 0) for b in app.change(t, y)]
        per_change = len(app.change(*pairs[0]))
        cookie = "; ".join(f"{k}={v}" for k, v in app.cookies.items())
        headers = {**app.headers, **({"Cookie": cookie} if cookie else {})}
        result = wrk(client.url, bodies, headers, wrk_seconds, app.workdir)
        out["changes/s"] = result["rps"] / per_change
        out["wrk errors"] = result["errors"]
        out["rss"] = server.rss_mb()
        out["pss"], out["uss"] = server.pss_uss_mb()
        client.close()
    finally:
        server.stop()
    return out


WRK_LUA = """\
bodies = %s
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"%s}, bodies[(counter %% #bodies) + 1])
end
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format("BENCH %%d %%d %%d\\n", summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.timeout + errors.status))
end
"""


def run_wrk(url: str, bodies: list[Body], headers: dict[str, str], seconds: int, workdir: Path) -> dict[str, float]:
    """``wrk -t2 -c16`` cycling through ``bodies``: requests/s and errors (non-2xx included)."""
    lua = workdir / "peers.lua"
    table = "{" + ", ".join(json.dumps(json.dumps(b)) for b in bodies) + "}"
    extra = "".join(f", [{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())
    lua.write_text(WRK_LUA % (table, extra), encoding="utf-8")
    result = subprocess.run(
        ["wrk", "-t", "2", "-c", "16", "-d", f"{seconds}s", "--timeout", "10s", "-s", str(lua), url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    )
    match = re.search(r"BENCH (\d+) (\d+) (\d+)", result.stdout)
    if not match:
        raise RuntimeError(f"wrk output not understood:\n{result.stdout}\n{result.stderr}")
    n, duration_us, errors = map(int, match.groups())
    return {"rps": n / (duration_us / 1e6), "errors": errors}


ROWS = (
    ("territory change, p50, 3 widgets (KPI, monthly line, choropleth), uncached (ms)", "core uncached p50"),
    ("same, warm (ms)", "core warm p50"),
    ("server CPU per change, uncached (ms)", "core uncached cpu"),
    ("server CPU per change, warm (ms)", "core warm cpu"),
    ("whole RSA page (Pilotis: 10 widgets), p50 uncached (ms)", "page uncached p50"),
    ("whole RSA page, p50 warm (ms)", "page warm p50"),
    ("whole RSA page, CPU per change uncached / warm (ms)", "page cpu"),
    ("filter changes per second under wrk (-c16)", "changes/s"),
    ("worker RSS (MB)", "rss"),
    ("worker PSS (MB)", "pss"),
    ("worker USS, private pages (MB)", "uss"),
    ("start to first 200 (s)", "startup"),
)


def table(results: dict[str, list[dict[str, Any]]]) -> str:
    names = list(results)
    med = {n: {k: statistics.median(r[k] for r in results[n]) for k in results[n][0] if k != "kpis"} for n in names}
    base = "Dash + pandas"
    headers = ["", *names, *(f"{n} ÷ {base}" for n in names if n != base)]
    rows = []
    for label, key in ROWS:
        if key == "page cpu":
            cells = [
                f"{fmt(med[n]['page uncached cpu'])} / {fmt(med[n]['page warm cpu'])}"
                if n.startswith("Pilotis")
                else "–"
                for n in names
            ]
            rows.append([label, *cells, *("–" for n in names if n != base)])
            continue
        digits = 2 if key == "startup" else 1
        cells = [fmt(med[n].get(key), digits) if key in med[n] else "–" for n in names]
        ref_key = key.replace("core warm", "core uncached") if key.startswith("core warm") else key
        ref_key = ref_key.replace("page", "core")
        ref = med[base].get(ref_key)
        ratios = [f"{med[n][key] / ref:.2f}" if key in med[n] and ref else "–" for n in names if n != base]
        rows.append([label, *cells, *ratios])
    return md_table(headers, rows)


TARGETS = (
    # (label, key in the medians, app measured, compared to: a peer's key or a number, bound)
    ("3 widgets: server CPU per change uncached ≤ Dash + pandas", "core uncached cpu", "peer", 1.0),
    ("3 widgets: server CPU per change warm ≤ 0.5 × Dash + pandas", "core warm cpu", "peer uncached", 0.5),
    ("3 widgets: p50 uncached ≤ Dash + pandas", "core uncached p50", "peer", 1.0),
    ("filter changes per second ≥ every peer", "changes/s", "best peer", 1.0),
    ("worker RSS ≤ Dash + pandas + 20 MB", "rss", "peer + 20", 1.0),
    ("start to first 200 ≤ 1.0 s", "startup", 1.0, 1.0),
    ("whole RSA page p50 uncached ≤ 60 ms", "page uncached p50", 60.0, 1.0),
    ("whole RSA page p50 warm ≤ 30 ms", "page warm p50", 30.0, 1.0),
)
"""Issue 13's goals on the shipped data, checked by :func:`targets`."""


def targets(results: dict[str, list[dict[str, Any]]]) -> str:
    """Issue 13's goals against the medians (« **NO** » when missed: ``run_all.py`` then fails)."""
    med = {n: {k: statistics.median(r[k] for r in rs) for k in rs[0] if k != "kpis"} for n, rs in results.items()}
    mine, peer = med["Pilotis"], med["Dash + pandas"]
    peers = [m for n, m in med.items() if not n.startswith("Pilotis")]
    rows = []
    for label, key, against, bound in TARGETS:
        value = mine[key]
        if against == "peer":
            limit = peer[key] * bound
        elif against == "peer uncached":
            limit = peer[key.replace("warm", "uncached")] * bound
        elif against == "best peer":
            limit = max(m[key] for m in peers)  # at least as many as the best peer
        elif against == "peer + 20":
            limit = peer[key] + 20
        else:
            limit = float(against)
        ok = value >= limit if key == "changes/s" else value <= limit
        rows.append(
            [
                label,
                fmt(value, 2 if key == "startup" else 1),
                fmt(limit, 2 if key == "startup" else 1),
                "yes" if ok else "**NO**",
            ]
        )
    return md_table(["Goal (issue 13)", "Pilotis", "Bound", "Met"], rows)


def report(
    sizes: list[tuple[str, Path | None]],
    runs: int,
    changes: int,
    wrk_seconds: int,
    before: Path | None = None,
    vizro: bool = True,
) -> str:
    """The Markdown tables of every size: each app started ``runs`` times, interleaved."""
    kinds: list[type[App]] = [Pilotis, DashPandas]
    if before:
        kind = type("PilotisBefore", (Pilotis,), {"name": "Pilotis (before)", "checkout": before.resolve()})
        kinds.insert(1, kind)
    if VIZRO_VENV.exists() and vizro:
        kinds.append(Vizro)
    parts = [f"Machine: {machine()}\n\nLoad average at start: {load_average()}\n"]
    for title, data in sizes:
        with tempfile.TemporaryDirectory(prefix="pilotis-peers-") as tmp:
            results: dict[str, list[dict[str, Any]]] = {kind.name: [] for kind in kinds}
            for _ in range(runs):
                for kind in kinds:
                    results[kind.name].append(measure(kind(Path(tmp), data), changes, wrk_seconds, run_wrk))
            kpis = {name: runs_[0]["kpis"] for name, runs_ in results.items()}
            if data is None and len({tuple(v) for v in kpis.values()}) != 1:
                raise SystemExit(f"the apps do not show the same KPI values: {kpis}")
            parts.append(f"## {title}\n")
            parts.append(f"KPI of {', '.join(CHECKED)} in 2019, equal in every app: {', '.join(kpis['Pilotis'])}\n")
            parts.append(table(results))
            if data is None:
                parts.append("\n" + targets(results))
            errors = {n: sum(r["wrk errors"] for r in rs) for n, rs in results.items()}
            parts.append(f"\nwrk errors: {errors}. Load average at the end: {load_average()}\n")
            print("\n".join(parts[-4:]), file=sys.stderr, flush=True)
    return "\n".join(parts)


def run(runs: int = 3, quick: bool = False) -> str:
    """The Markdown section of ``run_all.py``: the shipped data, against the peers."""
    text = report([("RSA data as shipped (11,040 rows)", None)], 1 if quick else runs, 10, 3)
    return "## A filter change against Dash + pandas and Vizro (bench_peers.py)\n\n" + text.replace("\n## ", "\n### ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--changes", type=int, default=20, help="filter changes timed per phase")
    parser.add_argument("--wrk-seconds", type=int, default=5)
    parser.add_argument("--sizes", default="", help="also 100k,1m,10m rows (bench/make_bench_data.py; long)")
    parser.add_argument("--no-vizro", action="store_true")
    parser.add_argument("--skip-shipped", action="store_true", help="with --sizes: the bigger files only")
    parser.add_argument(
        "--before",
        type=Path,
        help="an older checkout of Pilotis (git archive REV | tar -x -C DIR), run as a fourth app",
    )
    args = parser.parse_args()
    sizes: list[tuple[str, Path | None]] = [] if args.skip_shipped else [("RSA data as shipped (11,040 rows)", None)]
    for name in filter(None, args.sizes.lower().split(",")):
        rows = SIZES[name]
        sizes.append((f"{rows:,} rows (synthetic, bench/make_bench_data.py)", size_data(rows)))
    print(report(sizes, args.runs, args.changes, args.wrk_seconds, args.before, not args.no_vizro))


if __name__ == "__main__":
    main()
