"""« Signaler une anomalie » as people use it: the link under a widget, the form with the page,
filters and values the sender sees, the e-mail to the widget's referent (real SMTP server), the
inbox where the referent moves the report through its states, and the sender following them.
Real app, real database, the real forms with their CSRF tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from pilotis.accounts import anomaly_reports
from pilotis.accounts.alert_outbox import drain_outbox
from pilotis.accounts.models import AlertOutbox, AnomalyReport, AuditEvent, User
from pilotis.accounts.users import DEMO_USERS
from pilotis.core.access import can_view_widget
from pilotis.core.widget_referent import answerer, candidate_roles
from tests.alerting import smtp_server
from tests.helpers import form_token, route, signed_in, texts
from tests.test_access_matrix import principal_of_demo

FORM = "/signalements/nouveau?tableau=rsa&widget=communes&territoire=commune:53130&annee=2019"


@pytest.fixture(autouse=True)
def no_reports(db: Any) -> Iterator[None]:
    """Every test starts and ends without reports (the app's database is shared)."""

    def clean() -> None:
        with db.session() as session:
            session.execute(delete(AnomalyReport))
            session.execute(delete(AlertOutbox).where(AlertOutbox.rule.like("signalement:%")))

    clean()
    yield
    clean()


def _send(client: Any, form: str, message: str) -> Any:
    page = client.get(form)
    assert page.status_code == 200, page.data[:300]
    html = page.get_data(as_text=True)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    return client.post("/signalements/nouveau", data={**fields, "message": message})


def _only(db: Any) -> AnomalyReport:
    with db.session() as session:
        row = session.scalars(select(AnomalyReport)).one()
        session.expunge(row)
        return row


def _events(db: Any, event: str) -> list[AuditEvent]:
    with db.session() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.event == event)).all()
        session.expunge_all()
        return list(rows)


def _change(client: Any, report_id: int, **fields: str) -> Any:
    page = client.get("/signalements")
    return client.post(
        f"/signalements/{report_id}/etat", data={**fields, "csrf_token": form_token(page.get_data(as_text=True))}
    )


def test_every_widget_links_to_the_form(app: Any) -> None:
    agent = signed_in(app, "agent.rsa")
    page = route(agent, "/rsa")
    assert "Signaler une anomalie" in texts(page)
    assert "/signalements/nouveau?tableau=rsa&widget=communes" in str(page)


def test_report_reaches_the_referent_by_mail_with_page_and_filters_not_the_values(app: Any, db: Any) -> None:
    rh = signed_in(app, "president")  # sees every dashboard
    form = rh.get(FORM).get_data(as_text=True)
    assert "Agent RSA" in form and "Laval" in form  # who it goes to; the filter in words
    sent = _send(rh, FORM, "Le nombre de foyers de Laval en 2019 semble doublé.")
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/signalements?sent=1")
    report = _only(db)
    assert (report.dashboard, report.widget, report.subject) == ("rsa", "communes", "dataset:rsa_communes")
    assert "2019" in report.filters and report.shown.count("\n") >= 1
    assert _events(db, "anomaly_reported")[-1].username == "president"
    with smtp_server() as (box, mail):
        report_sent = drain_outbox(db, datetime.now(UTC).replace(tzinfo=None), mail=mail, webhook_secret="x")
        assert report_sent.sent >= 1
    (message,) = box.to("observatoire-social@example.org")
    assert message["Subject"].startswith("Anomalie signalée : ")
    text = message.get_content()
    assert "semble doublé" in text and "president" in text
    assert "/rsa?annee=2019&territoire=commune%3A53130" in text  # the page with its filters
    assert "Territoire : " in text and "2019" in text  # the filters in words
    # The values are not in the e-mail (an address carries no rights): the inbox shows them to
    # whoever may open the dashboard.
    first_line = report.shown.splitlines()[1]
    assert first_line not in text and "jointes au signalement dans le portail" in text


