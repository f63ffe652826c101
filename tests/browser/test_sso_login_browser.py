"""The login page with single sign-on buttons, in Chromium: the keyboard reaches each « Se connecter
avec … » button (visibly focused) and Enter takes the person to the provider; axe-core finds no
serious or critical violation (login page, refusal page of a person no rule admits); the page
reflows at 320 CSS px without horizontal scrolling, long provider names included.

The app (production mode, `config/sso.yaml` with two OpenID providers and local accounts) is served
in-process on loopback; the provider is the real npm `oidc-provider` (tests/sso_servers.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.browser.conftest import new_tab, write_json
from tests.browser.support import BLOCKING_IMPACTS, describe, run_axe
from tests.sso_app import SECRET_ENV, sso_app
from tests.sso_servers import CI, CLIENT_SECRET, OidcServer, free_port, oidc_available, oidc_provider

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not oidc_available() and not CI, reason="node ou le paquet npm oidc-provider absent (npm ci)"),
]

LABELS = {
    "departement": "le compte du Département",
    "proconnect": "ProConnect (agents publics de l'État et des collectivités territoriales)",
}
BUTTONS = [f"Se connecter avec {label}" for label in LABELS.values()]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, OidcServer]]:
    """Base URL of the app with SSO buttons, and its provider."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    callbacks = [f"{base}/sso/{name}/callback" for name in LABELS]
    patch = pytest.MonkeyPatch()
    patch.setenv(SECRET_ENV, CLIENT_SECRET)
    with oidc_provider(tmp_path_factory.mktemp("oidc"), callbacks, [f"{base}/login?logged_out=1"]) as provider:
        provider.set_users({"bob": {"preferred_username": "bob", "groups": ["communication"]}})
        providers = "".join(
            f"""
  - id: {name}
    label: "{label}"
    issuer: {provider.issuer}
    client_id: pilotis
    client_secret_env: {SECRET_ENV}
    scopes: [openid, profile, groups]
"""
            for name, label in LABELS.items()
        )
        app = sso_app(
            tmp_path_factory.mktemp("app"),
            f"""
access_contact: "la direction du numérique (support-pilotis@lamayenne.fr, poste 1234)"
oidc:{providers}
rules:
  - when: {{groups: [rsa]}}
    department: solidarites
    roles: [agent]
""",
        )
        server = make_server("127.0.0.1", port, app.server, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield base, provider
        finally:
            server.shutdown()
            thread.join(timeout=10)
            patch.undo()


def check_axe(page: Any, axe_script: Any, name: str) -> None:
    violations = run_axe(page, axe_script)
    write_json(f"axe-{name}.json", violations)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe on {name}:\n{describe(blocking)}"
    assert page.evaluate("document.documentElement.lang") == "fr"


FOCUSED_JS = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  return {text: (e.innerText || e.getAttribute('aria-label') || e.id || '').trim(),
          outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
          shadow: style.boxShadow !== 'none'};
}"""


def test_keyboard_reaches_each_provider_button_and_enter_opens_the_provider(
    browser: Any, site: tuple[str, OidcServer]
) -> None:
    base, provider = site
    context, tab = new_tab(browser, base, None)
    try:
        tab.page.goto(base + "/login")
        reached: list[str] = []
        for _ in range(40):
            tab.page.keyboard.press("Tab")
            focused = tab.page.evaluate(FOCUSED_JS)
            if focused["text"] in BUTTONS:
                assert focused["outline"] or focused["shadow"], f"no visible focus on {focused['text']!r}"
                reached.append(focused["text"])
            if focused["text"] == "username":  # the password form comes after the buttons
                break
        assert reached == BUTTONS, reached
        tab.page.get_by_role("link", name=BUTTONS[0]).focus()
        with tab.page.expect_navigation():
            tab.page.keyboard.press("Enter")
        assert tab.page.url.startswith(f"{provider.issuer}/interaction/"), tab.page.url
        assert not tab.errors, tab.errors
    finally:
        context.close()


def test_login_page_with_providers_and_refusal_page_pass_axe(
    browser: Any, site: tuple[str, OidcServer], axe_script: Any
) -> None:
    base, _provider = site
    context, tab = new_tab(browser, base, None)
    try:
        tab.page.goto(base + "/login")
        assert tab.page.get_by_role("list", name="Connexion par un fournisseur d'identité").count() == 1
        check_axe(tab.page, axe_script, "login-sso")
        # A person no rule admits: the page saying whom to ask is accessible too.
        with tab.page.expect_navigation():
            tab.page.get_by_role("link", name=BUTTONS[0]).click()
        tab.page.locator("input[name=login]").fill("bob")
        with tab.page.expect_navigation(url=f"{base}/**"):
            tab.page.locator("button").click()
        assert "Accès au portail non ouvert" in tab.page.inner_text("main")
        check_axe(tab.page, axe_script, "sso-refused")
    finally:
        context.close()


def test_login_page_with_providers_reflows_at_320_px(browser: Any, site: tuple[str, OidcServer]) -> None:
    """WCAG 1.4.10: no horizontal scrolling on a 320 CSS px wide screen, long provider names wrap."""
    base, _provider = site
    context, tab = new_tab(browser, base, None, viewport={"width": 320, "height": 640})
    try:
        tab.page.goto(base + "/login")
        for name in BUTTONS:
            assert tab.page.get_by_role("link", name=name).is_visible()
        width = tab.page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 320, f"/login is {width} px wide at 320 px"
        wide = tab.page.evaluate(
            "() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 320.5)"
            ".map(e => e.tagName + '.' + e.className).slice(0, 5)"
        )
        assert not wide, wide
    finally:
        context.close()
