"""Séance renders are shared between screens, never between viewers who may not see the same
things: on the synthesis dashboard « Pilotage » (open to managers and the president) a manager of
finances sees the finance indicators only, whoever rendered the séance before him in the same
refresh period (issue 10 §1); a snapshot opens only for viewers who may see all it holds, rows
included (§2); unknown filter values do not each cost a render (§5)."""

from __future__ import annotations

import itertools
import json
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from dash import Dash
from sqlalchemy import insert, select

from pilotis.accounts import display_links, snapshots
from pilotis.accounts.db import Database, utcnow
from pilotis.accounts.models import AuditEvent, SeanceSnapshot
from pilotis.ui import seance_render
from pilotis.ui.portal import Portal
from pilotis.ui.seance_render import canonical
from tests.dbutil import DB_KINDS, database_url
from tests.helpers import signed_in, texts
from tests.test_seance import call, freeze_body, principal_of_demo, refresh_body, refreshed, routed_text, router

FINANCES = {"finances", "fin_fonctionnement", "fin_equipement"}
"""Widgets of `dashboards/pilotage.yaml` a manager of finances may see (his direction's)."""
_DAYS = itertools.count(1)


@pytest.fixture
def bucket(portal: Portal, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """A refresh period of its own for each test (fake clock): the first screen renders."""
    now = [1_900_000_000.0 + 86_400 * next(_DAYS) + 5]
    monkeypatch.setattr(portal.data, "clock", lambda: now[0])
    yield now


def _seance(portal: Portal) -> Any:
    seance = portal.registry.seance("@pilotage")
    assert seance is not None
    return seance


def _values(response: dict[str, Any], seance: Any, widgets: set[str] | None = None) -> dict[str, list[str]]:
    """KPI values (« 71,6 M€ ») per widget id in a refresh response."""
    found: dict[str, list[str]] = {}

    def walk(node: Any, into: list[str]) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child, into)
        elif isinstance(node, dict) and "props" in node:
            if "pilotis-kpi-value" in str(node["props"].get("className") or ""):
                into.extend(texts(node["props"].get("children")))
            walk(node["props"].get("children"), into)

    for slot in seance.slots:
        if widgets is not None and slot.widget not in widgets:
            continue
        body = response.get(seance.dom_id(f"s{slot.index}-body"))
        values: list[str] = []
        if body is not None:
            walk(body["children"], values)
        if values:
            found[slot.widget] = values
    return found


def _hidden_titles(portal: Portal) -> list[str]:
    dashboard = portal.registry.dashboards["pilotage"]
    titles = [w.title for w in dashboard.widgets if w.id not in FINANCES and w.title]
    assert "Masse salariale" in " ".join(titles) or len(titles) >= 8, titles
    return titles


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _assert_nothing_hidden(portal: Portal, response: dict[str, Any], hidden_values: list[str]) -> None:
    seance = _seance(portal)
    text = _dump(response)
    for title in _hidden_titles(portal):
        assert title not in text, title
    for value in hidden_values:
        assert value not in text, value
    shown = {slot.widget for slot in seance.slots if seance.dom_id(f"s{slot.index}-body") in response}
    assert shown <= FINANCES, shown


def test_a_manager_after_the_president_sees_only_his_indicators(app, portal, bucket) -> None:  # type: ignore[no-untyped-def]
    seance = _seance(portal)
    president = refreshed(signed_in(app, "president"), app, seance)
    values = _values(president, seance)
    hidden = [v for w, vs in values.items() if w not in FINANCES for v in vs]
    assert len(hidden) >= 6 and any("M€" in v for v in hidden), values  # RSA, payroll, agents, fibre
    manager = refreshed(signed_in(app, "manager.finances"), app, seance)  # same period: shared cache
    _assert_nothing_hidden(portal, manager, hidden)
    mine = _values(manager, seance, FINANCES)
    assert mine == _values(president, seance, FINANCES) and sum(map(len, mine.values())) == 2


def test_the_president_after_a_manager_gets_the_full_render(app, portal, bucket) -> None:  # type: ignore[no-untyped-def]
    seance = _seance(portal)
    manager = refreshed(signed_in(app, "manager.finances"), app, seance)
    assert set(_values(manager, seance)) <= FINANCES
    president = refreshed(signed_in(app, "president"), app, seance)
    values = _values(president, seance)
    widgets = {w.id for w in portal.registry.dashboards["pilotage"].widgets if w.type == "kpi"}
    assert set(values) == widgets and all(len(v) == 1 for v in values.values()), values
    assert "Données non disponibles" not in _dump(president)


