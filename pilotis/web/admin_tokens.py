"""« Jetons d'API » (role `admin`, ``/admin/jetons``): every token, personal or service account,
with its prefix, expiry, last use and state; create a service account (shown once), revoke any.

The command line (``python -m pilotis tokens …``) does the same; both write the same audit lines.
"""

from __future__ import annotations

from typing import Any

import flask

from pilotis.accounts import api_tokens, audit
from pilotis.accounts.db import get_db, utcnow
from pilotis.core.i18n import add_texts
from pilotis.web.api_tokens_page import TEXTS as PERSONAL_TEXTS
from pilotis.web.auth import current_session_user, roles_required
from pilotis.web.auth_pages import page_context

TEXTS = {
    "admin_tokens": {"fr": "Jetons d'API", "en": "API tokens"},
    "admin_tokens_intro": {
        "fr": "Jetons personnels des agents et comptes de service des applications. Un jeton n'est affiché "
        "qu'une fois ; la base n'en garde que l'empreinte.",
        "en": "Staff's personal tokens and applications' service accounts. A token is shown only once; "
        "the database keeps its hash only.",
    },
    "service_new": {"fr": "Nouveau compte de service", "en": "New service account"},
    "service_created": {
        "fr": "Compte de service « {name} » créé. Copiez le jeton maintenant : il ne sera plus affiché.",
        "en": "Service account “{name}” created. Copy the token now: it will not be shown again.",
    },
    "service_name": {"fr": "Nom", "en": "Name"},
    "service_department": {"fr": "Direction", "en": "Department"},
    "service_no_department": {"fr": "(aucune)", "en": "(none)"},
    "service_roles": {"fr": "Rôles", "en": "Roles"},
    "service_territory": {"fr": "Territoire (facultatif)", "en": "Territory (optional)"},
    "service_rate": {"fr": "Requêtes par minute (facultatif)", "en": "Requests per minute (optional)"},
    "service_create": {"fr": "Créer", "en": "Create"},
    "tokens_all": {"fr": "Tous les jetons", "en": "All tokens"},
    "token_number": {"fr": "N°", "en": "No."},
    "token_kind": {"fr": "Sorte", "en": "Kind"},
    "token_rights": {"fr": "Droits", "en": "Rights"},
    "kind_service": {"fr": "compte de service", "en": "service account"},
    "kind_personal": {"fr": "personnel", "en": "personal"},
    "rights_of_account": {"fr": "ceux du compte", "en": "the account's"},
    "all_territories": {"fr": "tous territoires", "en": "all territories"},
    "token_revoked_named": {"fr": "Jeton « {name} » révoqué.", "en": "Token “{name}” revoked."},
}
add_texts(TEXTS, "pilotis.web.admin_tokens")
assert "api_token_revoke" in PERSONAL_TEXTS  # the column texts shared with the personal page

bp = flask.Blueprint("pilotis_admin_tokens", __name__, url_prefix="/admin/jetons", template_folder="templates")


def _page(status: int = 200, **extra: Any) -> tuple[str, int, dict[str, str]]:
    portal = flask.current_app.extensions["pilotis"]
    html = flask.render_template(
        "pilotis/admin_tokens.html",
        tokens=api_tokens.tokens(get_db()),
        departments=portal.registry.departments,
        roles=api_tokens.SERVICE_ROLES,
        now=utcnow(),
        local_time=audit.local_time,
        **extra,
        **page_context(),
    )
    return html, status, {"Cache-Control": "no-store"}


@bp.route("", methods=["GET", "POST"])
@roles_required("admin")
def tokens() -> Any:
    """GET: every token and the service-account form. POST: create a service account."""
    if flask.request.method == "GET":
        return _page()
    form = flask.request.form
    departments = flask.current_app.extensions["pilotis"].registry.departments
    department = form.get("department") or None
    try:
        if department is not None and department not in departments:
            raise ValueError("direction inconnue")
        days = int(form.get("days") or 365)
        rate = int(form["rate"]) if form.get("rate") else None
        row, token = api_tokens.create_service(
            get_db(),
            form.get("name", "")[:200],
            department=department,
            roles=form.getlist("roles"),
            territory=(form.get("territory") or "").strip() or None,
            days=days,
            author=current_session_user().username,  # type: ignore[union-attr]  # roles_required: signed in
            rate_per_minute=rate,
        )
    except ValueError as exc:
        message = str(exc) if "invalid literal" not in str(exc) else "durée et limite : des nombres entiers"
        return _page(400, error=message)
    audit.record(
        "api_token_created",
        target=f"jeton {row.id}",
        detail=f"compte de service « {row.name} » ({row.prefix}…), rôles {row.roles}, "
        f"direction {row.department or '—'}, territoire {row.territory or 'tous'}",
    )
    return _page(201, created=token, created_name=row.name)


@bp.post("/<int:token_id>/revoquer")
@roles_required("admin")
def revoke(token_id: int) -> Any:
    """Revoke any token (personal or service)."""
    user = current_session_user()
    row = api_tokens.revoke(get_db(), token_id, user.username if user else None)
    if row is None:
        return _page(404, error="aucun jeton actif de ce numéro")
    audit.record("api_token_revoked", target=f"jeton {row.id}", detail=f"« {row.name} » ({row.kind})")
    return _page(revoked=row.name)
