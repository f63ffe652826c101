"""Frozen séances (« instantanés »): what a séance showed, kept for the minutes.

« Figer » renders the séance exactly as the screen shows it (same time bucket, same filters,
same access rules) and stores the result — figures as plotly JSON, KPI cards and texts as Dash
component JSON — in the ``seance_snapshots`` table with a random, unguessable id, its date, its
author and the SHA-256 of its canonical JSON. ``/seance/<séance>/instantane/<id>`` renders that
JSON only, never querying again: the same figures whatever the data becomes.

It keeps only what its author was shown, and the row scope it was rendered with
(:func:`pilotis.core.access.recorded_scope`). :func:`refusal` decides who may open it: the right to
open every dashboard it shows (:func:`pilotis.core.access.can_view_seance`), to see every widget it
holds (:func:`pilotis.core.access.widget_indicators_visible`) and rows covering its scope
(:func:`pilotis.core.access.scope_covers`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pilotis.accounts.db import Database, utcnow
from pilotis.accounts.models import SeanceSnapshot
from pilotis.core.access import Principal, can_view_seance, scope_covers, widget_indicators_visible
from pilotis.core.canonical import canonical
from pilotis.core.registry import Registry
from pilotis.core.secrecy import is_exempt
from pilotis.core.territory import TerritoryIndex

FORMAT = 1
"""Version of the stored JSON layout."""


@dataclass(frozen=True)
class Snapshot:
    """A stored snapshot with its decoded content."""

    id: str
    seance: str
    created_at: datetime
    """Naive UTC, as stored."""
    author: str | None
    dashboards: tuple[str, ...]
    sha256: str
    content: dict[str, Any]
    scope: str | None = None
    """Row scope it was rendered with (``epci:200083392``); None: every row of the département."""

    @property
    def timestamp(self) -> float:
        """``created_at`` as a POSIX timestamp."""
        return self.created_at.replace(tzinfo=UTC).timestamp()

    def intact(self) -> bool:
        """True when the stored JSON still has the hash recorded at creation."""
        return hashlib.sha256(canonical(self.content)).hexdigest() == self.sha256


def save(
    db: Database,
    seance: str,
    dashboards: list[str] | tuple[str, ...],
    author: str | None,
    content: dict[str, Any],
    scope: str | None,
) -> Snapshot:
    """Store ``content`` (JSON values only), rendered with the row scope ``scope``
    (:func:`pilotis.core.access.recorded_scope` of its author), and return the snapshot (new random id)."""
    body = {"format": FORMAT, **content}
    data = canonical(body)
    digest = hashlib.sha256(data).hexdigest()
    snapshot_id = secrets.token_urlsafe(18)
    created = utcnow().replace(microsecond=0)
    with db.session() as session:
        session.add(
            SeanceSnapshot(
                id=snapshot_id,
                seance=seance,
                created_at=created,
                author=author,
                dashboards=" ".join(dashboards),
                sha256=digest,
                content=zlib.compress(data, 6),
                scope=scope,
            )
        )
    return Snapshot(snapshot_id, seance, created, author, tuple(dashboards), digest, json.loads(data), scope)


def load(db: Database, snapshot_id: str) -> Snapshot | None:
    """The snapshot ``snapshot_id``, or None (unknown id, or unreadable content)."""
    if not snapshot_id or len(snapshot_id) > 64:
        return None
    with db.session() as session:
        row = session.get(SeanceSnapshot, snapshot_id)
        if row is None:
            return None
        try:
            content = json.loads(zlib.decompress(row.content))
        except (zlib.error, ValueError):
            return None
        return Snapshot(
            row.id,
            row.seance,
            row.created_at,
            row.author,
            tuple(row.dashboards.split()),
            row.sha256,
            content,
            row.scope,
        )


def refusal(principal: Principal | None, registry: Registry, index: TerritoryIndex, snapshot: Snapshot) -> str | None:
    """Why ``principal`` may not open ``snapshot`` (French, for the audit log), or None.

    Deny unless every dashboard it shows may be opened (or it is the séance of their display
    link), every widget it holds may be seen — on a synthesis dashboard, a widget that no longer
    exists cannot be decided on and is refused — and their rows cover the scope it was
    rendered with (a snapshot of the whole département does not open for one EPCI), and a
    snapshot showing exact small counts (frozen by an exempt role) opens only for exempt roles.
    """
    specs = [registry.dashboards[d].spec if d in registry.dashboards else None for d in snapshot.dashboards]
    if not can_view_seance(principal, snapshot.seance, specs):
        return "tableaux de bord non autorisés"
    for slide in snapshot.content.get("slides", []):
        for slot in slide.get("slots", []):
            dashboard = registry.dashboards.get(str(slot.get("dashboard")))
            widget = str(slot.get("widget"))
            if dashboard is None or (dashboard.spec.overview and all(w.id != widget for w in dashboard.widgets)):
                return f"widget {widget} inconnu"
            if not widget_indicators_visible(principal, registry, dashboard, widget):
                return f"widget {dashboard.id}/{widget} non autorisé"
    exact = snapshot.content.get("exact_counts") or []
    if any(d not in registry.datasets or not is_exempt(registry.datasets[d].config, principal) for d in exact):
        return "petits effectifs exacts (secret statistique) non autorisés"
    if not scope_covers(principal, snapshot.scope, index):
        return f"périmètre {snapshot.scope or 'tout le département'} non couvert"
    return None


def short(digest: str) -> str:
    """The hash as shown on screen: groups of 4 hex digits (readable aloud, copyable)."""
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))
