"""The API's access matrix: every demo user and a service account × every endpoint × every
dataset, dashboard widget and indicator — allowed (and then the same decision as the pages), or
the very same 404 as an id that does not exist. Totals are checked against pandas sums computed
independently over the source files."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from pilotis.accounts import api_tokens
from pilotis.accounts.users import DEMO_USERS
from pilotis.core.access import Principal, can_view, can_view_indicator, can_view_widget
from pilotis.core.settings import ROOT
from pilotis.web.data_catalogue import visible_datasets
from tests.helpers import api_token, bearer

DATA = ROOT / "data"
CALLERS = [u.username for u in DEMO_USERS] + ["service"]
LAVAL = "200083392"


@pytest.fixture(scope="module")
def tokens(db) -> dict[str, str]:  # type: ignore[no-untyped-def]
    found = {name: api_token(db, name) for name in CALLERS if name != "service"}
    found["service"] = api_token(db, department="finances", roles=["agent"], territory=None, name="matrice")
    return found


def _get(app, token: str, url: str) -> tuple[int, Any]:  # type: ignore[no-untyped-def]
    answer = app.server.test_client().get(url, headers=bearer(token))
    assert answer.headers.get("Set-Cookie") is None
    return answer.status_code, answer.get_json(silent=True)


@pytest.mark.parametrize("caller", CALLERS)
def test_datasets_matrix(app, db, portal, tokens, caller) -> None:  # type: ignore[no-untyped-def]
    token = tokens[caller]
    missing = _get(app, token, "/api/v1/datasets/n-existe-pas")
    assert missing == (404, {"code": "introuvable", "message": "Ressource introuvable."})
    status, body = _get(app, token, "/api/v1/datasets")
    assert status == 200
    listed = {d["id"] for d in body["datasets"]}
    assert listed <= set(visible_datasets(portal, _principal(db, token)))  # the catalogue's rule
    for dataset in portal.registry.datasets:
        for url in (f"/api/v1/datasets/{dataset}", f"/api/v1/datasets/{dataset}/query?limit=1"):
            answer = _get(app, token, url)
            if dataset in listed:
                assert answer[0] == 200, (caller, url, answer)
            else:
                assert answer == missing, (caller, url, answer)  # forbidden = missing, byte for byte


def _principal(db, token: str) -> Principal:  # type: ignore[no-untyped-def]
    use = api_tokens.authenticate(db, token)
    assert use is not None
    return use.principal


@pytest.mark.parametrize("caller", CALLERS)
def test_dashboards_widgets_and_indicators_matrix(app, db, portal, tokens, caller) -> None:  # type: ignore[no-untyped-def]
    token = tokens[caller]
    principal = _principal(db, token)
    registry = portal.registry
    missing = _get(app, token, "/api/v1/dashboards/n-existe-pas/widgets/rien")
    assert missing[0] == 404
    listed = {d["id"]: {w["id"] for w in d["widgets"]} for d in _get(app, token, "/api/v1/dashboards")[1]["dashboards"]}
    assert set(listed) == {d.id for d in registry.ordered() if can_view(principal, d.spec)}  # as the pages decide
    for dashboard in registry.ordered():
        for widget in dashboard.widgets:
            allowed = dashboard.id in listed and widget.id in listed[dashboard.id]
            assert allowed == can_view_widget(principal, registry, dashboard, widget.id)
            answer = _get(app, token, f"/api/v1/dashboards/{dashboard.id}/widgets/{widget.id}")
            if not allowed:
                assert answer == missing, (caller, dashboard.id, widget.id)
            elif answer[0] != 200:  # the page shows « données non disponibles pour votre périmètre »
                assert answer[0] == 403 and answer[1]["code"] == "hors_perimetre", (caller, widget.id, answer)
                assert principal.territory is not None
    indicators = {i["id"] for i in _get(app, token, "/api/v1/indicators")[1]["indicators"]}
    for indicator in registry.indicators:
        assert (indicator in indicators) == can_view_indicator(principal, registry, indicator)
        if indicator not in indicators:
            assert _get(app, token, f"/api/v1/indicators/{indicator}") == missing
    assert _get(app, token, "/api/v1/indicators/n.existe_pas") == missing


def test_expected_visibility(app, tokens) -> None:  # type: ignore[no-untyped-def]
    """A few facts a reader can check in config/ and dashboards/ (not derived from the code)."""
    seen = {
        caller: {d["id"] for d in _get(app, tokens[caller], "/api/v1/datasets")[1]["datasets"]}
        for caller in ("agent.rsa", "agent.rh", "agent.laval", "president")
    }
    assert "rsa_communes" in seen["agent.rsa"] and "rsa_communes" not in seen["agent.rh"]
    assert "rh_effectifs" in seen["agent.rh"] and "rh_effectifs" not in seen["agent.rsa"]
    assert "rh_effectifs" not in seen["agent.laval"]  # no territory column: rows cannot be restricted
    assert seen["president"] >= seen["agent.rsa"] | seen["agent.rh"]


def test_widget_data_like_the_page(app, portal, tokens) -> None:  # type: ignore[no-untyped-def]
    token = tokens["agent.rsa"]
    for widget in portal.registry.dashboards["rsa"].widgets:
        status, body = _get(app, token, f"/api/v1/dashboards/rsa/widgets/{widget.id}?territory=epci:{LAVAL}")
        assert status == 200, (widget.id, body)
        assert body["territory"] == f"epci:{LAVAL}"
    csv = app.server.test_client().get("/api/v1/dashboards/rsa/widgets/foyers?format=csv", headers=bearer(token))
    assert csv.status_code == 200 and csv.mimetype == "text/csv"


def test_widget_data_is_computed_once_per_set_of_rights(app, portal, tokens, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Asked again with the same filters by a caller with the same rights, a widget's data is
    served from the shared rendered-widget cache; another caller's rights never get that answer."""
    from pilotis.core.widgets import WIDGET_TYPES

    kind = WIDGET_TYPES[portal.registry.dashboards["rsa"].widget("foyers").type]
    computed: list[str] = []
    original = kind.data

    def spy(widget: Any, ctx: Any) -> Any:
        computed.append(ctx.principal.username if ctx.principal else "")
        return original(widget, ctx)

    monkeypatch.setattr(kind, "data", spy)
    portal.rendered.clear()
    url = "/api/v1/dashboards/rsa/widgets/foyers?territory=departement:53&year=2019"
    first = _get(app, tokens["president"], url)
    assert _get(app, tokens["president"], url) == first and computed == ["president"]
    laval = _get(app, tokens["agent.laval"], url)  # clamped to his EPCI: computed for him
    assert laval[0] == 200 and laval[1]["territory"] == f"epci:{LAVAL}" and laval[1]["rows"] != first[1]["rows"]
    assert computed == ["president", "agent.laval"]
    portal.rendered.clear()


