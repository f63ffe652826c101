"""``/compte/jetons``: a signed-in user's personal API tokens — create (shown once), list, revoke.

POST forms carry the CSRF token (Flask-WTF checks them); creations and revocations are audited.
The new token is written in the answer to the POST itself (``Cache-Control: no-store``), never
kept in the session or the database: only its SHA-256 and its first characters are stored.
"""

from __future__ import annotations

from typing import Any

import flask

from pilotis.accounts import api_tokens, audit
from pilotis.accounts.db import get_db, utcnow
from pilotis.core.i18n import add_texts
from pilotis.web.auth import current_session_user, login_url
from pilotis.web.auth_pages import page_context

PATH = "/compte/jetons"
"""The page's address (linked from the account corner of every dashboard page)."""
bp = flask.Blueprint("pilotis_tokens", __name__, url_prefix="/compte", template_folder="templates")

TEXTS = {
    "api_tokens": {"fr": "Mes jetons d'API", "en": "My API tokens"},
    "api_tokens_intro": {
        "fr": "Un jeton permet à un programme d'interroger l'API du portail (/api/v1) avec vos droits. "
        "Il n'est affiché qu'une fois : conservez-le comme un mot de passe.",
        "en": "A token lets a program query the portal's API (/api/v1) with your rights. "
        "It is shown only once: keep it like a password.",
    },
    "api_token_name": {"fr": "Nom du jeton (à quoi il sert)", "en": "Token name (what it is for)"},
    "api_token_days": {"fr": "Validité (jours, 1 à 366)", "en": "Validity (days, 1 to 366)"},
    "api_token_create": {"fr": "Créer un jeton", "en": "Create a token"},
    "api_token_created": {
        "fr": "Jeton créé. Copiez-le maintenant : il ne sera plus affiché.",
        "en": "Token created. Copy it now: it will not be shown again.",
    },
    "api_token_revoke": {"fr": "Révoquer", "en": "Revoke"},
    "api_token_revoked": {"fr": "Jeton révoqué.", "en": "Token revoked."},
    "api_token_none": {"fr": "Aucun jeton.", "en": "No token."},
    "api_token_prefix": {"fr": "Début du jeton", "en": "Token start"},
    "api_token_expires": {"fr": "Expire le", "en": "Expires on"},
    "api_token_last_used": {"fr": "Dernière utilisation", "en": "Last used"},
    "api_token_state": {"fr": "État", "en": "State"},
    "api_token_active": {"fr": "actif", "en": "active"},
    "api_token_expired": {"fr": "expiré", "en": "expired"},
    "api_token_is_revoked": {"fr": "révoqué", "en": "revoked"},
    "api_docs_link": {"fr": "Documentation de l'API", "en": "API documentation"},
    "token_label": {"fr": "Jeton", "en": "Token"},
}
add_texts(TEXTS, "pilotis.web.api_tokens_page")


def _page(status: int = 200, **extra: Any) -> tuple[str, int, dict[str, str]]:
    user = current_session_user()
    assert user is not None
    rows = api_tokens.tokens(get_db(), user_id=user.id)
    html = flask.render_template(
        "pilotis/api_tokens.html",
        tokens=rows,
        now=utcnow(),
        local_time=audit.local_time,
        default_days=api_tokens.PERSONAL_DAYS,
        **extra,
        **page_context(),
    )
    return html, status, {"Cache-Control": "no-store"}


@bp.route("/jetons", methods=["GET", "POST"])
def tokens() -> Any:
    """GET: the list and the form. POST: create a token and show it once."""
    user = current_session_user()
    if user is None:
        return flask.redirect(login_url())
    if flask.request.method == "GET":
        return _page()
    form = flask.request.form
    try:
        days = int(form.get("days") or api_tokens.PERSONAL_DAYS)
        name = api_tokens.check_name(form.get("name", "")[:200])
        row, token = api_tokens.create_personal(get_db(), user.id, name, days)
    except ValueError as exc:
        message = str(exc) if "jeton" in str(exc) or "durée" in str(exc) else "durée de validité : un nombre de jours"
        return _page(400, error=message, name=form.get("name", "")[:100])
    audit.record("api_token_created", target=f"jeton {row.id}", detail=f"« {row.name} » ({row.prefix}…), personnel")
    return _page(201, created=token)


@bp.post("/jetons/<int:token_id>/revoquer")
def revoke(token_id: int) -> Any:
    """Revoke one of the user's own tokens (another user's id: 404)."""
    user = current_session_user()
    if user is None:
        return flask.redirect(login_url())
    row = api_tokens.revoke(get_db(), token_id, user.username, user_id=user.id)
    if row is None:
        return _page(404, error="aucun jeton actif de ce numéro")
    audit.record("api_token_revoked", target=f"jeton {row.id}", detail=f"« {row.name} » ({row.prefix}…)")
    return _page(revoked=True)
