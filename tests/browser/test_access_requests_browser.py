"""Access requests in a real Chromium: from the « Accès refusé » page of a dashboard to the
request, its grant by the dashboard's referent, and the dashboard drawn for the requester — the
three new pages axe-core clean, in French, used with their buttons and labels."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.browser.conftest import new_tab, sign_in
from tests.browser.test_accessibility import check

pytestmark = pytest.mark.browser


def test_request_then_grant_opens_the_dashboard(browser: Any, live_server: str, axe_script: Any) -> None:
    asker, tab = new_tab(browser, live_server, None)
    referent, decider = new_tab(browser, live_server, None)
    try:
        page = tab.page
        sign_in(page, live_server, "agent.rh")  # no other browser test minds his rights
        page.goto(live_server + "/rsa")
        assert page.get_by_role("heading", name="Accès refusé").count() == 1
        with page.expect_navigation():
            page.get_by_role("link", name="Demander l'accès").click()
        assert "/compte/acces/demander" in page.url
        check(page, axe_script, "demande-acces")
        page.get_by_label("Motif").fill("Préparer la commission des solidarités")
        with page.expect_navigation():
            page.get_by_role("button", name="Envoyer la demande").click()
        assert "en attente" in page.inner_text("main")
        check(page, axe_script, "mes-demandes-acces")

        sign_in(decider.page, live_server, "agent.rsa")
        decider.page.goto(live_server + "/compte/acces/a-traiter")
        card = decider.page.locator("section", has_text="Préparer la commission des solidarités")
        check(decider.page, axe_script, "demandes-a-traiter")
        card.get_by_label("Accorder jusqu'au").fill((date.today() + timedelta(days=7)).isoformat())
        with decider.page.expect_navigation():
            card.get_by_role("button", name="Accorder").click()
        assert "Décision enregistrée" in decider.page.inner_text("main")
        check(decider.page, axe_script, "demandes-a-traiter-acces-en-cours")  # with the table of current grants

        page.goto(live_server + "/compte/acces")
        assert "accordée jusqu'au" in page.inner_text("main")
        tab.open("/rsa")
        page.wait_for_selector("#rsa--foyers", timeout=30_000)  # the dashboard's first widget is drawn
        assert page.get_by_role("heading", name="Accès refusé").count() == 0
    finally:
        asker.close()
        referent.close()
