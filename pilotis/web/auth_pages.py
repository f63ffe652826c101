"""The server-rendered pages of signing in: the login page (form and « Se connecter avec … »
buttons), small message pages, and what every such page's template needs (:func:`page_context`).

Kept apart from :mod:`pilotis.web.auth` (sessions and routes) so that the single sign-on views
(:mod:`pilotis.web.sso`) draw the same pages without importing the login routes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import flask

from pilotis.accounts.users import DEMO_PASSWORD, DEMO_USERS
from pilotis.core.i18n import t, translate
from pilotis.web.context import current_lang


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path of this site (``/…``), else ``default``: no open redirect."""
    if not target or any(ord(c) < 32 for c in target) or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def render_login(
    error: str | None = None,
    status: int = 200,
    *,
    username: str = "",
    next_url: str = "",
    notice: str | None = None,
) -> tuple[str, int]:
    """The login page (French, accessible: labels, autocomplete, errors announced by role=alert).

    With `config/sso.yaml`: one « Se connecter avec … » link per OpenID provider; the password
    form is shown while local accounts or the directory may sign in.
    """
    portal = flask.current_app.extensions.get("pilotis")
    sso = portal.registry.sso if portal else None
    next_url = safe_next(next_url, "")
    providers = [
        (p.label, flask.url_for("pilotis_sso.start", provider_id=p.id, next=next_url or None))
        for p in (sso.oidc if sso else [])
    ]
    html = flask.render_template(
        "pilotis/login.html",
        error=error,
        username=username,
        next_url=next_url,
        notice=notice,
        demo=_demo_hint(),
        providers=providers,
        password_form=sso is None or sso.local_accounts or sso.ldap is not None,
        **page_context(),
    )
    return html, status


def _demo_hint() -> str | None:
    """In demo mode only, how to sign in (the demo accounts are public, listed in the README)."""
    portal = flask.current_app.extensions.get("pilotis")
    if portal is None or portal.settings.mode != "demo":
        return None
    names = ", ".join(demo.username for demo in DEMO_USERS)
    return t("demo_hint", current_lang(portal.settings.lang), names=names, password=DEMO_PASSWORD)


def render_message(heading: str, text: str, status: int = 200, **extra: Any) -> tuple[str, int]:
    """A small French page with a heading and a sentence (errors, sign-out confirmation)."""
    html = flask.render_template("pilotis/message.html", heading=heading, text=text, **extra, **page_context())
    return html, status


def page_context() -> dict[str, Any]:
    """What every server-rendered page's template needs (titles, style sheets, language, texts)."""
    portal = flask.current_app.extensions.get("pilotis")
    title = portal.registry.portal.title if portal else "Pilotis"
    collectivite = portal.registry.portal.collectivite.nom if portal else ""
    sheets = ["/assets/vendor/bootstrap/bootstrap.min.css"]
    if portal and (portal.settings.root / "assets" / "pilotis.css").exists():
        sheets.append("/assets/pilotis.css")
    lang = current_lang(portal.settings.lang if portal else "fr")
    # t / tr: interface texts in the reader's language (tr: a French message constant, translated
    # when pilotis/i18n.py knows it); the portal's own names (YAML) stay French, marked lang="fr".
    return {
        "portal_title": title,
        "collectivite": collectivite,
        "stylesheets": sheets,
        "lang": lang,
        "t": lambda key, **values: t(key, lang, **values),
        "tr": lambda text: translate(text, lang),
    }
