"""Benchmark of the JSON API against the dashboard callback that shows the same data.

Same app, same process, same data, same run, both through the Flask test client (no network):

* **page**: the ONE callback that redraws every widget of `/rsa` after a filter change vs the
  API's ``GET /api/v1/dashboards/rsa/widgets/<widget>`` for each of those widgets (the page's
  data by the API, call after call);
* **kpi**: the `rsa_foyers` KPI callback of the synthesis dashboard `/pilotage` (one callback per
  widget there) vs ``GET /api/v1/dashboards/pilotage/widgets/rsa_foyers?year=2019``
  (``WidgetType.data``: the figures the card draws).

The callback is signed in with a session cookie (its per-request cost: the session lookup); the
API call carries a bearer token (its per-request cost: the token lookup, then ONE write
transaction that counts the call for the rate limit and writes its audit line). Results are warm
in the query cache for both (first call untimed), so the ratio is about the request machinery.
Calls are timed in alternating blocks; medians of per-block means. Target: API ≤ 1.2× callback.

Usage: ``python bench/bench_api.py [--quick]`` (well under a minute).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, fmt, load_average, md_table  # noqa: E402

sys.path.insert(0, str(ROOT))

USER = "president"
TERRITORY = "departement:53"
YEAR = "2019"


def _sign_in(client: Any) -> None:
    from pilotis.accounts.users import DEMO_PASSWORD

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    answer = client.post("/login", data={"username": USER, "password": DEMO_PASSWORD, "csrf_token": token.group(1)})
    assert answer.status_code == 302, answer.status_code


def _callback(client: Any, portal: Any, case: str) -> Any:
    """POST what dash-renderer posts after a territory change: the page callback of /rsa, or the
    KPI callback of /pilotage."""
    from tests.helpers import page_callback, post_callback, widget_inputs

    if case == "page":
        return page_callback(client, portal.registry.dashboards["rsa"], TERRITORY, YEAR)
    dashboard = portal.registry.dashboards["pilotage"]
    headers = {"Accept-Encoding": "identity"}
    inputs = widget_inputs(dashboard, TERRITORY, YEAR)
    return post_callback(client, dashboard.dom_id("rsa_foyers"), "children", inputs, headers=headers)


def _api_urls(portal: Any, case: str) -> list[str]:
    """The API calls that fetch the same data as the case's callback."""
    from pilotis.web.wiring import page_callback_ids

    if case == "kpi":
        return [f"/api/v1/dashboards/pilotage/widgets/rsa_foyers?year={YEAR}&territory={TERRITORY}"]
    widget_ids, _ = page_callback_ids(portal.registry.dashboards["rsa"])
    return [f"/api/v1/dashboards/rsa/widgets/{w}?year={YEAR}&territory={TERRITORY}" for w in widget_ids]


CASES = ("page", "kpi")


def measure(calls: int, url: str) -> list[list[str]]:
    """Per case: median ms of the callback and of the API call, and their ratio."""
    from sqlalchemy import select, update

    from app import create_app
    from pilotis.accounts import api_tokens
    from pilotis.accounts.db import get_db
    from pilotis.accounts.models import ApiToken, User
    from pilotis.core.settings import Settings

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(
            instance_dir=Path(tmp),
            database_url=url or f"sqlite:///{tmp}/bench.db",
            mode="demo",
            cache_url="memory://",
            secure_cookies=False,
            proxies=0,
        )
        app = create_app(settings)
        server, portal, db = app.server, app.server.extensions["pilotis"], get_db(app.server)
        with db.session() as session:
            user_id = session.scalar(select(User.id).where(User.username == USER))
        row, token = api_tokens.create_personal(db, user_id, "banc d'essai")
        with db.session() as session:  # the benchmark's calls must not hit the rate limit
            session.execute(update(ApiToken).where(ApiToken.id == row.id).values(rate_per_minute=10**9))
        browser, program = server.test_client(), server.test_client()
        _sign_in(browser)
        bearer = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
        for case in CASES:
            api_urls = _api_urls(portal, case)
            first = _callback(browser, portal, case)
            assert first.status_code == 200, first.status_code
            for api_url in api_urls:
                answer = program.get(api_url, headers=bearer)
                assert answer.status_code == 200, (api_url, answer.get_data(as_text=True)[:300])
            times: dict[str, list[float]] = {"callback": [], "api": []}
            block = 10
            for _ in range(max(1, calls // block)):
                start = time.perf_counter()
                for _ in range(block):
                    _callback(browser, portal, case)
                times["callback"].append((time.perf_counter() - start) / block)
                start = time.perf_counter()
                for _ in range(block):
                    for api_url in api_urls:
                        program.get(api_url, headers=bearer)
                times["api"].append((time.perf_counter() - start) / block)
            callback, api = (statistics.median(times[k]) * 1000 for k in ("callback", "api"))
            rows.append(
                [f"{case} ({len(api_urls)} API calls)", fmt(callback, 2), fmt(api, 2), f"{api / callback:.2f}×"]
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls (a smoke run)")
    parser.add_argument("--database-url", default="", help="application database (default: a temporary SQLite file)")
    args = parser.parse_args()
    calls = 40 if args.quick else 200
    rows = measure(calls, args.database_url)
    print(f"API vs dashboard callback, same data, {calls} calls each, load {load_average()}")
    print(md_table(["case", "callback (ms)", "API (ms)", "API / callback"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
