"""Access requests as people use them: « Demander l'accès » on a refused page, the referent
grants it until a date (or refuses it with a reason), the requester then opens the page, its
callbacks, its exports and the API with a personal token — until the end date, after which
everything is refused again. Real app, real database, the real forms with their CSRF tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from pilotis.accounts import access_requests
from pilotis.accounts.alert_outbox import drain_outbox
from pilotis.accounts.models import AccessRequest, AlertOutbox, AuditEvent, User
from pilotis.core.access import Grant, Principal, can_view
from pilotis.ui.portal import render_key
from tests.alerting import smtp_server
from tests.helpers import api_token, bearer, form_token, page_callback, route, signed_in, texts

DECIDE = "/compte/acces/a-traiter"


@pytest.fixture(autouse=True)
def no_requests(db: Any) -> Iterator[None]:
    """Every test starts and ends without access requests (the app's database is shared)."""

    def clean() -> None:
        with db.session() as session:
            session.execute(delete(AccessRequest))
            session.execute(delete(AlertOutbox).where(AlertOutbox.rule.like("acces:%")))

    clean()
    yield
    clean()


def _ask(client: Any, page: str, reason: str) -> Any:
    form = client.get(f"/compte/acces/demander?page={page}")
    assert form.status_code == 200, form.data[:300]
    token = form_token(form.get_data(as_text=True))
    return client.post("/compte/acces/demander", data={"page": page, "reason": reason, "csrf_token": token})


def _decide(client: Any, request_id: int, **fields: str) -> Any:
    page = client.get(DECIDE)
    return client.post(
        f"/compte/acces/{request_id}/decision", data={**fields, "csrf_token": form_token(page.get_data(as_text=True))}
    )


def _only_request(db: Any) -> AccessRequest:
    with db.session() as session:
        row = session.scalars(select(AccessRequest)).one()
        session.expunge(row)
        return row


def _events(db: Any, event: str) -> list[AuditEvent]:
    with db.session() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.event == event)).all()
        session.expunge_all()
        return list(rows)


def _sees_rsa(app: Any, portal: Any, client: Any, token: str) -> dict[str, int]:
    rsa = portal.registry.dashboards["rsa"]
    return {
        "page": client.get("/rsa").status_code,
        "callback": page_callback(client, rsa, "commune:53130", "2019").status_code,
        "export": client.get("/exports/rsa/communes.csv?annee=2019").status_code,
        "api": app.server.test_client().get("/api/v1/dashboards/rsa/widgets/foyers", headers=bearer(token)).status_code,
    }


def test_request_grant_open_then_ended(app: Any, db: Any, portal: Any) -> None:
    finances = signed_in(app, "manager.finances")
    token = api_token(db, "manager.finances")
    before = _sees_rsa(app, portal, finances, token)
    assert before == {"page": 403, "callback": 403, "export": 404, "api": 404}  # refused, naming nothing

    refused = finances.get("/rsa").get_data(as_text=True)  # not a dead end: a button to ask
    assert "Demander l&#39;accès" in refused and "/compte/acces/demander?page=%2Frsa" in refused
    in_app = route(finances, "/rsa")  # the page router's « Accès refusé » (navigation inside the app)
    assert "Demander l'accès" in texts(in_app)

    sent = _ask(finances, "/rsa", "Préparer la réunion budgétaire RSA")
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/compte/acces?sent=1")
    mine = finances.get("/compte/acces").get_data(as_text=True)
    assert "en attente" in mine and "Préparer la réunion budgétaire RSA" in mine
    request = _only_request(db)
    assert (request.dashboard, request.status) == ("rsa", "pending")
    assert _events(db, "access_requested")[-1].username == "manager.finances"

    referent = signed_in(app, "agent.rsa")  # config/referents.yaml: holder of dashboard:rsa
    listed = referent.get(DECIDE).get_data(as_text=True)
    assert "Préparer la réunion budgétaire RSA" in listed and "manager.finances" in listed
    until = (datetime.now(UTC) + timedelta(days=10)).date()
    granted = _decide(referent, request.id, decision="grant", until=until.isoformat())
    assert granted.status_code == 200 and "Décision enregistrée" in granted.get_data(as_text=True)
    assert "jusqu'au" in _events(db, "access_granted")[-1].detail

    after = _sees_rsa(app, portal, finances, token)  # at once: the next request loads the grant
    assert after == {"page": 200, "callback": 200, "export": 200, "api": 200}
    assert f"accordée jusqu&#39;au {until.strftime('%d/%m/%Y')}" in finances.get("/compte/acces").get_data(as_text=True)
    assert finances.get("/rh").status_code == 403  # one dashboard, not more

    with db.session() as session:  # the end date passes
        session.execute(update(AccessRequest).values(ends_at=datetime.now(UTC).replace(tzinfo=None)))
    ended = _sees_rsa(app, portal, finances, token)
    assert ended == before
    assert "terminée" in finances.get("/compte/acces").get_data(as_text=True)


