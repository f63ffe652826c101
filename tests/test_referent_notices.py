"""The referents are told by e-mail (real SMTP server on loopback), each thing once: the
administrators when a holder's account is disabled (« référent à désigner »), however many pages
are viewed; a dataset's referent when the dataset is late against its promised update, once per
late period, whatever the number of worker passes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from pilotis.accounts.alert_outbox import drain_outbox
from pilotis.accounts.feature_jobs import tell_late_datasets
from pilotis.accounts.late_datasets import late_datasets, notify_late
from pilotis.accounts.models import AlertOutbox, AuditEvent, LateDatasetNotice, User
from pilotis.accounts.referent_history import sync
from pilotis.accounts.users import set_active
from pilotis.core.jobs import JOB_KINDS, JobContext
from pilotis.core.referents import Directory, ReferentsFile
from tests.alerting import smtp_server
from tests.helpers import login_as

ADMIN_MAIL = "admin-portail@example.org"
TODAY = date(2026, 12, 6)  # the demo's rsa_departements stops in 2020: far past its monthly promise


@pytest.fixture(autouse=True)
def clean(db: Any) -> Iterator[None]:
    def wipe() -> None:
        with db.session() as session:
            session.execute(delete(LateDatasetNotice))
            session.execute(delete(AlertOutbox).where(AlertOutbox.rule.like("retard:%")))
            session.execute(delete(AlertOutbox).where(AlertOutbox.rule.like("referent:%")))

    with db.session() as session:
        first = session.scalar(select(func.max(AuditEvent.id))) or 0
    wipe()
    yield
    wipe()
    with db.session() as session:  # tests/test_referents.py counts the vacancies of its own departure
        session.execute(delete(AuditEvent).where(AuditEvent.event == "referent_vacant", AuditEvent.id > first))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _outbox(db: Any, prefix: str) -> list[tuple[str, str, str]]:
    with db.session() as session:
        rows = session.execute(
            select(AlertOutbox.rule, AlertOutbox.recipient, AlertOutbox.subject).where(AlertOutbox.rule.like(prefix))
        ).all()
    return [tuple(r) for r in rows]


def test_a_departed_holder_is_mailed_to_the_admins_once(app: Any, db: Any, portal: Any) -> None:
    sync(db, portal.registry.referents)  # as at start-up (another test may have synced its own directory)
    with db.session() as session:
        session.execute(update(User).where(User.username == "admin").values(email=ADMIN_MAIL))
    viewer = app.server.test_client()
    login_as(viewer, "president")
    assert set_active(db, "agent.rsa", False)
    try:
        for _ in range(3):  # every page view checks the vacancies: the e-mail is queued once
            assert viewer.get("/referents").status_code == 200
        queued = _outbox(db, "referent:%")
        subjects = sorted(rule.split(":", 1)[1] for rule, _, _ in queued)
        assert "theme:rsa" in subjects and "dataset:rsa_communes" in subjects
        assert len(subjects) == len(set(subjects))  # once per role
        assert {recipient for _, recipient, _ in queued} == {ADMIN_MAIL}
        with smtp_server() as (box, mail):
            drain_outbox(db, _now(), mail=mail, webhook_secret="x")
        told = {m["Subject"]: m.get_content() for m in box.to(ADMIN_MAIL)}
        body = told["Référent à désigner : theme:rsa"]
        assert "agent.rsa" in body and "référent à désigner" in body and "/referents" in body
    finally:
        set_active(db, "agent.rsa", True)
        viewer.get("/referents")  # the account is back: the vacancy closes
        with db.session() as session:
            session.execute(update(User).where(User.username == "admin").values(email=None))
    viewer.get("/referents")
    assert len(_outbox(db, "referent:%")) == len(queued)  # nothing new while the holder is present


def _directory(email: str = "donnees-drees@example.org") -> Directory:
    role = {"holder": {"name": "Référent DREES", "service": "solidarites", "email": email}}
    return Directory.of(ReferentsFile.model_validate({"datasets": {"rsa_departements": role}}))


def test_a_late_dataset_mails_its_referent_once_per_late_period(portal: Any, db: Any) -> None:
    registry, data = portal.registry, portal.data
    late = {item.dataset: item for item in late_datasets(registry, data, TODAY)}
    assert "rsa_departements" in late  # the catalogue's « en retard »
    assert late_datasets(registry, data, date(2020, 1, 1)) == []  # not late back then

    assert notify_late(db, registry, data, _directory(), TODAY) == ["rsa_departements"]
    assert notify_late(db, registry, data, _directory(), TODAY) == []  # the same late period: told already
    with smtp_server() as (box, mail):
        drain_outbox(db, _now(), mail=mail, webhook_secret="x")
    (message,) = box.to("donnees-drees@example.org")
    assert message["Subject"].startswith("Jeu de données en retard : ")
    text = message.get_content()
    assert late["rsa_departements"].last_period.isoformat() in text and "/donnees/rsa_departements" in text
    with db.session() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "referent_late_notice").order_by(AuditEvent.id.desc())
        ).first()
        assert event is not None and event.target == "jeu de données rsa_departements"
        # the data moved on since, and is late again: a new period is told again
        session.execute(update(LateDatasetNotice).values(last_period="2019-01-01"))
    assert notify_late(db, registry, data, _directory(), TODAY) == ["rsa_departements"]


def test_no_referent_no_mail_and_no_claim(portal: Any, db: Any) -> None:
    """The shipped directory names nobody for rsa_departements: nothing is sent nor claimed, so a
    referent named later is told (the worker's job runs with the shipped directory)."""
    assert notify_late(db, portal.registry, portal.data, portal.registry.referents, TODAY) == []
    context = JobContext(portal.settings, portal, db, "late_datasets", "", datetime.now(UTC))
    tell_late_datasets(context)
    with db.session() as session:
        assert session.scalar(select(LateDatasetNotice.id)) is None
    assert _outbox(db, "retard:%") == []
    assert "late_datasets" in JOB_KINDS
    assert notify_late(db, portal.registry, portal.data, _directory(), TODAY) == ["rsa_departements"]
