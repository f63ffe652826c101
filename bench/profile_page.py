"""Where an uncached filter change on a dashboard page spends its CPU, in-process (not part of ``make bench``).

Builds the app on the shipped configuration (temporary instance folder, SQLite), signs in as the
president through the login form, then sends the page callback (every widget at once, as
dash-renderer does, naming the filters that changed: a widget that reads neither is left as it
is; ``--every``: every widget drawn) for ``--changes`` (commune, year) pairs never asked before,
so neither the rendered-widget cache nor the query cache answers for what they change. Prints the median CPU per change
(``time.process_time``) and, with ``--profile``, the functions with the most cumulative and own
time, in ms per change.

Usage: ``.venv/bin/python bench/profile_page.py [--changes 30] [--offset 0] [--profile] [--every] [--page rsa]``.
``PILOTIS_CONFIG_DIR`` profiles another configuration (e.g. the copy ``bench_peers.py --sizes``
writes, whose RSA dataset reads a bigger file).
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import gc
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from pilotis.core.settings import Settings  # noqa: E402
from tests import helpers  # noqa: E402
from tests.conftest import DashClient  # noqa: E402


def pairs(count: int, offset: int) -> list[tuple[str, str]]:
    """``count`` (territory, year) pairs, all communes × 4 years, from ``offset``."""
    with open(ROOT / "data" / "communes.csv", encoding="utf-8") as handle:
        communes = [row["code_insee"] for row in csv.DictReader(handle)]
    every = [(f"commune:{c}", str(y)) for y in (2020, 2019, 2018, 2017) for c in communes]
    return every[offset : offset + count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=30)
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--page", default="rsa")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--every", action="store_true", help="draw every widget at each change (a page's first call)")
    parser.add_argument("--top", type=int, default=45)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pilotis-profile-page-"))
    settings = Settings.from_env(
        root=ROOT,
        config_dir=Path(os.environ.get("PILOTIS_CONFIG_DIR", ROOT / "config")),
        dashboards_dir=ROOT / "dashboards",
        instance_dir=tmp,
        database_url=f"sqlite:///{tmp / 'pilotis.db'}",
        mode="demo",
        host="0.0.0.0",
        secure_cookies=False,
        proxies=0,
    )
    dash_app = create_app(settings)
    dash_app.server.test_client_class = DashClient
    client = dash_app.server.test_client()
    helpers.login_as(client, "president")
    dashboard = dash_app.server.extensions["pilotis"].registry.dashboards[args.page]
    # What the browser sends with each change: the compare views' territories as first shown
    # (without them, a compare view answers « choose two territories » and costs nothing).
    controls = {
        w.id: {f"t{i + 1}": w.territories[i] if i < len(w.territories) else "" for i in range(5)}
        for w in dashboard.widgets
        if w.type == "compare"
    }
    helpers.page_callback(client, dashboard, "departement:53", "2016", controls)  # imports, DuckDB views
    gc.freeze()  # as a gunicorn worker once ready (gunicorn.conf.py): start-up objects left out of collections
    todo = pairs(args.changes, args.offset)
    last = ["departement:53", "2016"]

    def changed(territory: str, year: str) -> tuple[str, ...]:
        """The filters that differ from the previous change, as dash-renderer names them
        (``--every``: none, as on a page's first call: every widget drawn)."""
        if args.every:
            return ()
        names = tuple(n for n, old, new in (("territory", last[0], territory), ("period", last[1], year)) if old != new)
        last[:] = [territory, year]
        return names

    profiler = cProfile.Profile() if args.profile else None
    times, sizes = [], []
    for territory, year in todo:
        start = time.process_time()
        if profiler:
            profiler.enable()
        response = helpers.page_callback(client, dashboard, territory, year, controls, changed=changed(territory, year))
        if profiler:
            profiler.disable()
        times.append((time.process_time() - start) * 1000)
        assert response.status_code == 200, response.status_code
        sizes.append(len(response.get_data()))
    print(
        f"{args.page}: {len(todo)} uncached changes, CPU per change median {statistics.median(times):.1f} ms, "
        f"mean {statistics.mean(times):.1f} ms (min {min(times):.1f}, max {max(times):.1f}); "
        f"answer {statistics.median(sizes) / 1024:.0f} kB (median, uncompressed)"
    )
    warm = []
    for territory, year in todo:  # the same changes again: the rendered-widget cache answers
        start = time.process_time()
        helpers.page_callback(client, dashboard, territory, year, controls, changed=changed(territory, year))
        warm.append((time.process_time() - start) * 1000)
    print(f"{args.page}: the same changes again (warm), CPU per change median {statistics.median(warm):.1f} ms")
    if profiler:
        stats = pstats.Stats(profiler)
        for key, title in (("cumulative", "cumulative"), ("tottime", "own time")):
            print(f"\n-- top by {title}, ms per change --")
            rows = sorted(stats.stats.items(), key=lambda kv: kv[1][3 if key == "cumulative" else 2], reverse=True)  # type: ignore[attr-defined]
            for (file, line, name), (_cc, calls, tt, ct, _callers) in rows[: args.top]:
                short = file.replace(str(ROOT) + "/", "").split("site-packages/")[-1]
                per = [ct * 1000 / len(todo), tt * 1000 / len(todo), calls / len(todo)]
                print(f"{per[0]:8.2f} {per[1]:8.2f} {per[2]:7.1f}  {short}:{line}({name})")
        stats.dump_stats(str(tmp / "profile.pstats"))
        print(f"\npstats: {tmp / 'profile.pstats'}")


if __name__ == "__main__":
    main()