def test_refusal_with_reason_is_shown_to_the_requester(app: Any, db: Any) -> None:
    finances = signed_in(app, "manager.finances")
    assert _ask(finances, "/rsa", "Curiosité").status_code == 303
    request = _only_request(db)
    admin = signed_in(app, "admin")
    missing = _decide(admin, request.id, decision="refuse", reason="  ")
    assert missing.status_code == 400 and "motif" in missing.get_data(as_text=True)
    answer = _decide(admin, request.id, decision="refuse", reason="Données nominatives : voir la DSI")
    assert answer.status_code == 200
    mine = finances.get("/compte/acces").get_data(as_text=True)
    assert "refusée" in mine and "Données nominatives : voir la DSI" in mine
    assert finances.get("/rsa").status_code == 403
    assert _events(db, "access_refused")[-1].username == "admin"
    again = _decide(admin, request.id, decision="grant", until=datetime.now(UTC).date().isoformat())
    assert again.status_code == 400  # decided once: no grant afterwards


def test_forms_need_the_csrf_token(app: Any, db: Any) -> None:
    finances = signed_in(app, "manager.finances")
    assert finances.post("/compte/acces/demander", data={"page": "/rsa", "reason": "x"}).status_code == 400
    assert _ask(finances, "/rsa", "Besoin").status_code == 303
    request = _only_request(db)
    admin = signed_in(app, "admin")
    forged = admin.post(f"/compte/acces/{request.id}/decision", data={"decision": "grant", "until": "2099-01-01"})
    assert forged.status_code == 400
    assert _only_request(db).status == "pending"


def test_nobody_grants_himself_nor_what_they_do_not_answer_for(app: Any, db: Any) -> None:
    with db.session() as session:
        rsa_id = session.scalar(select(User.id).where(User.username == "agent.rsa"))
    # agent.rsa, referent of `finances`? No: of `rsa`. A request of his own (written directly)…
    own = access_requests.create(db, rsa_id, "rsa", "ma propre demande")
    referent = signed_in(app, "agent.rsa")
    assert _decide(referent, own.id, decision="grant", until="2099-01-01").status_code == 403
    finances = signed_in(app, "manager.finances")
    assert _ask(finances, "/rsa", "Besoin").status_code == 303
    theirs = next(r for r in access_requests.listed(db) if r.username == "manager.finances").request
    rh = signed_in(app, "agent.rh")  # not a referent of `rsa`, not an administrator
    assert _decide(rh, theirs.id, decision="grant", until="2099-01-01").status_code == 403
    assert "Préparer" not in rh.get(DECIDE).get_data(as_text=True)
    with db.session() as session:
        statuses = set(session.scalars(select(AccessRequest.status)))
    assert statuses == {"pending"}
    assert _events(db, "access_denied")[-1].target == f"demande d'accès {theirs.id}"


def test_requests_are_limited_and_checked(app: Any, db: Any) -> None:
    finances = signed_in(app, "manager.finances")
    empty = _ask(finances, "/rsa", "   ")
    assert empty.status_code == 400 and "motif" in empty.get_data(as_text=True)
    assert finances.get("/compte/acces/demander?page=/finances").status_code == 400  # already visible
    assert finances.get("/compte/acces/demander?page=/nulle-part").status_code == 404
    assert _ask(finances, "/rsa", "Besoin").status_code == 303
    twice = _ask(finances, "/rsa", "Encore")
    assert twice.status_code == 400 and "déjà en attente" in twice.get_data(as_text=True)
    with db.session() as session:
        user_id = session.scalar(select(User.id).where(User.username == "manager.finances"))
    for dashboard in ("rh", "fibre", "pilotage", "autre"):
        access_requests.create(db, user_id, dashboard, "demande")
    flood = _ask(finances, "/rh", "Une de trop")
    assert flood.status_code == 400 and re.search(r"trop de demandes", flood.get_data(as_text=True))


