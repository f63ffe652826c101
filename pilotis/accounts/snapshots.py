"""Frozen séances (« instantanés »): what a séance showed, kept for the minutes.

« Figer » renders the séance exactly as the screen shows it (same time bucket, same filters,
same access rules) and stores the result — figures as plotly JSON, KPI cards and texts as Dash
component JSON — in the ``seance_snapshots`` table with a random, unguessable id, its date, its
author and the SHA-256 of its canonical JSON. ``/seance/<séance>/instantane/<id>`` renders that
JSON only, never querying again: the same figures whatever the data becomes. Opening it requires
the right to open every dashboard it shows (:func:`pilotis.core.access.can_view_seance`).
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
from pilotis.core.canonical import canonical

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
) -> Snapshot:
    """Store ``content`` (JSON values only) and return the snapshot (new random id)."""
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
            )
        )
    return Snapshot(snapshot_id, seance, created, author, tuple(dashboards), digest, json.loads(data))


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
        )


def short(digest: str) -> str:
    """The hash as shown on screen: groups of 4 hex digits (readable aloud, copyable)."""
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))
