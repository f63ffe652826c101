"""The « alertes en cours » band of the dashboards, in Chromium against gunicorn: it shows the
alerts the signed-in user may see, follows a change without a reload, is reached with the
keyboard and has a contrast of at least 7:1; the level is written, not only coloured."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pilotis.accounts.db import Database
from pilotis.accounts.models import AlertState
from tests.browser.conftest import new_tab, serve, sign_in
from tests.browser.support import describe, run_axe

pytestmark = pytest.mark.browser

RULE, LAVAL, OTHER = "rsa-foyers-epci", "200083392", "200055887"
CONTRAST = """() => {
  const band = document.querySelector('#pilotis-alert-band');
  const rgb = (text) => text.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const linear = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = (c) => { const [r, g, b] = c.map(linear); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const style = getComputedStyle(band);
  const [a, b] = [lum(rgb(style.color)), lum(rgb(style.backgroundColor))];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


@pytest.fixture(scope="module")
def band_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    instance = tmp_path_factory.mktemp("band-instance")
    with serve(instance, {"PILOTIS_ALERTS_BAND_SECONDS": "2"}) as base:
        yield base, instance


def _set(instance: Path, code: str, level: str) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with Database(f"sqlite:///{instance / 'pilotis.db'}") as db, db.session() as session:
        row = session.get(AlertState, (RULE, code)) or AlertState(rule=RULE, instance=code)
        row.state, row.level, row.since, row.fired_at, row.episode = "firing", level, now, now, 1
        row.value, row.territory = 2228.0, f"epci:{code}"
        session.add(row)


def test_the_band_shows_what_the_user_may_see_and_follows_changes(browser: Any, band_server) -> None:  # type: ignore[no-untyped-def]
    base, instance = band_server
    _set(instance, LAVAL, "alerte")
    context, tab = new_tab(browser, base, None)
    try:
        sign_in(tab.page, base, "agent.laval")
        tab.open("/rsa")
        text = tab.page.locator("#pilotis-alert-band .pilotis-alert-band-text")
        text.wait_for()
        assert text.text_content() == "Alertes en cours : 1 — niveau le plus élevé : ▲ alerte"
        tab.page.evaluate("() => { window.pilotisSameDocument = true; }")
        _set(instance, OTHER, "crise")  # outside agent.laval's territory: not counted
        _set(instance, LAVAL, "crise")
        tab.page.wait_for_function(
            "() => document.querySelector('.pilotis-alert-band-text').textContent.includes('⛔ crise')", timeout=15_000
        )
        assert text.text_content() == "Alertes en cours : 1 — niveau le plus élevé : ⛔ crise"
        assert tab.page.evaluate("() => window.pilotisSameDocument === true")  # no reload
        assert tab.page.evaluate(CONTRAST) >= 7
        tab.page.evaluate("() => document.activeElement && document.activeElement.blur()")
        tab.page.keyboard.press("Tab")
        focused = tab.page.evaluate("() => document.activeElement.className")
        assert focused == "pilotis-alert-band-link"
        with tab.page.expect_navigation():
            tab.page.keyboard.press("Enter")
        assert tab.page.url.endswith("/alertes")
        assert "⛔ crise" in tab.page.content()
        assert not tab.errors
    finally:
        context.close()


def test_the_band_and_the_alerts_page_pass_axe(browser: Any, band_server, axe_script) -> None:  # type: ignore[no-untyped-def]
    base, instance = band_server
    _set(instance, LAVAL, "alerte")
    context, tab = new_tab(browser, base, None)
    try:
        sign_in(tab.page, base, "agent.laval")
        tab.open("/rsa")
        tab.page.locator("#pilotis-alert-band .pilotis-alert-band-text").wait_for()
        on_band = [
            v for v in run_axe(tab.page, axe_script) if any("pilotis-alert" in str(n["target"]) for n in v["nodes"])
        ]
        assert not on_band, describe(on_band)
        tab.page.goto(base + "/alertes")
        blocking = [v for v in run_axe(tab.page, axe_script) if v["impact"] in ("serious", "critical")]
        assert not blocking, describe(blocking)
    finally:
        context.close()
