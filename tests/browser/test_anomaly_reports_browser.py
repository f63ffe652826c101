"""« Signaler une anomalie » in a real Chromium: on the RSA dashboard, filters chosen, the link
under the « Communes » table is reached with the keyboard, the form (with those filters and the
values shown) is sent, and the dataset's referent finds it in /signalements and answers; the sender
sees the answer. The new pages are axe-core clean."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import new_tab, sign_in
from tests.browser.test_accessibility import check

pytestmark = pytest.mark.browser

LAVAL = "200083392"
MESSAGE = "La commune de Laval apparaît deux fois en 2019."


def test_report_by_keyboard_then_the_referent_answers(browser: Any, live_server: str, axe_script: Any) -> None:
    sender_context, tab = new_tab(browser, live_server, None)
    referent_context, referent = new_tab(browser, live_server, None)
    try:
        page = tab.page
        sign_in(page, live_server, "president")
        tab.open("/rsa")
        page.wait_for_selector("#rsa--communes table", timeout=30_000)
        page.locator("#rsa--territory").select_option(f"epci:{LAVAL}")
        page.locator("#rsa--period").select_option("2019")
        page.locator("summary", has_text="Télécharger les données de « Communes »").focus()
        page.keyboard.press("Tab")  # the menu is closed: the next stop is « Signaler une anomalie »
        focused = page.evaluate("document.activeElement.textContent")
        assert focused.startswith("Signaler une anomalie") and "Communes" in focused
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "/signalements/nouveau?" in page.url and "widget=communes" in page.url
        assert f"territoire=epci%3A{LAVAL}" in page.url and "annee=2019" in page.url  # the filters chosen
        main = page.inner_text("main")
        assert "CA Laval Agglomération" in main and "2019" in main and "Agent RSA" in main
        assert page.locator("main table tbody tr").count() >= 1  # the values shown, attached
        check(page, axe_script, "signalement-formulaire")

        page.get_by_label("Description de l'anomalie").fill(MESSAGE)
        page.keyboard.press("Tab")  # to « Envoyer le signalement »
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url.endswith("/signalements?sent=1")
        assert MESSAGE in page.inner_text("main") and "reçu" in page.inner_text("main")
        check(page, axe_script, "mes-signalements")

        sign_in(referent.page, live_server, "agent.rsa")  # holder of `datasets: rsa_communes`
        referent.page.goto(live_server + "/signalements")
        card = referent.page.locator("section", has_text=MESSAGE)
        assert card.count() == 1 and "Territoire : CA Laval Agglomération" in card.inner_text()
        check(referent.page, axe_script, "signalements-recus")
        card.get_by_label("Nouvel état").select_option(label="résolu")
        card.get_by_label("Réponse à l'expéditeur").fill("Doublon supprimé dans la source.")
        with referent.page.expect_navigation():
            card.get_by_role("button", name="Enregistrer").click()
        assert "État enregistré." in referent.page.inner_text("main")

        page.goto(live_server + "/signalements")
        row = page.locator("tr", has_text=MESSAGE)
        assert "résolu" in row.inner_text() and "Doublon supprimé dans la source." in row.inner_text()
        assert not tab.errors
    finally:
        sender_context.close()
        referent_context.close()
