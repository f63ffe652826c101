"""Display links: a wall screen shows one séance without anyone signing in every morning.

An administrator creates a link (``python -m pilotis display-link create SEANCE --days 30``):
``/seance/<id>?jeton=<token>``. The token is signed with the app's secret key (itsdangerous) and
carries a token id, the séance key and an expiry; the ``display_links`` table holds the same id,
so that an administrator can revoke it (``display-link revoke ID``). Changing the secret key
revokes every link at once.

The first visit stores the token in the signed session cookie and redirects to the address
without it. From then on every request of that browser is made by a restricted principal
(role ``display``, ``Principal.seance`` set): it may open that séance, its snapshots and its
callbacks, nothing else (:func:`pilotis.core.access.can_view` refuses it every dashboard page,
and :func:`pilotis.web.display_guard.guard` every other address). Expired, revoked or tampered
links answer 403 with a French message. Each check reads the table (revocation takes effect on
the next refresh of the screen).

This module holds the tokens and their table; the request side is in
:mod:`pilotis.web.display_session` (who is asking) and :mod:`pilotis.web.display_guard` (where
they may go), the commands in :mod:`pilotis.cli.display_links`.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from pilotis.accounts.db import Database, utcnow
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
