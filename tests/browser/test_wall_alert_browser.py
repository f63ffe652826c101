"""The wall screen of the flood dashboard (``config/seances/crues.yaml``, opened by a display link)
shows the « alertes en cours » band as soon as a sensor posts a reading over the threshold: Chromium
against gunicorn, no worker running (the web process evaluates the rule right after the ingestion),
no reload of the screen; the band is reached with the keyboard, offers no link (a wall screen opens
nothing but its séance) and has a contrast of at least 7:1."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from pilotis.accounts import display_links, sensor_store
from pilotis.accounts.db import Database
from pilotis.core.settings import Settings
from tests.browser.conftest import new_tab, serve
from tests.browser.support import describe, run_axe
from tests.browser.test_alert_band_browser import CONTRAST

pytestmark = pytest.mark.browser

SOURCE = "crues-mayenne"


def _post(base: str, token: str, value: float) -> dict[str, Any]:
    """What a gateway does: a reading of the station at Laval, now."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    body = {"readings": [{"device": "mayenne-laval", "ts": now, "value": value}]}
    request = urllib.request.Request(
        f"{base}/capteurs/{SOURCE}/releves",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, Any] = json.load(response)
    return answer


def test_the_wall_screen_shows_the_alert_after_a_reading_is_posted(
    browser: Any, tmp_path_factory: pytest.TempPathFactory, axe_script: Path
) -> None:
    instance = tmp_path_factory.mktemp("wall-instance")
    with serve(instance, {"PILOTIS_ALERTS_BAND_SECONDS": "2"}, ready_path="/login") as base:
        secret = Settings.from_env(instance_dir=instance, mode="demo").secret_key
        with Database(f"sqlite:///{instance / 'pilotis.db'}") as db:
            _link, screen = display_links.create(db, secret, "crues", 1, label="cellule de crise")
            upload = sensor_store.create_token(db, SOURCE, "passerelle")[1]
        context, tab = new_tab(browser, base, None)
        try:
            tab.page.goto(f"{base}/seance/crues?jeton={screen}")
            tab.page.wait_for_selector(".pilotis-seance-slide.is-current", timeout=30_000)
            tab.page.evaluate("() => { window.pilotisSameDocument = true; }")
            assert not tab.page.locator("#pilotis-alert-band:not([hidden])").count()
            assert _post(base, upload, 4.2)["acceptes"] == 1  # over the « crise » threshold (3.5 m)
            tab.page.wait_for_function(
                "() => { const b = document.querySelector('#pilotis-alert-band');"
                " return b && !b.hidden && b.textContent.includes('⛔ crise'); }",
                timeout=20_000,
            )
            text = tab.page.locator("#pilotis-alert-band .pilotis-alert-band-text").text_content() or ""
            assert text.startswith("Alertes en cours : ") and text.endswith("niveau le plus élevé : ⛔ crise")
            assert tab.page.evaluate("() => window.pilotisSameDocument === true")  # no reload
            assert tab.page.evaluate("() => document.querySelector('#pilotis-alert-band a') === null")
            assert tab.page.evaluate(CONTRAST) >= 7
            visible = tab.page.evaluate(
                "() => { const r = document.querySelector('#pilotis-alert-band').getBoundingClientRect();"
                " const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
                " return !!top.closest('#pilotis-alert-band'); }"
            )
            assert visible, "le bandeau est caché par le cadre plein écran de la séance"
            below = tab.page.evaluate(
                "() => document.querySelector('.pilotis-seance').getBoundingClientRect().top"
                " >= document.querySelector('#pilotis-alert-band').getBoundingClientRect().bottom - 1"
            )
            assert below, "le bandeau cache le haut de la séance"
            tab.page.evaluate("() => document.activeElement && document.activeElement.blur()")
            tab.page.keyboard.press("Tab")
            assert tab.page.evaluate("() => document.activeElement.id") == "pilotis-alert-band"
            assert tab.page.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Alertes en cours"
            on_band = [
                v for v in run_axe(tab.page, axe_script) if any("pilotis-alert" in str(n["target"]) for n in v["nodes"])
            ]
            assert not on_band, describe(on_band)
            tab.screenshot("wall-screen-alert-band")
            assert not tab.errors
        finally:
            context.close()