def test_inbox_status_flow_and_the_sender_follows_it(app: Any, db: Any) -> None:
    with db.session() as session:  # an address to be told at: the sender's account's
        session.execute(update(User).where(User.username == "president").values(email="presidence@example.org"))
    sender = signed_in(app, "president")
    assert _send(sender, FORM, "Valeur manquante pour 2019").status_code == 303
    report = _only(db)
    mine = sender.get("/signalements").get_data(as_text=True)
    assert "Valeur manquante pour 2019" in mine and "reçu" in mine
    assert "Signalements reçus" not in mine or "signalement-" + str(report.id) not in mine

    referent = signed_in(app, "agent.rsa")  # holder of datasets: rsa_communes
    inbox = referent.get("/signalements").get_data(as_text=True)
    assert f'id="signalement-{report.id}"' in inbox and "Valeur manquante pour 2019" in inbox
    assert _change(referent, report.id, status="in_progress", reply="").status_code == 200
    assert "en cours" in sender.get("/signalements").get_data(as_text=True)
    refused = _change(referent, report.id, status="rejected", reply="")
    assert refused.status_code == 400 and "réponse" in refused.get_data(as_text=True)
    done = _change(referent, report.id, status="resolved", reply="Corrigé dans la source (doublon).")
    assert done.status_code == 200 and "État enregistré." in done.get_data(as_text=True)
    followed = sender.get("/signalements").get_data(as_text=True)
    assert "résolu" in followed and "Corrigé dans la source (doublon)." in followed
    assert _change(referent, report.id, status="rejected", reply="non").status_code == 400  # closed
    assert [e.detail for e in _events(db, "anomaly_status")][-2:] == [
        "in_progress : ",
        "resolved : Corrigé dans la source (doublon).",
    ]
    with db.session() as session:  # the sender is told of each change by e-mail
        mails = session.execute(
            select(AlertOutbox.recipient, AlertOutbox.subject).where(AlertOutbox.rule == f"signalement:{report.id}")
        ).all()
        session.execute(update(User).where(User.username == "president").values(email=None))
    told = [subject for recipient, subject in mails if recipient == "presidence@example.org"]
    assert [s.split(" :")[0] for s in told] == ["Signalement en cours", "Signalement résolu"]


def test_someone_else_cannot_handle_a_report(app: Any, db: Any) -> None:
    sender = signed_in(app, "president")
    assert _send(sender, FORM, "Doublon").status_code == 303
    report = _only(db)
    rh = signed_in(app, "agent.rh")  # referent of other roles only
    assert f"signalement-{report.id}" not in rh.get("/signalements").get_data(as_text=True)
    assert _change(rh, report.id, status="resolved", reply="x").status_code == 403
    assert _only(db).status == "received"
    assert _events(db, "access_denied")[-1].target == f"signalement {report.id}"
    admin = signed_in(app, "admin")  # the administrators see every report
    assert f'id="signalement-{report.id}"' in admin.get("/signalements").get_data(as_text=True)


def test_a_dashboard_the_sender_may_not_see_is_a_404(app: Any, db: Any) -> None:
    finances = signed_in(app, "manager.finances")  # may not open /rsa
    assert finances.get(FORM).status_code == 404
    forged = finances.post("/signalements/nouveau", data={"tableau": "rsa", "widget": "communes", "message": "x"})
    assert forged.status_code in (400, 404)  # no CSRF token (400) or not visible (404): nothing recorded
    token = form_token(finances.get("/signalements").get_data(as_text=True))
    posted = finances.post(
        "/signalements/nouveau", data={"tableau": "rsa", "widget": "communes", "message": "x", "csrf_token": token}
    )
    assert posted.status_code == 404
    assert finances.get("/signalements/nouveau?tableau=rsa&widget=nulle-part").status_code == 404
    with db.session() as session:
        assert session.scalar(select(AnomalyReport.id)) is None
    assert _events(db, "access_denied")[-1].target == "signalement rsa/communes"


def test_forms_need_the_csrf_token(app: Any, db: Any) -> None:
    sender = signed_in(app, "president")
    forged = sender.post("/signalements/nouveau", data={"tableau": "rsa", "widget": "communes", "message": "x"})
    assert forged.status_code == 400
    assert _send(sender, FORM, "Vrai signalement").status_code == 303
    report = _only(db)
    referent = signed_in(app, "agent.rsa")
    assert referent.post(f"/signalements/{report.id}/etat", data={"status": "resolved"}).status_code == 400
    assert _only(db).status == "received"


def test_bad_filters_and_empty_messages_are_refused_in_french(app: Any) -> None:
    sender = signed_in(app, "president")
    bad = sender.get("/signalements/nouveau?tableau=rsa&widget=communes&annee=1850")
    assert bad.status_code == 400 and "annee" in bad.get_data(as_text=True)
    empty = _send(sender, FORM, "   ")
    assert empty.status_code == 400 and "description" in empty.get_data(as_text=True)


