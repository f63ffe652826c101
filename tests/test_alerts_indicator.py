"""A rule on an indicator, evaluated per EPCI on the shipped RSA data through the same engine as a
KPI card (Scope, Evaluator): Laval Agglomération (2 228 foyers at the last month) is in alert;
who is told depends on his territory."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import delete, update

from pilotis.accounts import access_requests, users
from pilotis.accounts.db import Database
from pilotis.accounts.models import AccessRequest, AlertState
from tests import alerting

RULE = """
label: Foyers allocataires du RSA par EPCI
indicator: rsa.foyers_allocataires
per: epci
thresholds: {vigilance: 1500, alerte: 2000}
recipients: {departments: [solidarites]}
dashboard: rsa
"""


def test_an_indicator_rule_fires_per_territory_and_tells_only_who_may_see_it(tmp_path: Path) -> None:
    sensors = alerting.Sensors(tmp_path / "capteurs.db")
    registry = alerting.registry_of(alerting.make_config(tmp_path, {"rsa": RULE}, sensors.path))
    with alerting.smtp_server() as (box, mail), Database(f"sqlite:///{tmp_path / 'app.db'}") as db:
        db.upgrade()
        for name, territory in (
            ("laval", f"epci:{alerting.LAVAL_EPCI}"),
            ("ailleurs", "epci:200055887"),
            ("tous", None),
        ):
            alerting.add_user(
                db, name, email=f"{name}@cd53.test", roles=["agent"], territory=territory, department="solidarites"
            )
        evaluator = alerting.Evaluator(db, registry)
        (run,) = evaluator.run(dt.datetime(2026, 12, 7, 8, 0))
        evaluator.drain(dt.datetime(2026, 12, 7, 8, 0), mail)
    assert [(instance, event.kind, event.level) for instance, event in run.events] == [
        (alerting.LAVAL_EPCI, "firing", "alerte")
    ]
    (laval,) = box.to("laval@cd53.test")
    text = laval.get_body(("plain",)).get_content()
    assert "Laval Agglomération" in text and "2\u202f228" in text and "seuil 2\u202f000" in text
    assert "Tableau de bord : https://pilotis.test/rsa" in text and "https://pilotis.test/alertes/acquitter/" in text
    html = laval.get_body(("html",)).get_content()
    assert '<html lang="fr">' in html and '<th scope="col">Seuil</th>' in html and "▲ alerte" in html
    assert len(box.to("tous@cd53.test")) == 1
    assert box.to("ailleurs@cd53.test") == []  # another EPCI: not told about Laval


def test_a_person_granted_the_dashboard_is_told_like_its_readers_until_the_grant_ends(tmp_path: Path) -> None:
    """Alert recipients are judged with their access grants, as when they sign in: an agent of
    another department named by the rule, granted the RSA dashboard (access request), is told
    about the RSA indicator's alert; the same agent without a grant, or once it has ended, is not."""
    rule = RULE.replace("recipients: {departments: [solidarites]}", "recipients: {users: [invitee, stranger]}")
    sensors = alerting.Sensors(tmp_path / "capteurs.db")
    registry = alerting.registry_of(alerting.make_config(tmp_path, {"rsa": rule}, sensors.path))
    evaluated = dt.datetime(2026, 12, 7, 8, 0)
    with alerting.smtp_server() as (box, mail), Database(f"sqlite:///{tmp_path / 'app.db'}") as db:
        db.upgrade()
        for name in ("invitee", "stranger"):
            alerting.add_user(db, name, email=f"{name}@cd53.test", roles=["agent"])
        with db.session() as session:
            invitee = users.get(session, "invitee").id
        request = access_requests.create(db, invitee, "rsa", "suivi du RSA pour la cellule de crise", now=evaluated)
        until = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=300)
        access_requests.decide(db, request.id, "admin", ends_at=until, reason="", now=evaluated)
        evaluator = alerting.Evaluator(db, registry)
        (run,) = evaluator.run(evaluated)
        evaluator.drain(evaluated, mail)
        assert [event.kind for _instance, event in run.events] == ["firing"]
        assert len(box.to("invitee@cd53.test")) == 1
        assert box.to("stranger@cd53.test") == []
        with db.session() as session:  # the grant ended: the next alert of the rule is not for her
            session.execute(update(AccessRequest).values(ends_at=evaluated + dt.timedelta(days=1)))
            session.execute(delete(AlertState))
        (again,) = evaluator.run(evaluated + dt.timedelta(days=2))
        evaluator.drain(evaluated + dt.timedelta(days=2), mail)
    assert [event.kind for _instance, event in again.events] == ["firing"]
    assert len(box.to("invitee@cd53.test")) == 1
