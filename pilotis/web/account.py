"""The signed-in user's corner of the Dash header: name, audit log link, sign-out button."""

from __future__ import annotations

import flask
from dash import dcc, html
from flask_wtf.csrf import generate_csrf

from pilotis.core.i18n import t
from pilotis.web.auth import current_session_user


def account_menu(lang: str) -> list:
    """Components for the header; empty outside a request or for an anonymous visitor.

    Sign-out is a POST form carrying the CSRF token (a link could be triggered by another site).
    """
    user = current_session_user() if flask.has_request_context() else None
    if user is None:
        return []
    items: list = [
        html.Span(
            user.display_name,
            className="pilotis-account small text-white",
            title=t("account", lang),
        )
    ]
    if user.is_admin:
        items.append(html.A(t("audit_log", lang), href="/admin/audit", className="btn btn-sm btn-outline-light"))
    items.append(
        html.Form(
            [
                dcc.Input(
                    type="hidden",
                    name="csrf_token",
                    value=generate_csrf(),
                    id="pilotis-logout-csrf",
                ),
                html.Button(t("sign_out", lang), type="submit", className="btn btn-sm btn-light"),
            ],
            method="POST",
            action="/logout",
            className="m-0 pilotis-logout",
        )
    )
    return items
