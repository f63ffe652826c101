"""Delivering the alert outbox: e-mails through SMTP, JSON webhooks signed with HMAC-SHA256,
messages in Matrix / Tchap rooms (:mod:`pilotis.accounts.alert_matrix`).

:func:`drain_outbox` takes the pending rows whose time has come, each claimed by an UPDATE that
only one drainer wins (``claimed_until``: a drainer killed while sending releases its rows when
the claim expires, another one sends them — at least once), sends them outside any transaction,
then records the result: ``sent``, or a new attempt after an exponential back-off (30 s, 1 min,
2 min… at most 1 h), ``failed`` after :data:`MAX_ATTEMPTS`. Administrators see every row's state
on /alertes.

Webhook signature: header ``X-Pilotis-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>">`` with PILOTIS_ALERTS_WEBHOOK_SECRET (the app's secret key when unset).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import os
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import or_, select, update

from pilotis.accounts.alert_matrix import send_matrix
from pilotis.accounts.db import Database
from pilotis.accounts.models import AlertOutbox

MAX_ATTEMPTS = 8
BACKOFF = 30
"""Seconds before the second attempt; doubled at each failure, at most :data:`MAX_BACKOFF`."""
MAX_BACKOFF = 3600
CLAIM = dt.timedelta(minutes=5)
"""How long a drainer holds a row it is sending (then another drainer may take it)."""


@dataclass(frozen=True)
class MailSettings:
    """SMTP settings, from ``PILOTIS_SMTP_*`` (host, port, sender, user, password, starttls)."""

    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "pilotis@localhost"
    user: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_env(cls) -> MailSettings:
        """The settings of the environment (secrets may come from ``PILOTIS_SMTP_PASSWORD_FILE``)."""
        password = os.environ.get("PILOTIS_SMTP_PASSWORD", "")
        path = os.environ.get("PILOTIS_SMTP_PASSWORD_FILE")
        if not password and path:
            with open(path, encoding="utf-8") as handle:
                password = handle.read().strip()
        return cls(
            host=os.environ.get("PILOTIS_SMTP_HOST", "127.0.0.1"),
            port=int(os.environ.get("PILOTIS_SMTP_PORT", "25")),
            sender=os.environ.get("PILOTIS_SMTP_FROM", "pilotis@localhost"),
            user=os.environ.get("PILOTIS_SMTP_USER", ""),
            password=password,
            starttls=os.environ.get("PILOTIS_SMTP_STARTTLS", "").lower() in ("1", "true", "oui", "yes"),
        )


@dataclass
class DrainReport:
    """What one drain did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Pilotis-Signature`` header value of a webhook body."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def send_email(mail: MailSettings, row: AlertOutbox) -> None:
    """One e-mail (plain text with an HTML alternative); raises on any SMTP refusal."""
    message = EmailMessage()
    message["Subject"] = row.subject
    message["From"] = mail.sender
    message["To"] = row.recipient
    message["Message-ID"] = make_msgid(domain="pilotis")
    message["Content-Language"] = "fr"
    message.set_content(row.body)
    if row.html:
        message.add_alternative(row.html, subtype="html")
    if row.attachment is not None:  # a scheduled report's PDF (pilotis/accounts/report_jobs.py)
        name = row.attachment_name or "piece-jointe.pdf"
        kind = ("application", "pdf") if name.endswith(".pdf") else ("application", "octet-stream")
        message.add_attachment(row.attachment, maintype=kind[0], subtype=kind[1], filename=name)
    with smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout) as smtp:
        if mail.starttls:
            smtp.starttls()
        if mail.user:
            smtp.login(mail.user, mail.password)
        smtp.send_message(message)


def send_webhook(secret: str, row: AlertOutbox, now: dt.datetime, timeout: float = 10.0) -> None:
    """One signed POST; any answer other than 2xx is a failure."""
    body = row.body.encode("utf-8")
    stamp = int(now.replace(tzinfo=dt.UTC).timestamp())
    request = urllib.request.Request(
        row.recipient,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Pilotis-alertes",
            "X-Pilotis-Signature": signature(secret, body, stamp),
            "X-Pilotis-Rule": row.rule,
        },
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (URL from the rule)
        if not 200 <= answer.status < 300:
            raise urllib.error.HTTPError(row.recipient, answer.status, "réponse inattendue", answer.headers, None)


def _claim(db: Database, now: dt.datetime, limit: int) -> list[AlertOutbox]:
    ready = (
        (AlertOutbox.status == "pending")
        & (AlertOutbox.next_attempt_at <= now)
        & or_(AlertOutbox.claimed_until.is_(None), AlertOutbox.claimed_until < now)
    )
    ids = [row[0] for row in db.read(select(AlertOutbox.id).where(ready).order_by(AlertOutbox.id).limit(limit))]
    claimed = []
    for row_id in ids:
        with db.session() as session:
            won = session.execute(
                update(AlertOutbox).where(AlertOutbox.id == row_id).where(ready).values(claimed_until=now + CLAIM)
            )
            if won.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(session.get(AlertOutbox, row_id))
    return [row for row in claimed if row is not None]


def drain_outbox(
    db: Database, now: dt.datetime, *, mail: MailSettings, webhook_secret: str, limit: int = 200
) -> DrainReport:
    """Send what is due (see the module docstring); ``now`` is naive UTC."""
    report = DrainReport()
    for row in _claim(db, now, limit):
        error = None
        try:
            if row.channel == "email":
                send_email(mail, row)
            elif row.channel == "matrix":
                send_matrix(row)
            else:
                send_webhook(webhook_secret, row, now)
        except (OSError, smtplib.SMTPException, http.client.HTTPException, ValueError) as exc:
            # HTTPException: a receiver answering something that is not HTTP (retried like a refusal)
            error = f"{type(exc).__name__} : {exc}"[:2000]
        with db.session() as session:
            stored = session.get(AlertOutbox, row.id)
            if stored is None:
                continue
            stored.attempts += 1
            stored.claimed_until = None
            if error is None:
                stored.status, stored.sent_at, stored.last_error = "sent", now, None
                report.sent += 1
            elif stored.attempts >= MAX_ATTEMPTS:
                stored.status, stored.last_error = "failed", error
                report.failed += 1
            else:
                delay = min(BACKOFF * 2 ** (stored.attempts - 1), MAX_BACKOFF)
                stored.next_attempt_at = now + dt.timedelta(seconds=delay)
                stored.last_error = error
                report.retried += 1
    return report
