"""« Se déconnecter partout » in Chromium, against gunicorn with 2 workers: the other browser is out."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import new_tab, sign_in

pytestmark = pytest.mark.browser


def test_sign_out_everywhere_ends_the_session_of_another_browser(browser: Any, live_server: str) -> None:
    username = "agent.numerique"  # an account no other browser test keeps a session of
    laptop_context, laptop = new_tab(browser, live_server, None)
    phone_context, phone = new_tab(browser, live_server, None)
    try:
        sign_in(laptop.page, live_server, username)
        sign_in(phone.page, live_server, username)
        phone.open("/")
        assert "/login" not in phone.page.url
        laptop.open("/")
        with laptop.page.expect_navigation():
            laptop.page.get_by_role("button", name="Se déconnecter partout").click()
        assert "/login" in laptop.page.url
        assert "Vous êtes déconnecté." in laptop.page.content()
        phone.page.goto(live_server + "/")
        assert "/login" in phone.page.url, "the other browser must be signed out too"
        assert not laptop.errors and not phone.errors
    finally:
        laptop_context.close()
        phone_context.close()
