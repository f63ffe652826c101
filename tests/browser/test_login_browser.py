"""Signing in, the menu each role sees, signing out and an idle session expiring — in Chromium."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from pilotis.core.settings import ROOT
from tests.browser.conftest import new_tab, serve, sign_in

pytestmark = pytest.mark.browser

TITLES = {
    path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))["title"]
    for path in sorted((ROOT / "dashboards").glob("*.yaml"))
}
# What each demo account is meant to see, written from the README's table of demo accounts
# (not computed by the access code under test).
EXPECTED_MENU = {
    "agent.rsa": {"rsa"},
    "manager.finances": {"finances", "pilotage"},
    "president": set(TITLES),
}


def menu_titles(page: Any) -> set[str]:
    """Texts of the dashboard links of the main navigation (home link left out)."""
    page.wait_for_selector("nav a.nav-link")
    links = page.locator("nav a.nav-link").all_text_contents()
    return {text.strip() for text in links} - {"Accueil"}


@pytest.mark.parametrize("username", sorted(EXPECTED_MENU))
def test_menu_lists_what_the_role_may_open_then_sign_out(browser: Any, live_server: str, username: str) -> None:
    context, tab = new_tab(browser, live_server, None)
    try:
        sign_in(tab.page, live_server, username)
        tab.open("/")
        assert menu_titles(tab.page) == {TITLES[d] for d in EXPECTED_MENU[username]}
        cards = tab.page.locator(".pilotis-home-card h2").all_text_contents()
        assert {c.strip() for c in cards} == {TITLES[d] for d in EXPECTED_MENU[username]}

        with tab.page.expect_navigation():
            tab.page.get_by_role("button", name="Se déconnecter", exact=True).click()
        assert "/login" in tab.page.url
        tab.page.goto(live_server + "/rsa")
        assert "/login" in tab.page.url, "a signed-out browser must be sent back to the login page"
    finally:
        context.close()


def test_wrong_password_is_announced_without_saying_which_part(browser: Any, live_server: str) -> None:
    context, tab = new_tab(browser, live_server, None)
    try:
        tab.page.goto(live_server + "/login")
        tab.page.get_by_label("Identifiant").fill("agent.rsa")
        tab.page.get_by_label("Mot de passe").fill("pas-le-bon")
        with tab.page.expect_navigation():
            tab.page.get_by_role("button", name="Se connecter").click()
        alert = tab.page.get_by_role("alert")
        assert "Identifiant ou mot de passe incorrect" in alert.text_content()
    finally:
        context.close()


@pytest.fixture(scope="module")
def short_session_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with sessions that expire after 3 seconds of inactivity."""
    with serve(tmp_path_factory.mktemp("short-session"), {"PILOTIS_SESSION_MINUTES": "0.05"}) as base:
        yield base


def test_idle_session_expires(browser: Any, short_session_server: str) -> None:
    context, tab = new_tab(browser, short_session_server, None)
    try:
        sign_in(tab.page, short_session_server, "agent.rsa")
        tab.open("/rsa")
        assert "/login" not in tab.page.url
        tab.page.goto("about:blank")  # the user walks away: no page left sending callbacks
        time.sleep(4)
        tab.page.goto(short_session_server + "/rsa")
        assert "/login" in tab.page.url, "after the idle delay the page must ask to sign in again"
    finally:
        context.close()
