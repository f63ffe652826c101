"""The wall screen of the flood dashboard (``config/seances/crues.yaml``, opened by a display link)
shows the « alertes en cours » band as soon as a sensor posts a reading over the threshold: Chromium
against gunicorn, no worker running (the web process evaluates the rule right after the ingestion),
no reload of the screen; the band is reached with the keyboard, offers no link (a wall screen opens
nothing but its séance), hides nothing of the séance and has a contrast of at least 7:1; the
e-mail reaches a real SMTP server, sent by the gunicorn worker that took the reading."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from pilotis.accounts import display_links, sensor_store
from pilotis.accounts.db import Database
from pilotis.accounts.models import User
from pilotis.core.settings import Settings
from tests.alerting import Mailbox, smtp_server
from tests.browser.conftest import Tab, new_tab, serve, server_log
from tests.browser.support import describe, run_axe
from tests.browser.test_alert_band_browser import CONTRAST

pytestmark = pytest.mark.browser

SOURCE = "crues-mayenne"
ON_CALL = "astreinte.crues@cd53.test"
SLIDE_TIMEOUT = 90_000
"""ms for the séance's first slide: 2–3 s on an idle machine, about 8 s at a load of 20 on 2 cores."""
BAND_TIMEOUT = 45_000
"""ms from the reading posted to the band shown (the band polls every 2 s here)."""


def _why(tab: Tab, instance: Path, what: str) -> str:
    """A failure message that says what the page and the server went through."""
    return f"{what}\n--- page ---\n{tab.report()}\n--- gunicorn ---\n{server_log(instance)}"


def _wait(tab: Tab, instance: Path, what: str, wait: Any) -> None:
    """Run a Playwright wait; on timeout, fail with the page's and the server's story."""
    try:
        wait()
    except Exception as exc:  # noqa: BLE001 - Playwright's TimeoutError, re-raised with the diagnosis
        pytest.fail(_why(tab, instance, f"{what}: {exc}"), pytrace=False)


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
    with smtp_server() as (box, mail):
        env = {"PILOTIS_ALERTS_BAND_SECONDS": "2", "PILOTIS_SMTP_HOST": mail.host, "PILOTIS_SMTP_PORT": str(mail.port)}
        with serve(instance, env, ready_path="/login") as base:
            _wall_screen(browser, base, instance, box, axe_script)


def _wall_screen(browser: Any, base: str, instance: Path, box: Mailbox, axe_script: Path) -> None:
    """Open the wall screen, post a reading over the threshold, check the band and the e-mail."""
    secret = Settings.from_env(instance_dir=instance, mode="demo").secret_key
    with Database(f"sqlite:///{instance / 'pilotis.db'}") as db:
        _link, screen = display_links.create(db, secret, "crues", 1, label="cellule de crise")
        upload = sensor_store.create_token(db, SOURCE, "passerelle")[1]
        with db.session() as session:  # the demo administrator, a recipient of the rule, gets an address
            session.execute(update(User).where(User.username == "admin").values(email=ON_CALL))
    context, tab = new_tab(browser, base, None)
    try:
        _wait(
            tab,
            instance,
            "the séance page did not load",
            lambda: tab.page.goto(f"{base}/seance/crues?jeton={screen}", timeout=SLIDE_TIMEOUT),
        )
        _wait(
            tab,
            instance,
            "the séance's first slide never appeared",
            lambda: tab.page.wait_for_selector(".pilotis-seance-slide.is-current", timeout=SLIDE_TIMEOUT),
        )
        tab.page.evaluate("() => { window.pilotisSameDocument = true; }")
        assert not tab.page.locator("#pilotis-alert-band:not([hidden])").count(), _why(tab, instance, "band at start")
        assert _post(base, upload, 4.2)["acceptes"] == 1  # over the « crise » threshold (3.5 m)
        _wait(
            tab,
            instance,
            "the band never showed « ⛔ crise »",
            lambda: tab.page.wait_for_function(
                "() => { const b = document.querySelector('#pilotis-alert-band');"
                " return b && !b.hidden && b.textContent.includes('⛔ crise'); }",
                timeout=BAND_TIMEOUT,
            ),
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
        assert not tab.errors, _why(tab, instance, "JavaScript errors")
        with box.event:  # and the e-mail, sent by the gunicorn worker that took the reading
            assert box.event.wait_for(lambda: bool(box.to(ON_CALL)), timeout=30), _why(tab, instance, "no e-mail")
        assert "La Mayenne à Laval" in box.to(ON_CALL)[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    finally:
        context.close()
