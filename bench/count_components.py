"""How many Dash components a dashboard page holds once drawn (dash-renderer's work grows with it).

dash-renderer runs its selectors and loading reducer for every component on every store update,
so the number of components in its layout store is what a page costs in blocking time. This
script serves the checkout (``gunicorn app:server``, as :mod:`bench_frontend` does), signs in as
the demo president, opens each page in Chromium, waits for the widgets' data, and counts the
components in ``window.store.getState().layout`` (the page and every callback's output), by type.

Usage: ``python bench/count_components.py [--page /rsa ...] [--checkout DIR]``.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
from bench_frontend import ROOT, _browser, served, session_cookie  # noqa: E402

from tests.browser.support import COMPONENTS_JS  # noqa: E402 - the browser test's own count


def count(url: str, cookie: str) -> dict[str, int]:
    """Components of the page at ``url`` once its widgets are drawn, by type."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = _browser(playwright)
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        context.set_extra_http_headers({"Cookie": cookie})
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector(".pilotis-widget-body > *", timeout=60_000)
        page.wait_for_load_state("networkidle", timeout=60_000)
        found: dict[str, int] = page.evaluate(COMPONENTS_JS)
        browser.close()
    return found


def run(pages: list[str], checkout: Path) -> dict[str, Any]:
    """``{page: {"total": n, "by_type": {...}}}`` for ``checkout`` served on a free port."""
    instance = Path(tempfile.mkdtemp(prefix="bench-count-instance-"))
    result: dict[str, Any] = {}
    with served("app", checkout, {"PILOTIS_INSTANCE_DIR": str(instance)}, "/login") as base:
        cookie = session_cookie(base)
        for page in pages:
            by_type = count(base + page, cookie)
            ordered = collections.Counter(by_type).most_common()
            result[page] = {"total": sum(by_type.values()), "by_type": dict(ordered)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", action="append", help="a page's path (default: /rsa)")
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the Pilotis checkout to serve")
    args = parser.parse_args()
    print(json.dumps(run(args.page or ["/rsa"], args.checkout), indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