# --------------------------------------------------------------------------- totals against pandas


def test_flow_totals_match_pandas(app, tokens) -> None:  # type: ignore[no-untyped-def]
    frame = pd.read_parquet(DATA / "finances_communes.parquet")
    status, body = _get(app, tokens["president"], "/api/v1/datasets/finances_communes/query?measure=total=sum(montant)")
    assert status == 200
    assert body["rows"][0]["total"] == pytest.approx(frame["montant"].sum(), rel=1e-9)
    year = pd.to_datetime(frame["date"]).dt.year == 2022
    expected = frame[year].groupby("section")["montant"].sum()
    status, body = _get(
        app,
        tokens["manager.finances"],
        "/api/v1/datasets/finances_communes/query?measure=total=sum(montant)&group_by=section&year=2022",
    )
    assert {r["section"]: pytest.approx(r["total"]) for r in body["rows"]} == expected.to_dict()


def test_restricted_totals_match_pandas(app, tokens) -> None:  # type: ignore[no-untyped-def]
    """agent.laval sees the rows of Laval Agglomération only, whatever territory it asks for."""
    frame = pd.read_parquet(DATA / "rsa_communes_mensuel.parquet")
    frame = frame[frame["epci_siren"].astype(str) == LAVAL]
    expected = frame.groupby(pd.to_datetime(frame["date"]).dt.strftime("%Y-%m-%d"))["foyers_allocataires"].sum()
    url = "/api/v1/datasets/rsa_communes/query?measure=f=sum(foyers_allocataires)&group_by=periode&limit=10000"
    communes = pd.read_csv(DATA / "communes.csv", dtype={"code_insee": str, "epci_siren": str})
    outside = communes[communes["epci_siren"] != LAVAL]["code_insee"].iloc[0]
    for territory in ("", "&territory=departement:53", f"&territory=commune:{outside}"):  # never wider
        status, body = _get(app, tokens["agent.laval"], url + territory)
        assert status == 200
        assert {r["periode"]: r["f"] for r in body["rows"]} == pytest.approx(expected.to_dict()), territory
    status, body = _get(app, tokens["agent.rsa"], url)
    assert sum(r["f"] for r in body["rows"]) > expected.sum()  # unrestricted: the whole département


def test_pagination_walks_every_group_once(app, tokens) -> None:  # type: ignore[no-untyped-def]
    frame = pd.read_parquet(DATA / "finances_communes.parquet")
    expected = frame.groupby("code_insee")["montant"].sum()
    seen: dict[str, float] = {}
    offset: int | None = 0
    while offset is not None:
        url = "/api/v1/datasets/finances_communes/query?measure=t=sum(montant)&group_by=code_insee"
        url += f"&limit=70&offset={offset}"
        status, body = _get(app, tokens["president"], url)
        assert status == 200 and len(body["rows"]) <= 70
        for row in body["rows"]:
            assert row["code_insee"] not in seen
            seen[row["code_insee"]] = row["t"]
        offset = body["next_offset"]
    assert seen == pytest.approx(expected.to_dict())


def test_bad_parameters_name_the_parameter(app, portal, tokens) -> None:  # type: ignore[no-untyped-def]
    base = "/api/v1/datasets/finances_communes/query?"
    for query, parameter in (
        ("measure=x=sum(inconnue)", "measure"),
        ("measure=x=sum(", "measure"),
        ("group_by=inconnue", "group_by"),
        ("filter=section:like:x", "filter"),
        ("filter=montant:gt:beaucoup", "filter"),
        ("year=deux-mille", "year"),
        ("territory=epci:000", "territory"),
        ("limit=0", "limit"),
        ("format=xml", "format"),
        ("from=2020-13-01", "from"),
        ("grain=year", "grain"),
        ("measure=x=sum(section)", "measure"),
        ("filter=montant:gt:1e999", "filter"),
    ):
        status, body = _get(app, tokens["president"], base + query)
        assert status == 400 and body["code"] == "parametre_invalide" and body["parameter"] == parameter, query
        assert body["message"]  # in French, naming what is wrong
    # None of them reached the source: it is not counted as failing, the next query is answered.
    assert not portal.data.last_status("finances_communes").failing
    huge = "/api/v1/datasets/fibre_communes/query?filter=locaux_total:gt:99999999999999999999"  # beyond int64
    assert _get(app, tokens["president"], huge)[1]["parameter"] == "filter"
    assert not portal.data.last_status("fibre_communes").failing