def test_an_ended_grant_opens_nothing_even_if_still_loaded(portal: Any) -> None:
    spec = portal.registry.dashboards["rsa"].spec
    now = datetime.now(UTC)
    alive = Principal(
        "x", department="finances", roles=frozenset({"agent"}), grants=(Grant("rsa", now + timedelta(1)),)
    )
    ended = Principal("x", department="finances", roles=frozenset({"agent"}), grants=(Grant("rsa", now),))
    assert can_view(alive, spec) and not can_view(ended, spec)
    draft = portal.registry.dashboards["rsa"].spec.model_copy(update={"access": None})
    assert not can_view(alive, draft)  # a draft (no access block) is never opened by a grant


def test_renderings_are_not_shared_across_grants(portal: Any) -> None:
    """The render cache is shared between users: two viewers equal in all but a grant (which
    decides which dashboards a widget may link to, which indicators a synthesis shows) never
    share an entry, and a grant that ended is keyed like no grant."""
    rsa = portal.registry.dashboards["rsa"]
    widget = rsa.widget("foyers")
    now = datetime.now(UTC)
    plain = Principal("a", department="finances", roles=frozenset({"manager"}))
    granted = Principal(
        "b", department="finances", roles=frozenset({"manager"}), grants=(Grant("rh", now + timedelta(1)),)
    )
    ended = Principal("c", department="finances", roles=frozenset({"manager"}), grants=(Grant("rh", now),))
    ctx = portal.render_context(rsa, "commune:53130", "2019", principal=plain)
    assert render_key(rsa, widget, ctx, plain) != render_key(rsa, widget, ctx, granted)
    assert render_key(rsa, widget, ctx, plain) == render_key(rsa, widget, ctx, ended)


def test_the_referent_is_told_by_e_mail(app: Any, db: Any) -> None:
    """The request goes out through the outbox the worker drains, to the dashboard's referent
    (config/referents.yaml: holder and deputy of `dashboard:rsa` share one address), with the
    link to the page where they decide."""
    rh = signed_in(app, "agent.rh")
    assert _ask(rh, "/rsa", "Croiser absentéisme et RSA").status_code == 303
    request = _only_request(db)
    with smtp_server() as (box, mail):
        report = drain_outbox(db, datetime.now(UTC).replace(tzinfo=None), mail=mail, webhook_secret="x")
        assert report.sent >= 1
    (message,) = box.to("observatoire-social@example.org")
    assert message["Subject"] == "Demande d'accès : Observatoire du RSA"
    text = message.get_content()
    assert "agent.rh" in text and "Croiser absentéisme et RSA" in text and "/compte/acces/a-traiter" in text
    with db.session() as session:
        rows = session.scalars(select(AlertOutbox).where(AlertOutbox.rule == f"acces:{request.id}")).all()
        assert [r.status for r in rows] == ["sent"]


def test_a_granted_access_can_be_closed_before_its_end(app: Any, db: Any, portal: Any) -> None:
    rh = signed_in(app, "agent.rh")
    assert _ask(rh, "/rsa", "Une étude ponctuelle").status_code == 303
    request = _only_request(db)
    referent = signed_in(app, "agent.rsa")
    assert _decide(referent, request.id, decision="grant", until="2099-12-31").status_code == 400  # > 366 days
    until = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    assert _decide(referent, request.id, decision="grant", until=until).status_code == 200
    assert rh.get("/rsa").status_code == 200
    listed = referent.get(DECIDE).get_data(as_text=True)
    assert "Accès accordés en cours" in listed and "agent.rh" in listed
    closed = referent.post(f"/compte/acces/{request.id}/fin", data={"csrf_token": form_token(listed)})
    assert closed.status_code == 200 and "Accès fermé." in closed.get_data(as_text=True)
    assert rh.get("/rsa").status_code == 403
    assert "terminée" in rh.get("/compte/acces").get_data(as_text=True)
    assert _events(db, "access_ended")[-1].username == "agent.rsa"
