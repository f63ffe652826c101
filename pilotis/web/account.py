"""The signed-in user's corner of the Dash header: name, API tokens and audit log links, sign-out buttons."""

from __future__ import annotations

import flask
from dash import dcc, html
from flask_wtf.csrf import generate_csrf

from pilotis.core.i18n import t
from pilotis.ui.search_box import search_box
from pilotis.web.access_requests_page import PATH as ACCESS_PATH
from pilotis.web.api_tokens_page import PATH as TOKENS_PATH
from pilotis.web.auth import current_session_user


def account_menu(lang: str) -> list:
    """Components for the header; empty outside a request or for an anonymous visitor.

    Sign-out ("here" and "everywhere") are POST forms carrying the CSRF token (a link could be
    triggered by another site).
    """
    user = current_session_user() if flask.has_request_context() else None
    if user is None:
        return []
    items: list = [
        search_box(lang),  # the search: only for a signed-in user (the results page asks to sign in)
        html.Span(
            user.display_name,
            className="pilotis-account small text-white",
            title=t("account", lang),
        ),
    ]
    items.append(html.A(t("api_tokens", lang), href=TOKENS_PATH, className="btn btn-sm btn-outline-light"))
    items.append(html.A(t("access_requests_mine", lang), href=ACCESS_PATH, className="btn btn-sm btn-outline-light"))
    if user.is_admin:
        items.append(html.A(t("audit_log", lang), href="/admin/audit", className="btn btn-sm btn-outline-light"))
    token = generate_csrf()
    items.append(_post_button("/logout", t("sign_out", lang), token, "pilotis-logout", "btn-light"))
    items.append(
        _post_button(
            "/logout?everywhere=1",
            t("sign_out_everywhere", lang),
            token,
            "pilotis-logout-everywhere",
            "btn-outline-light",
            title=t("sign_out_everywhere_hint", lang),
        )
    )
    return items


def _post_button(action: str, label: str, token: str, name: str, style: str, title: str | None = None) -> html.Form:
    """A one-button POST form with the CSRF token (ids derived from ``name``: unique per page)."""
    return html.Form(
        [
            dcc.Input(type="hidden", name="csrf_token", value=token, id=f"{name}-csrf"),
            html.Button(label, type="submit", className=f"btn btn-sm {style}", title=title),
        ],
        method="POST",
        action=action,
        className=f"m-0 {name}",
    )
