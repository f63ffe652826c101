"""The referents' accounts checked against a real OpenLDAP (`slapd` on loopback), as the worker's
`referents_directory` job does on its schedule: a referent removed from the directory has their
directory account disabled, the role reads « référent à désigner » and the administrators get one
e-mail (real SMTP server); a directory that cannot answer or finds nobody changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

import pilotis.accounts.feature_jobs  # noqa: F401  (registers the worker's jobs)
from pilotis.accounts import ldap_referents
from pilotis.accounts.alert_outbox import drain_outbox
from pilotis.accounts.db import Database
from pilotis.accounts.ldap_directory import DirectoryUnavailable
from pilotis.accounts.models import AuditEvent, User
from pilotis.accounts.referent_history import departed, sync
from pilotis.core.jobs import JOB_KINDS, Every, JobContext
from pilotis.core.referents import Directory, ReferentsFile
from pilotis.core.sso_config import LdapDirectory
from tests import alerting
from tests.sso_servers import CI, SUFFIX, LdapServer, slapd, slapd_available

pytestmark = pytest.mark.skipif(
    not slapd_available() and not CI, reason="slapd absent (apt-get install slapd ldap-utils)"
)
PEOPLE = f"ou=people,{SUFFIX}"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LdapServer]:
    with slapd(tmp_path / "ldap") as running:
        running.add_user("marie.dupont", "x-2026-mdp", "Marie Dupont")
        running.add_user("paul.martin", "x-2026-mdp", "Paul Martin")
        yield running


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(f"sqlite:///{tmp_path / 'pilotis.db'}") as database:
        database.upgrade()
        for name in ("marie.dupont", "paul.martin", "locale"):
            alerting.add_user(database, name, email=None, roles=["agent"])
        alerting.add_user(database, "admin", email="admin@cd53.test", roles=["admin"])
        with database.session() as session:
            session.execute(
                update(User).where(User.username.in_(["marie.dupont", "paul.martin"])).values(auth_source="ldap")
            )
        yield database


def _directory() -> Directory:
    def role(account: str) -> dict[str, object]:
        return {"holder": {"name": account, "account": account, "email": f"{account}@cd53.test"}}

    roles = {"rsa_communes": role("marie.dupont"), "rh_paie": role("paul.martin"), "autre": role("locale")}
    return Directory.of(ReferentsFile.model_validate({"datasets": roles}))


def _config(server: LdapServer, **extra: object) -> LdapDirectory:
    return LdapDirectory.model_validate({"url": server.url, "user_dn": f"uid={{username}},{PEOPLE}", **extra})


def test_a_referent_removed_from_the_directory_is_disabled_and_the_admins_told(
    server: LdapServer, db: Database
) -> None:
    directory = _directory()
    sync(db, directory)
    first = ldap_referents.check_referents(db, _config(server), directory)
    assert first.left == ["locale"] and first.disabled == []  # a local account is never touched
    with server.admin() as conn:  # Paul leaves the collectivité
        conn.delete(f"uid=paul.martin,{PEOPLE}")
    report = ldap_referents.check_referents(db, _config(server), directory)
    assert report.disabled == ["paul.martin"] and "dataset:rh_paie" in report.vacancies
    assert "paul.martin" in departed(db, directory.accounts())
    again = ldap_referents.check_referents(db, _config(server), directory)  # the next run: nothing new
    assert again.disabled == [] and again.vacancies == []
    with db.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.event == "user_disabled")).one()
        assert event.target == "paul.martin" and "annuaire" in event.detail
    with alerting.smtp_server() as (box, mail):
        drain_outbox(db, dt.datetime.now(dt.UTC).replace(tzinfo=None), mail=mail, webhook_secret="x")
    subjects = [m["Subject"] for m in box.to("admin@cd53.test")]
    assert subjects.count("Référent à désigner : dataset:rh_paie") == 1


def test_a_directory_that_cannot_answer_or_finds_nobody_changes_nothing(server: LdapServer, db: Database) -> None:
    directory = _directory()
    wrong = _config(server, user_dn="uid={username},ou=ailleurs," + SUFFIX)  # finds no referent at all
    with pytest.raises(DirectoryUnavailable):
        ldap_referents.check_referents(db, wrong, directory)
    down = LdapDirectory.model_validate(
        {"url": "ldap://127.0.0.1:9", "user_dn": "uid={username}", "timeout_seconds": 1}
    )
    with pytest.raises(DirectoryUnavailable):
        ldap_referents.check_referents(db, down, directory)
    assert departed(db, directory.accounts()) == set()  # nobody disabled


def test_the_job_runs_on_the_interval_of_the_configuration(server: LdapServer, db: Database) -> None:
    directory = _directory()
    sync(db, directory)

    def context(minutes: int) -> JobContext:
        sso = SimpleNamespace(ldap=_config(server, referents_check_minutes=minutes))
        portal = SimpleNamespace(registry=SimpleNamespace(sso=sso, referents=directory))
        return JobContext(None, portal, db, "referents_directory")

    assert JOB_KINDS["referents_directory"].plan(context(0)) == {}  # 0: never
    assert JOB_KINDS["referents_directory"].plan(context(30)) == {"": Every(1800)}
    with server.admin() as conn:
        conn.delete(f"uid=marie.dupont,{PEOPLE}")
    JOB_KINDS["referents_directory"].function(context(30))
    assert "marie.dupont" in departed(db, directory.accounts())