def test_a_wall_screen_render_is_not_served_to_a_manager(app, portal, bucket) -> None:  # type: ignore[no-untyped-def]
    """A display link of the séance shows everything the séance shows; a manager after it does not."""
    seance = _seance(portal)
    db = app.server.extensions["pilotis_db"]
    _link, token = display_links.create(db, app.server.secret_key, seance.key, 1, label="hall")
    screen = app.server.test_client()
    assert screen.get(f"{seance.url}?jeton={token}").status_code == 302
    shown = refreshed(screen, app, seance)
    hidden = [v for w, vs in _values(shown, seance).items() if w not in FINANCES for v in vs]
    assert len(hidden) >= 6
    _assert_nothing_hidden(portal, refreshed(signed_in(app, "manager.finances"), app, seance), hidden)


def test_the_live_page_does_not_name_hidden_widgets(app, portal) -> None:  # type: ignore[no-untyped-def]
    seance = _seance(portal)
    client = signed_in(app, "manager.finances")
    page = client.get(seance.url)
    assert page.status_code == 200
    layout = client.get("/_dash-layout", headers={"Referer": f"http://localhost{seance.url}"})
    routed = router(client, seance.url)
    assert routed.status_code == 200
    for text in (page.get_data(as_text=True), _dump(layout.get_json()), _dump(routed.get_json())):
        for title in _hidden_titles(portal):
            assert title not in text, title
    content = _dump(routed.get_json())
    assert seance.dom_id("root") in content
    finance_titles = [w.title for w in portal.registry.dashboards["pilotage"].widgets if w.id in FINANCES]
    assert all(title in content for title in finance_titles), finance_titles
    # the president's page names every widget
    president = _dump(router(signed_in(app, "president"), seance.url).get_json())
    assert all(title in president for title in _hidden_titles(portal))


