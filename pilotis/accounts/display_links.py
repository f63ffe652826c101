"""Display links: a wall screen shows one séance without anyone signing in every morning.

An administrator creates a link (``python -m pilotis display-link create SEANCE --days 30``):
``/seance/<id>?jeton=<token>``. The token is signed with the app's secret key (itsdangerous) and
carries a token id, the séance key and an expiry; the ``display_links`` table holds the same id,
so that an administrator can revoke it (``display-link revoke ID``). Changing the secret key
revokes every link at once.

The first visit stores the token in the signed session cookie and redirects to the address
without it. From then on every request of that browser is made by a restricted principal
(role ``display``, ``Principal.seance`` set): it may open that séance, its snapshots and its
callbacks, nothing else (:func:`pilotis.access.can_view` refuses it every dashboard page, and
:func:`guard` every other address). Expired, revoked or tampered links answer 403 with a French
message. Each check reads the table (revocation takes effect on the next refresh of the screen).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import flask
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from pilotis.accounts.db import Database, get_db, utcnow
from pilotis.accounts.models import DisplayLink
from pilotis.core.access import Principal

SALT = "pilotis.display-link.v1"
PARAM = "jeton"
"""Query parameter of the token in a display link."""
SESSION_KEY = "pilotis_display"
ROLE = "display"
REFUSED = {
    "invalid": "Ce lien d'affichage n'est pas valide : il a peut-être été mal copié. "
    "Demandez le lien exact à l'administrateur du portail.",
    "expired": "Ce lien d'affichage a expiré. Demandez un nouveau lien à l'administrateur du portail.",
    "revoked": "Ce lien d'affichage a été révoqué par un administrateur.",
    "scope": "Ce lien d'affichage ne donne accès qu'à la séance pour laquelle il a été créé.",
}
"""French messages of the 403 pages, by reason."""


class LinkRefused(Exception):
    """A display token that may not be used (``reason`` is a key of :data:`REFUSED`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Link:
    """A display link as the command line lists it."""

    id: str
    seance: str
    label: str
    created_at: datetime
    created_by: str | None
    expires_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """Neither revoked nor expired."""
        return self.revoked_at is None and self.expires_at > utcnow()


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def _link(row: DisplayLink) -> Link:
    return Link(
        row.id,
        row.seance,
        row.label,
        row.created_at,
        row.created_by,
        row.expires_at,
        row.revoked_at,
    )


# --------------------------------------------------------------------------- links


def create(
    db: Database,
    secret: str,
    seance: str,
    days: float,
    *,
    label: str = "",
    author: str | None = None,
) -> tuple[Link, str]:
    """A new link to ``seance`` (``<id>`` or ``@<dashboard>``) valid ``days``, and its token."""
    if days <= 0:
        raise ValueError("la durée de validité doit être positive")
    link_id = secrets.token_hex(9)  # hex: an id typed on a command line never starts with `-`
    expires = utcnow().replace(microsecond=0) + timedelta(days=days)
    with db.session() as session:
        row = DisplayLink(
            id=link_id,
            seance=seance,
            label=label[:200],
            created_at=utcnow(),
            created_by=author,
            expires_at=expires,
            revoked_at=None,
        )
        session.add(row)
        session.flush()
        link = _link(row)
    token = _serializer(secret).dumps({"i": link_id, "s": seance, "e": int(_epoch(expires))})
    return link, token


def _epoch(naive_utc: datetime) -> float:
    return naive_utc.replace(tzinfo=UTC).timestamp()


def revoke(db: Database, link_id: str, by: str | None = None) -> bool:
    """Revoke a link; False when there is no such active link."""
    with db.session() as session:
        row = session.get(DisplayLink, link_id)
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = utcnow()
        row.revoked_by = by
    return True


def links(db: Database, *, everything: bool = False) -> list[Link]:
    """The links, newest first (active ones only unless ``everything``)."""
    with db.session() as session:
        rows = session.scalars(select(DisplayLink).order_by(DisplayLink.created_at.desc())).all()
        found = [_link(r) for r in rows]
    return found if everything else [link for link in found if link.active]


def verify(db: Database, secret: str, token: str, now: float | None = None) -> Link:
    """The link of a valid token; :class:`LinkRefused` (invalid, expired, revoked) otherwise."""
    try:
        payload = _serializer(secret).loads(token)
    except BadSignature:
        raise LinkRefused("invalid") from None
    if not isinstance(payload, dict) or not all(k in payload for k in ("i", "s", "e")):
        raise LinkRefused("invalid")
    now = time.time() if now is None else now
    if not isinstance(payload["e"], int | float) or payload["e"] <= now:
        raise LinkRefused("expired")
    with db.session() as session:
        row = session.get(DisplayLink, str(payload["i"]))
        link = _link(row) if row is not None else None
    if link is None or link.seance != payload["s"]:
        raise LinkRefused("invalid")
    if link.revoked_at is not None:
        raise LinkRefused("revoked")
    if _epoch(link.expires_at) <= now:
        raise LinkRefused("expired")
    return link


def principal_of(link: Link) -> Principal:
    """The restricted principal of a wall screen showing ``link.seance``."""
    return Principal(username=f"affichage:{link.id}", roles=frozenset({ROLE}), seance=link.seance)


# --------------------------------------------------------------------------- requests


def display_principal() -> Principal | None:
    """The display principal of this request, or None (called by ``enforce.current_principal``
    when nobody is signed in).

    A ``?jeton=`` on a séance page is checked (403 page when refused, or when it is a link to
    another séance) and kept in the session; later requests use the session's token, checked
    again each time (a revoked link stops at the next refresh).
    """
    request = flask.request
    from_query = request.method == "GET" and request.path.startswith("/seance/") and PARAM in request.args
    token = request.args.get(PARAM, "") if from_query else flask.session.get(SESSION_KEY)
    if not token or not isinstance(token, str):
        return None
    app = flask.current_app
    try:
        link = verify(get_db(), str(app.secret_key), token)
        if from_query:
            portal = app.extensions["pilotis"]
            found = portal.registry.seance_by_path(request.path)
            if found is None or found[0].key != link.seance:
                raise LinkRefused("scope")
    except LinkRefused as refused:
        flask.session.pop(SESSION_KEY, None)
        _audit_refusal(refused.reason)
        if from_query or _is_page(request):
            flask.abort(refusal_page(refused.reason))
        return None
    if from_query:
        flask.session[SESSION_KEY] = token
        flask.session.permanent = True
        flask.g.pilotis_display_redirect = True
    return principal_of(link)


def _is_page(request: flask.Request) -> bool:
    """A séance page (the screen shows why it stopped); elsewhere the visitor is just anonymous."""
    return request.method == "GET" and request.path.startswith("/seance/")


def _audit_refusal(reason: str) -> None:
    from pilotis.accounts import audit

    try:
        audit.record("display_link_refused", username=None, target=flask.request.path[:300], detail=reason)
    except Exception:  # noqa: BLE001 - the refusal stands even if it cannot be written down
        pass


def refusal_page(reason: str) -> flask.Response:
    """The 403 page of a refused display link (French, names nothing of the séance)."""
    from pilotis.web.enforce import error_page

    portal = flask.current_app.extensions["pilotis"]
    return error_page(portal, 403, "Lien d'affichage refusé", REFUSED.get(reason, REFUSED["invalid"]))


ALLOWED_PREFIXES = ("/_dash-", "/assets/", "/_favicon.ico", "/_reload-hash", "/lang/")
"""Technical addresses a wall screen needs besides its séance (the Dash guard checks callbacks)."""


def guard(portal: Any) -> Any:
    """``before_request``: a display principal reaches its séance only (403 elsewhere), and the
    first visit drops the token from the address bar."""
    from pilotis.web.enforce import current_principal

    principal = current_principal()
    if principal is None or principal.seance is None:
        return None
    request = flask.request
    path = request.path
    if path.startswith(ALLOWED_PREFIXES) or path in ("/login", "/logout"):
        return None
    found = portal.registry.seance_by_path(path)
    if found is None or found[0].key != principal.seance:
        from pilotis.web.enforce import audit

        audit("access_denied", principal, f"page {path[:200]}", "lien d'affichage hors de sa séance")
        return refusal_page("scope")
    if getattr(flask.g, "pilotis_display_redirect", False):
        rest = [(k, v) for k, v in request.args.items(multi=True) if k != PARAM]
        return flask.redirect(path + (f"?{urlencode(rest)}" if rest else ""), code=302)
    return None


# --------------------------------------------------------------------------- command line


def _seance_key(value: str) -> str:
    """``d/rsa`` or ``@rsa`` (a dashboard presented alone) → ``@rsa``; a séance id unchanged."""
    value = value.strip().strip("/")
    if value.startswith("seance/"):
        value = value.removeprefix("seance/")
    if value.startswith("d/"):
        return "@" + value[2:]
    return value


def cmd_create(args: argparse.Namespace) -> int:
    """Create a link and print its address (shown once: the token is not stored)."""
    from pilotis.accounts import audit
    from pilotis.cli.users import actor
    from pilotis.core.errors import ConfigError
    from pilotis.core.loader import load_registry
    from pilotis.core.settings import Settings

    settings = Settings.from_env()
    key = _seance_key(args.seance)
    try:
        registry = load_registry(
            settings.root,
            settings.config_dir,
            settings.dashboards_dir,
            instance_dir=settings.instance_dir,
        )
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    seance = registry.seance(key)
    if seance is None:
        from pilotis.core.errors import did_you_mean

        known = list(registry.seances) + [f"d/{d}" for d in registry.dashboards]
        print(
            f"séance `{args.seance}` inconnue ; {did_you_mean(args.seance, known, 'séances')}",
            file=sys.stderr,
        )
        return 1
    with Database(settings.database_url) as db:
        db.upgrade()
        link, token = create(db, settings.secret_key, key, args.days, label=args.label, author=actor())
        audit.record(
            "display_link_created",
            username=actor(),
            ip=None,
            target=seance.url,
            detail=f"lien {link.id}, valable jusqu'au {link.expires_at:%d/%m/%Y %H:%M} UTC",
            db=db,
        )
    base = args.base_url.rstrip("/")
    print(
        f"Lien d'affichage {link.id} pour « {seance.spec.title} », "
        f"valable jusqu'au {link.expires_at:%d/%m/%Y à %H:%M} (UTC) :"
    )
    print(f"{base}{seance.url}?{urlencode({PARAM: token})}")
    print(f"Conservez-le : il n'est affiché qu'une fois. Révocation : python -m pilotis display-link revoke {link.id}")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    """Revoke a link: the screens using it stop at their next refresh."""
    from pilotis.accounts import audit
    from pilotis.cli.users import actor
    from pilotis.core.settings import Settings

    with Database(Settings.from_env().database_url) as db:
        db.upgrade()
        if not revoke(db, args.id, actor()):
            print(f"aucun lien actif `{args.id}`", file=sys.stderr)
            return 1
        audit.record("display_link_revoked", username=actor(), ip=None, target=args.id, db=db)
    print(f"Lien {args.id} révoqué.")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """The links (active only unless ``--all``)."""
    from pilotis.core.settings import Settings

    with Database(Settings.from_env().database_url) as db:
        db.upgrade()
        found = links(db, everything=args.all)
    if not found:
        print("Aucun lien d'affichage.")
    for link in found:
        state = "révoqué" if link.revoked_at else "expiré" if not link.active else "actif"
        print(f"{link.id}  {link.seance:<24} {state:<8} jusqu'au {link.expires_at:%d/%m/%Y %H:%M}  {link.label}")
    return 0


def register(sub: Any) -> None:
    """Add ``display-link create|list|revoke`` to the command line."""
    parser = sub.add_parser("display-link", help="liens d'affichage des écrans muraux (séances)")
    commands = parser.add_subparsers(dest="display_command", required=True)
    create_p = commands.add_parser("create", help="créer un lien vers une séance")
    create_p.add_argument("seance", help="identifiant de la séance, ou d/<tableau de bord>")
    create_p.add_argument("--days", type=float, default=30, help="durée de validité en jours (30)")
    create_p.add_argument("--label", default="", help="où est l'écran (« hall de l'hôtel du département »)")
    create_p.add_argument("--base-url", default="http://127.0.0.1:8050", help="adresse publique du portail")
    create_p.set_defaults(func=cmd_create)
    list_p = commands.add_parser("list", help="lister les liens actifs")
    list_p.add_argument("--all", action="store_true", help="aussi les liens expirés ou révoqués")
    list_p.set_defaults(func=cmd_list)
    revoke_p = commands.add_parser("revoke", help="révoquer un lien")
    revoke_p.add_argument("id", help="identifiant du lien (affiché à la création et par `list`)")
    revoke_p.set_defaults(func=cmd_revoke)
