"""Where a cached widget callback spends its time under load (not part of ``make bench``).

Starts the big-sources benchmark app under gunicorn (2 workers, ``bench_sources.Gunicorn``),
signs in, sends the same cached KPI callback with ``wrk -t2 -c16`` while ``py-spy`` samples both
workers, then prints the share of samples in each function (inclusive) and the hottest lines.

Needs ``wrk`` (Debian) and py-spy (``.venv/bin/pip install py-spy``); the data of
``bench_sources.py`` (generated when missing). Usage: ``.venv/bin/python bench/profile_http.py [SECONDS]``.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_sources as bs  # noqa: E402
from bench_startup import CSRF_COOKIE, CSRF_HEADER, login  # noqa: E402


def main(seconds: int = 12) -> None:
    import requests

    bs.generate()
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists():
        raise SystemExit("py-spy is missing: .venv/bin/pip install py-spy")
    with tempfile.TemporaryDirectory(prefix="pilotis-profile-") as tmp:
        work = Path(tmp)
        config, dashboards = bs.write_config(work)
        (work / "instance").mkdir()
        env = dict(
            os.environ,
            PILOTIS_INSTANCE_DIR=str(work / "instance"),
            PILOTIS_CONFIG_DIR=str(config),
            PILOTIS_DASHBOARDS_DIR=str(dashboards),
        )
        server = bs.Gunicorn("app:server", bs.ROOT, env, work)
        try:
            session = requests.Session()
            server.wait(session, "/login")
            login(session, server.url)
            code = bs.sensor_sites()[0][1]
            body = {
                "output": "capteurs--niveau.children",
                "outputs": {"id": "capteurs--niveau", "property": "children"},
                "inputs": [
                    {"id": "capteurs--territory", "property": "value", "value": f"commune:{code}"},
                    {"id": "capteurs--period", "property": "value", "value": "2024"},
                ],
                "changedPropIds": ["capteurs--territory.value"],
                "state": [],
            }
            headers = {CSRF_HEADER: session.cookies.get(CSRF_COOKIE) or ""}
            for _ in range(3):  # DuckDB once, then the caches
                session.post(server.url + "/_dash-update-component", json=body, headers=headers)
            cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
            workers = server.workers()
            outputs = [work / f"spy-{pid}.txt" for pid in workers]
            spies = [
                subprocess.Popen(
                    [str(spy), "record", "-p", str(pid), "-d", str(seconds), "-r", "200", "-f", "raw", "-o", str(out)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for pid, out in zip(workers, outputs, strict=True)
            ]
            result = bs.wrk(server.url + "/_dash-update-component", body, {**headers, "Cookie": cookie}, seconds, work)
            for process in spies:
                process.wait(timeout=seconds + 60)
        finally:
            server.stop()
        print(f"wrk: {result['rps']:.0f} requests/s, p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms")
        report(outputs)


def report(outputs: list[Path]) -> None:
    """Inclusive share of samples per function, and the hottest lines (self time)."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for out in outputs:
        for line in out.read_text().splitlines():
            stack, _, count_text = line.rpartition(" ")
            count = int(count_text)
            total += count
            frames = stack.split(";")
            for name in {frame.split(" (")[0] for frame in frames}:
                inclusive[name] += count
            own[frames[-1]] += count
    print(f"{total} samples")
    for name, count in inclusive.most_common(45):
        print(f"{100 * count / total:5.1f} %  {name}")
    print("-- hottest lines")
    for name, count in own.most_common(15):
        print(f"{100 * count / total:5.1f} %  {name}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 12)