def test_unknown_filter_values_do_not_each_cost_a_render(app, portal, bucket, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``?territoire=`` values that name no territory are normalised before the cache key: two
    distinct unknown values share the render of the default filters."""
    seance = portal.registry.seance("@rsa")
    renders: list[Any] = []
    original = seance_render._render

    def counted(*args: Any, **kwargs: Any) -> Any:
        renders.append(args[4] if len(args) > 4 else kwargs.get("overrides"))
        return original(*args, **kwargs)

    monkeypatch.setattr(seance_render, "_render", counted)
    client = signed_in(app, "agent.rsa")
    first = refreshed(client, app, seance, "?territoire=epci:000000000")
    assert len(renders) == 1
    for value in ("commune:99999", "n'importe quoi", "epci:123&periode=1850"):
        response = call(client, refresh_body(app, seance, f"?territoire={value}"))
        assert response.status_code == 200
    assert len(renders) == 1, renders
    assert first[seance.dom_id("sub-0")]["children"].startswith("Mayenne")
    refreshed(client, app, seance, "?territoire=epci:200083392")  # a real territory: its own render
    assert len(renders) == 2


# --------------------------------------------------------------------------- snapshots


def _freeze(app: Dash, client: Any, seance: Any) -> str:
    """« Figer » as the browser does; the snapshot's address."""
    response = call(client, freeze_body(seance))
    assert response.status_code == 200, response.data[:300]
    children = response.get_json()["response"][seance.dom_id("frozen")]["children"]
    return next(n for n in children if isinstance(n, dict) and n.get("type") == "A")["props"]["href"]


def _opens(app: Dash, username: str, link: str) -> bool:
    """True when ``username`` gets the snapshot (page and router agree)."""
    client = signed_in(app, username)
    status = client.get(link).status_code
    routed = routed_text(client, link)
    assert status in (200, 403), status
    assert ("Instantané du" in routed) == (status == 200), (username, status)
    return status == 200


def _refusals(app: Dash, username: str, link: str) -> list[AuditEvent]:
    db = app.server.extensions["pilotis_db"]
    with db.session() as session:
        rows = session.scalars(
            select(AuditEvent).where(
                AuditEvent.username == username,
                AuditEvent.event == "access_denied",
                AuditEvent.target == f"page {link}",
            )
        ).all()
        session.expunge_all()
    return list(rows)


def test_a_departement_snapshot_does_not_open_for_a_restricted_agent(app, portal, bucket) -> None:  # type: ignore[no-untyped-def]
    """Frozen by the president (whole Mayenne): agent.laval (Laval Agglomération only) may watch
    the séance live, but gets 403 on the snapshot, and the refusal is in the audit log."""
    seance = portal.registry.seance("@rsa")
    link = _freeze(app, signed_in(app, "president"), seance)
    assert _opens(app, "agent.rsa", link)  # the same direction, every row: allowed
    laval = signed_in(app, "agent.laval")
    assert laval.get(seance.url).status_code == 200  # the live séance is his (clamped to Laval)
    assert not _opens(app, "agent.laval", link)
    refused = _refusals(app, "agent.laval", link)
    assert refused and all("instantané" in (r.detail or "") for r in refused), [r.detail for r in refused]


def test_a_restricted_agents_snapshot_opens_for_wider_scopes(app, portal, bucket) -> None:  # type: ignore[no-untyped-def]
    seance = portal.registry.seance("@rsa")
    link = _freeze(app, signed_in(app, "agent.laval"), seance)
    stored = snapshots.load(app.server.extensions["pilotis_db"], link.rsplit("/", 1)[1])
    assert stored is not None and stored.scope == "epci:200083392"
    assert "CA Laval Agglomération" in stored.content["slides"][0]["subtitle"]
    for username in ("agent.laval", "agent.rsa", "president"):
        assert _opens(app, username, link), username
    assert not _opens(app, "agent.rh", link)  # not his dashboard


def test_a_pilotage_snapshot_opens_only_for_who_may_see_every_widget(app, portal, bucket) -> None:  # type: ignore[no-untyped-def]
    seance = _seance(portal)
    everything = _freeze(app, signed_in(app, "president"), seance)
    assert not _opens(app, "manager.finances", everything)
    assert _refusals(app, "manager.finances", everything)
    partial = _freeze(app, signed_in(app, "manager.finances"), seance)
    stored = snapshots.load(app.server.extensions["pilotis_db"], partial.rsplit("/", 1)[1])
    assert stored is not None
    kept = {slot["widget"] for slide in stored.content["slides"] for slot in slide["slots"]}
    assert kept == FINANCES, kept  # what he was not shown is not kept either
    assert _opens(app, "president", partial) and _opens(app, "manager.finances", partial)


@pytest.fixture(params=DB_KINDS)
def legacy_db(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Database]:
    """A database at revision 0002 (before snapshots recorded their scope), SQLite or PostgreSQL."""
    with database_url(request.param, tmp_path) as url:
        db = Database(url)
        try:
            db.upgrade("0002")
            yield db
        finally:
            db.dispose()


def test_snapshots_frozen_before_the_scope_was_recorded_open_for_unrestricted_viewers_only(
    legacy_db: Database, portal: Portal
) -> None:
    content = {"format": 1, "seance": "@rsa", "slides": [{"slots": [{"dashboard": "rsa", "widget": "foyers"}]}]}
    data = canonical(content)
    with legacy_db.session() as session:
        session.execute(
            insert(SeanceSnapshot.__table__).values(  # type: ignore[arg-type]
                id="ancien",
                seance="@rsa",
                created_at=utcnow(),
                author="president",
                dashboards="rsa",
                sha256="0" * 64,
                content=zlib.compress(data),
            )
        )
    legacy_db.upgrade()
    assert legacy_db.current_revision() == legacy_db.head_revision()
    old = snapshots.load(legacy_db, "ancien")
    assert old is not None and old.scope is None
    registry, index = portal.registry, portal.territories
    assert snapshots.refusal(principal_of_demo("agent.laval"), registry, index, old) is not None
    assert snapshots.refusal(principal_of_demo("agent.rsa"), registry, index, old) is None
    assert snapshots.refusal(principal_of_demo("president"), registry, index, old) is None
    new = snapshots.save(legacy_db, "@rsa", ["rsa"], "agent.laval", content, "epci:200083392")
    again = snapshots.load(legacy_db, new.id)
    assert again is not None and again.scope == "epci:200083392"
    assert snapshots.refusal(principal_of_demo("agent.laval"), registry, index, again) is None


def test_refresh_periods_chosen_in_the_address_do_not_each_cost_a_render(app, portal, bucket, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``?rafraichissement=`` is part of the cache key (and of the query cache's period): values
    are rounded down to a short list of periods, so 11 s, 12 s … 14 s share one render."""
    seance = portal.registry.seance("@rsa")
    renders: list[Any] = []
    original = seance_render._render
    monkeypatch.setattr(seance_render, "_render", lambda *a, **k: renders.append(1) or original(*a, **k))
    client = signed_in(app, "agent.rsa")
    intervals = set()
    for seconds in (11, 12, 13, 14):
        response = refreshed(client, app, seance, f"?rafraichissement={seconds}s")
        intervals.add(response[seance.dom_id("tick")]["interval"])
    assert len(renders) == 1 and intervals == {10_000}, (renders, intervals)
    assert refreshed(client, app, seance, "?rafraichissement=30s")[seance.dom_id("tick")]["interval"] == 30_000
