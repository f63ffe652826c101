"""What happens once a provider or the directory has vouched for someone: the mapping rules of
`config/sso.yaml` decide (deny by default), the account is created or updated, refusals are audited
and answered with a French page saying whom to ask. Shared by the OpenID views
(:mod:`pilotis.web.sso`) and the directory branch of the login form (:mod:`pilotis.web.auth`).
"""

from __future__ import annotations

from typing import Any

import flask

from pilotis.accounts import audit, sso_accounts
from pilotis.accounts.db import get_db
from pilotis.accounts.ldap_directory import DirectoryUser
from pilotis.accounts.sso_accounts import Admitted, Identity, SsoRefused
from pilotis.core.sso_config import LDAP_SOURCE, SsoConfig, grant_for
from pilotis.web.auth_pages import render_message

NOT_OPENED = "Accès au portail non ouvert"


def sso_config() -> SsoConfig | None:
    """The portal's `config/sso.yaml`, or None (local accounts only)."""
    portal = flask.current_app.extensions.get("pilotis")
    return portal.registry.sso if portal else None


def directory_identity(user: DirectoryUser) -> Identity:
    """The identity of a person the directory signed in (found again by user name)."""
    return Identity(
        source=LDAP_SOURCE,
        subject=user.username,
        username=user.username,
        display_name=user.display_name,
        groups=user.groups,
    )


def _groups(value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return (str(value),) if value else ()


def oidc_identity(
    source: str, claims: dict[str, Any], username_claim: str, name_claim: str, groups_claim: str
) -> Identity:
    """The identity of a person an OpenID provider signed in (found again by ``sub``)."""
    name = claims.get(name_claim) or " ".join(
        str(claims[k]) for k in ("given_name", "usual_name", "family_name") if claims.get(k)
    )
    return Identity(
        source=source,
        subject=str(claims["sub"]),
        username=str(claims.get(username_claim) or ""),
        display_name=str(name or "")[:200],
        groups=_groups(claims.get(groups_claim)),
        claims=claims,
    )


def admit(config: SsoConfig, identity: Identity, source_label: str) -> Admitted | tuple[str, int]:
    """The account to open a session for, or the refusal page (audited)."""
    db = get_db()
    rule = grant_for(config, identity.source, identity.groups, identity.claims)
    username = identity.username.strip().lower()[:150] or None
    if rule is None:
        ended = sso_accounts.deny(db, identity)
        groups = ", ".join(identity.groups)[:300] or "aucun"
        audit.record(
            "sso_denied",
            username=username,
            detail=f"{identity.source} : aucune règle (groupes : {groups}) ; {ended} session(s) fermée(s)",
        )
        return refusal_page(config, source_label)
    try:
        admitted = sso_accounts.admit(db, identity, rule)
    except SsoRefused as exc:
        audit.record("sso_denied", username=username, detail=f"{identity.source} : {exc.reason}")
        return refusal_page(config, source_label)
    if admitted.rights_changed:
        audit.record(
            "sso_rights_changed",
            username=admitted.user.username,
            target=admitted.user.username,
            detail=(
                f"direction {admitted.user.department or 'aucune'}, rôles {', '.join(admitted.roles)}, "
                f"territoire {admitted.user.territory or 'tous'} ; {admitted.sessions_ended} session(s) fermée(s)"
            ),
        )
    return admitted


def refusal_page(config: SsoConfig, source_label: str) -> tuple[str, int]:
    """The French page of a person whose identity was checked but whom no rule admits (403)."""
    text = (
        f"Votre identité a bien été vérifiée ({source_label}), mais votre compte ne donne pas accès "
        f"à ce portail. Pour obtenir un accès, adressez-vous à {config.access_contact}."
    )
    return render_message(NOT_OPENED, text, status=403)
