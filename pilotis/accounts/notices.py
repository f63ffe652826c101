"""E-mails of the catalogue features (anomaly reports, vacant referent roles, late datasets) put in
the outbox the worker sends (``alerts_outbox`` job, :mod:`pilotis.accounts.alert_outbox`, SMTP
settings ``PILOTIS_SMTP_*``): rows written in the caller's transaction, so an e-mail is queued
exactly when what it tells about is recorded."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime

from pilotis.accounts.models import AlertOutbox


def base_url() -> str:
    """The portal's public address for links in e-mails (``PILOTIS_BASE_URL``, as the alerts)."""
    return os.environ.get("PILOTIS_BASE_URL", "http://127.0.0.1:8050").rstrip("/")


def mail_rows(rule: str, recipients: Iterable[str], subject: str, body: str, now: datetime) -> list[AlertOutbox]:
    """One pending e-mail per address (each once, empty ones skipped), for ``session.add_all``."""
    return [
        AlertOutbox(
            created_at=now,
            rule=rule[:100],
            channel="email",
            recipient=address,
            subject=subject[:300],
            body=body,
            html="",
            status="pending",
            attempts=0,
            next_attempt_at=now,
        )
        for address in sorted({a for a in recipients if a})
    ]