def test_reports_are_rate_limited_per_person(app: Any, db: Any) -> None:
    sender = signed_in(app, "president")
    with db.session() as session:
        user_id = session.scalar(select(User.id).where(User.username == "president"))
    draft = anomaly_reports.Draft("rsa", "communes", "/rsa", "", "", "dataset:rsa_communes")
    for n in range(anomaly_reports.MAX_PER_HOUR):
        anomaly_reports.create(db, user_id, draft, f"signalement {n}")
    flood = _send(sender, FORM, "Un de trop")
    assert flood.status_code == 400 and "trop de signalements" in flood.get_data(as_text=True)
    with db.session() as session:  # an hour later, the person may report again
        session.execute(
            update(AnomalyReport).values(created_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=2))
        )
    assert _send(sender, FORM, "Une heure plus tard").status_code == 303
    other = signed_in(app, "agent.rsa")  # the limit is per person
    assert _send(other, FORM, "Un autre expéditeur").status_code == 303


def test_a_widget_without_a_present_referent_goes_to_the_admins(portal: Any) -> None:
    registry = portal.registry
    rsa = registry.dashboards["rsa"]
    roles = candidate_roles(registry, rsa, rsa.widget("communes"))
    assert roles[0] == ("dataset", "rsa_communes") and roles[-1] == ("dashboard", "rsa")
    assert answerer(registry.referents, set(), roles).subject == "dataset:rsa_communes"
    # every account left and no role has a service mailbox without account → the next roles, then admin
    everyone = registry.referents.accounts()
    found = answerer(registry.referents, everyone, roles)
    assert found.subject in {"dataset:rsa_communes", "dashboard:rsa"}  # the deputies (no account) remain
    assert answerer(registry.referents, everyone, [("dashboard", "absent")]).subject == "admin"


@pytest.mark.parametrize("username", [u.username for u in DEMO_USERS])
def test_the_form_follows_the_access_matrix(app: Any, portal: Any, username: str) -> None:
    """Every demo user × every dashboard × its first widget: the form opens exactly where the
    widget may be seen (the one access function), else 404 naming nothing; signed out: the login."""
    client = signed_in(app, username)
    principal = principal_of_demo(username)
    anonymous = app.server.test_client()
    for dashboard in portal.registry.dashboards.values():
        widget = dashboard.widgets[0]
        address = f"/signalements/nouveau?tableau={dashboard.id}&widget={widget.id}"
        allowed = can_view_widget(principal, portal.registry, dashboard, widget.id)
        answer = client.get(address)
        assert answer.status_code == (200 if allowed else 404), (username, dashboard.id, answer.status_code)
        if not allowed:
            assert dashboard.spec.title not in answer.get_data(as_text=True)
        assert anonymous.get(address).status_code == 302


def test_the_pages_speak_english_too(app: Any, db: Any) -> None:
    sender = signed_in(app, "president")
    sender.set_cookie("pilotis_lang", "en")
    form = sender.get(FORM).get_data(as_text=True)
    assert "Report an anomaly" in form and "Send the report" in form and "Values shown (attached)" in form
    assert 'lang="fr"' in form  # the dashboard's own French names stay marked as French
    assert _send(sender, FORM, "Wrong figure").status_code == 303
    inbox = sender.get("/signalements").get_data(as_text=True)
    assert "My reports" in inbox and "received" in inbox
    english = route(sender, "/rsa")
    assert "Report an anomaly" in texts(english)


def test_attached_values_only_for_who_may_open_the_dashboard(app: Any, db: Any) -> None:
    """A handler of the role (here the referent of `rh_paie`) who may not open the dashboard the
    report comes from reads the report, not the figures attached to it."""
    with db.session() as session:
        user_id = session.scalar(select(User.id).where(User.username == "president"))
    draft = anomaly_reports.Draft(
        "rsa", "communes", "/rsa", "Territoire : Laval", "Commune | Foyers\nLaval | 4 321", "dataset:rh_paie"
    )
    anomaly_reports.create(db, user_id, draft, "Chiffre étrange")
    rh = signed_in(app, "agent.rh").get("/signalements").get_data(as_text=True)
    assert "Chiffre étrange" in rh and "4 321" not in rh and "Valeurs jointes non affichées" in rh
    admin = signed_in(app, "admin").get("/signalements").get_data(as_text=True)
    assert "4 321" in admin
