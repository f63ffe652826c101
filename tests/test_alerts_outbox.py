"""The outbox drain survives a receiver that answers nonsense: the message is retried with the
error shown to the administrators, and the other messages of the same drain still go."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select

from pilotis.accounts.alert_outbox import drain_outbox
from pilotis.accounts.db import Database
from pilotis.accounts.models import AlertOutbox
from pilotis.accounts.notices import mail_rows
from tests.alerting import HOOK_SECRET, smtp_server


@contextmanager
def nonsense_server() -> Iterator[str]:
    """A real TCP server on loopback answering every request with a line that is not HTTP."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # closed: the test is over
                return
            with connection:
                connection.recv(65536)
                connection.sendall(b"BONJOUR\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    finally:
        listener.close()


def test_a_nonsense_answer_is_retried_and_the_other_messages_still_go(tmp_path: Path) -> None:
    now = dt.datetime(2026, 12, 6, 8, 0)
    with Database(f"sqlite:///{tmp_path / 'outbox.db'}") as db, nonsense_server() as url, smtp_server() as (box, mail):
        db.upgrade()
        hook = AlertOutbox(
            created_at=now, rule="crues", channel="webhook", recipient=url, subject="s", body="{}", html="",
            status="pending", attempts=0, next_attempt_at=now,
        )  # fmt: skip
        with db.session() as session:
            session.add(hook)
            session.flush()  # the webhook first: its failure must not stop the e-mail after it
            session.add_all(mail_rows("crues", ["astreinte@cd53.test"], "Crue", "Niveau d'eau", now))
        report = drain_outbox(db, now, mail=mail, webhook_secret=HOOK_SECRET)
        assert (report.sent, report.retried) == (1, 1)
        assert len(box.to("astreinte@cd53.test")) == 1
        webhook = db.read(select(AlertOutbox.status, AlertOutbox.last_error).where(AlertOutbox.channel == "webhook"))
        status, error = webhook[0]
        assert status == "pending" and "BadStatusLine" in (error or "")
