"""Row-level rules: an agent attached to an EPCI sees only the rows of that EPCI's communes.

The rule is applied inside the pushed-down query, before aggregation, so every figure a
restricted agent receives — KPI, comparison with last year, line chart, map, table, custom
widget — is computed on their rows only, and the cache never hands one user's result to another.
Expected values are recomputed here straight from the source files with pandas, independently
of the engine (commune → EPCI membership from ``data/communes.csv``).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from pilotis.core.access import Principal, RowsDenied, clamp_territory, row_filters, territory_scope
from pilotis.core.measures import Agg
from pilotis.core.query import Filter, Query
from pilotis.core.schema import DatasetBase, RowLevel, TerritoryColumns
from pilotis.core.settings import ROOT
from pilotis.core.territory import Territory
from tests.helpers import (
    find_figures,
    html_table_rows,
    page_callback,
    route,
    texts,
    widget_content,
)

LAVAL = "200083392"
"""CA Laval Agglomération: the EPCI of the demo user ``agent.laval``."""
OTHER_EPCI = "200055887"
"""CC Mayenne Communauté."""
RESTRICTED_USER = "agent.laval"


# --------------------------------------------------------------------------- independent truth


@pytest.fixture(scope="module")
def truth() -> dict[str, object]:
    """Figures recomputed from the files with pandas (no engine code involved)."""
    communes = pd.read_csv(ROOT / "data/communes.csv", dtype=str)
    members = set(communes.loc[communes["epci_siren"] == LAVAL, "code_insee"])
    population = {r.code_insee: int(r.population) for r in communes.itertuples()}
    rsa = pd.read_parquet(ROOT / "data/rsa_communes_mensuel.parquet")
    rsa["date"] = pd.to_datetime(rsa["date"]).dt.date
    mine = rsa[rsa["code_insee"].isin(members)]
    last_2019 = max(d for d in mine["date"] if d.year == 2019)
    at = mine[mine["date"] == last_2019]
    return {
        "members": members,
        "outside": set(communes["code_insee"]) - members,
        "population": population,
        "last_2019": last_2019,
        "kpi_2019": int(at["foyers_allocataires"].sum()),
        "kpi_2018": int(mine.loc[mine["date"] == dt.date(2018, last_2019.month, 1), "foyers_allocataires"].sum()),
        "department_2019": int(rsa.loc[rsa["date"] == last_2019, "foyers_allocataires"].sum()),
        "monthly": mine.groupby("date")["foyers_allocataires"].sum().to_dict(),
        "by_commune_2019": at.groupby("code_insee")["foyers_allocataires"].sum().to_dict(),
    }


def number(text: str) -> float:
    """A French-formatted number (``1 937``, ``16,8``) as a float."""
    digits = re.sub(r"[\s\u202f\u00a0]", "", text).replace(",", ".")
    return float(re.match(r"-?[\d.]+", digits).group(0))  # type: ignore[union-attr]


# --------------------------------------------------------------------------- the rule itself


def _dataset(**territory: str) -> DatasetBase:
    return DatasetBase(type="csv", title="t", territory=TerritoryColumns(**territory) if territory else None)


def test_scope_of_users(portal) -> None:  # type: ignore[no-untyped-def]
    index = portal.territories
    assert territory_scope(Principal("a", "solidarites", frozenset({"agent"})), index) is None
    assert territory_scope(Principal("a", "solidarites", frozenset({"agent"}), f"epci:{LAVAL}"), index) == Territory(
        "epci", LAVAL
    )
    # president and admin read every row whatever their record says
    assert territory_scope(Principal("p", None, frozenset({"president"}), f"epci:{LAVAL}"), index) is None
    assert territory_scope(Principal("a", None, frozenset(), "departement:53"), index) is None


@pytest.mark.parametrize("bad", ["epci:999999999", "garbage", "epci:", "departement:72", "commune:00000"])
def test_unreadable_restriction_fails_closed(portal, bad: str) -> None:  # type: ignore[no-untyped-def]
    principal = Principal("a", "solidarites", frozenset({"agent"}), bad)
    with pytest.raises(RowsDenied):
        row_filters(principal, _dataset(commune="c", epci="e"), portal.territories)


def test_row_filters_per_dataset_shape(portal) -> None:  # type: ignore[no-untyped-def]
    index = portal.territories
    agent = Principal("a", "solidarites", frozenset({"agent"}), f"epci:{LAVAL}")
    assert row_filters(agent, _dataset(commune="c", epci="e"), index) == (Filter("e", "=", LAVAL),)
    assert row_filters(agent, _dataset(commune="c"), index) == (Filter("c", "in", index.communes_of(LAVAL)),)
    for config in (_dataset(departement="d"), _dataset()):
        with pytest.raises(RowsDenied):  # default deny: cannot be cut at the agent's level
            row_filters(agent, config, index)
        allowed = config.model_copy(update={"row_level": RowLevel(territory="allow")})
        assert row_filters(agent, allowed, index) == ()
    unrestricted = Principal("b", "solidarites", frozenset({"agent"}))
    assert row_filters(unrestricted, _dataset(departement="d"), index) == ()
    commune_agent = Principal("c", "solidarites", frozenset({"agent"}), "commune:53130")
    assert row_filters(commune_agent, _dataset(commune="c", epci="e"), index) == (Filter("c", "=", "53130"),)
    with pytest.raises(RowsDenied):  # EPCI-level data cannot be cut at one commune
        row_filters(commune_agent, _dataset(epci="e"), index)


def test_clamp_never_widens(portal) -> None:  # type: ignore[no-untyped-def]
    index = portal.territories
    scope = Territory("epci", LAVAL)
    inside = Territory("commune", index.communes_of(LAVAL)[0])
    outside = Territory("commune", index.communes_of(OTHER_EPCI)[0])
    assert clamp_territory(scope, inside, index) == inside
    for crafted in (outside, Territory("epci", OTHER_EPCI), Territory("departement", "53")):
        assert clamp_territory(scope, crafted, index) == scope
    assert clamp_territory(None, outside, index) == outside


# --------------------------------------------------------------------------- over HTTP


@pytest.fixture
def laval(client, login_as):  # type: ignore[no-untyped-def]
    """A client signed in as the EPCI-restricted agent."""
    login_as(client, RESTRICTED_USER)
    return client


def kpi_value(content: object) -> float:
    return number(texts(content)[0])


def test_kpi_total_is_the_sum_over_the_epci_communes(laval, portal, truth) -> None:  # type: ignore[no-untyped-def]
    rsa = portal.registry.dashboards["rsa"]
    content = widget_content(laval, rsa, "foyers", f"epci:{LAVAL}", "2019")
    assert kpi_value(content) == truth["kpi_2019"]
    # the comparison with last year is computed on the same rows
    change = next(s for s in texts(content) if "par rapport à" in s)
    expected = (truth["kpi_2019"] - truth["kpi_2018"]) / truth["kpi_2018"] * 100
    assert number(change.split(" ", 1)[1].lstrip("+")) == pytest.approx(expected, abs=0.05)
    assert truth["kpi_2019"] < truth["department_2019"]


@pytest.mark.parametrize(
    "crafted",
    [
        "departement:53",
        f"epci:{OTHER_EPCI}",
        "commune:53062",
        "epci:999999999",
        "n'importe quoi",
        None,
    ],
)
def test_crafted_territory_still_returns_only_their_rows(laval, portal, truth, crafted) -> None:  # type: ignore[no-untyped-def]
    rsa = portal.registry.dashboards["rsa"]
    assert kpi_value(widget_content(laval, rsa, "foyers", crafted, "2019")) == truth["kpi_2019"]  # type: ignore[arg-type]
    table = widget_content(laval, rsa, "communes", crafted, "2019")  # type: ignore[arg-type]
    codes = {row["code_insee"] for row in _table_rows(table)}
    assert codes and codes <= truth["members"]


def test_commune_inside_the_epci_can_be_chosen(laval, portal, truth) -> None:  # type: ignore[no-untyped-def]
    rsa = portal.registry.dashboards["rsa"]
    commune = "53130"  # Laval
    assert commune in truth["members"]
    value = kpi_value(widget_content(laval, rsa, "foyers", f"commune:{commune}", "2019"))
    assert value == truth["by_commune_2019"][commune]


def _table_rows(tree: object) -> list[dict]:
    return html_table_rows(tree)


def test_table_lists_only_their_communes_with_exact_values(laval, portal, truth) -> None:  # type: ignore[no-untyped-def]
    rsa = portal.registry.dashboards["rsa"]
    rows = _table_rows(widget_content(laval, rsa, "communes", f"epci:{LAVAL}", "2019"))
    got = {row["code_insee"]: row["m0"] for row in rows}
    # statistical secrecy (the demo's rule, agents not exempt): counts 1–4 are masked (None: « < 5 »),
    # with at least one more in the EPCI so that the KPI's total never gives one back
    hidden = {c for c, v in got.items() if v is None}
    assert {c for c, v in truth["by_commune_2019"].items() if 0 < v < 5} <= hidden and len(hidden) != 1
    assert got == {c: None if c in hidden else v for c, v in truth["by_commune_2019"].items()}
    assert truth["kpi_2019"] - sum(v for v in got.values() if v is not None) >= 5


def test_map_shows_only_their_communes(laval, portal, truth) -> None:  # type: ignore[no-untyped-def]
    rsa = portal.registry.dashboards["rsa"]
    figure = find_figures(widget_content(laval, rsa, "carte", "departement:53", "2019"))[0]
    trace, masked = figure["data"][0], figure["data"][1]  # coloured areas, then grey masked ones
    assert masked["name"] == "secret" and set(masked["locations"]) & set(trace["locations"]) == set()
    assert set(trace["locations"]) | set(masked["locations"]) == truth["members"]
    assert {c for c, v in truth["by_commune_2019"].items() if 0 < v < 5} <= set(masked["locations"])
    shown = {f["properties"]["code"] for f in trace["geojson"]["features"]}
    assert shown <= truth["members"]
    # each outline is sent once, with the trace that draws its area (a map's bytes: its outlines)
    greyed = {f["properties"]["code"] for f in masked["geojson"]["features"]}
    assert shown == set(trace["locations"]) and greyed == set(masked["locations"])
    population = truth["population"]
    for code, z in zip(trace["locations"], _values(trace["z"]), strict=True):
        expected = truth["by_commune_2019"][code] * 1000 / population[code]
        assert z == pytest.approx(expected, abs=1e-3)


def _values(array: object) -> list[float]:
    """Plotly may ship arrays as typed arrays ({dtype, bdata}) or as lists."""
    if isinstance(array, dict) and "bdata" in array:
        import base64

        import numpy as np

        return list(np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]))
    return list(array)  # type: ignore[call-overload]


def test_line_chart_follows_the_rule(laval, portal, truth) -> None:  # type: ignore[no-untyped-def]
    rsa = portal.registry.dashboards["rsa"]
    figure = find_figures(widget_content(laval, rsa, "evolution", "departement:53", "2019"))[0]
    trace = figure["data"][0]
    xs = [pd.Timestamp(x).date() for x in trace["x"]]
    ys = _values(trace["y"])
    assert dict(zip(xs, ys, strict=True)) == pytest.approx(truth["monthly"])


def test_custom_widget_rate_uses_their_rows_and_population(laval, portal, truth) -> None:  # type: ignore[no-untyped-def]
    rsa = portal.registry.dashboards["rsa"]
    content = texts(widget_content(laval, rsa, "taux", "departement:53", "2019"))
    population = sum(truth["population"][c] for c in truth["members"])
    assert number(content[0]) == pytest.approx(truth["kpi_2019"] * 1000 / population, abs=0.05)


def test_department_level_dataset_follows_its_row_level_key(laval, portal) -> None:  # type: ignore[no-untyped-def]
    """`rsa_departements` says `row_level: {territory: allow}` (public DREES statistics)."""
    rsa = portal.registry.dashboards["rsa"]
    assert portal.registry.datasets["rsa_departements"].config.row_level.territory == "allow"
    figure = find_figures(widget_content(laval, rsa, "comparaison", "departement:53", "2019"))
    assert figure, "the public comparison between départements stays visible"


def test_territory_options_offer_only_their_territory(laval, portal, truth) -> None:  # type: ignore[no-untyped-def]
    page = route(laval, "/rsa")
    select = _find_by_id(page, "rsa--territory")
    assert select is not None
    values = {o["value"] for o in select["props"]["options"] if not o.get("disabled")}
    assert values == {f"epci:{LAVAL}"} | {f"commune:{c}" for c in truth["members"]}
    assert select["props"]["value"] == f"epci:{LAVAL}"


def _find_by_id(tree: object, component_id: str) -> dict | None:
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == component_id:
            return tree
        for value in tree.get("props", {}).values():
            found = _find_by_id(value, component_id)
            if found is not None:
                return found
    elif isinstance(tree, list):
        for item in tree:
            found = _find_by_id(item, component_id)
            if found is not None:
                return found
    return None


# --------------------------------------------------------------------------- cache


def test_cache_never_shares_results_between_rules(app, portal, login_as, truth) -> None:  # type: ignore[no-untyped-def]
    """Same widget, same filters, users with different rules, in both orders, cache warm."""
    rsa = portal.registry.dashboards["rsa"]
    portal.data.cache.clear()
    expected = {
        RESTRICTED_USER: truth["kpi_2019"],
        "president": truth["department_2019"],
        "agent.rsa": truth["department_2019"],
    }
    for order in (
        [RESTRICTED_USER, "president", "agent.rsa"],
        ["president", "agent.rsa", RESTRICTED_USER],
    ):
        for username in order:
            with app.server.test_client() as client:
                login_as(client, username)
                value = kpi_value(widget_content(client, rsa, "foyers", "departement:53", "2019"))
                assert value == expected[username], (order, username)
    assert portal.data.cache.hits > 0  # the cache was in use, and still never mixed the rules


def test_every_query_carries_the_row_rule(app, portal, login_as, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every query a restricted agent's widgets run (hence every cache key, which is derived
    from the whole query) contains the EPCI condition; an unrestricted agent's never does."""
    rsa = portal.registry.dashboards["rsa"]
    rule = Filter("epci_siren", "=", LAVAL)
    seen: list[object] = []
    original = portal.data.query

    def spy(query):  # type: ignore[no-untyped-def]
        seen.append(query)
        return original(query)

    monkeypatch.setattr(portal.data, "query", spy)
    bounds = Query(
        dataset="rsa_communes",
        measures=(("debut", Agg("min", "date")), ("fin", Agg("max", "date"))),
    )
    widgets = [w.id for w in rsa.widgets if w.type != "markdown"]
    for username, restricted in ((RESTRICTED_USER, True), ("agent.rsa", False)):
        seen.clear()
        with app.server.test_client() as client:
            login_as(client, username)
            for widget in widgets:
                widget_content(client, rsa, widget, "departement:53", "2019")
        # The one exception: the years offered by the period selector (MIN/MAX of the date
        # column, no row returned), the same for everyone — metadata, not rows.
        on_communes = [q for q in seen if q.dataset == "rsa_communes" and q != bounds]  # type: ignore[attr-defined]
        assert on_communes
        carrying = [rule in q.filters for q in on_communes]  # type: ignore[attr-defined]
        assert all(carrying) if restricted else not any(carrying), username


def test_restricted_callback_inputs_are_what_the_browser_sends(laval, portal) -> None:  # type: ignore[no-untyped-def]
    """Sanity: the raw callback (no helper) for another EPCI is answered with their rows."""
    rsa = portal.registry.dashboards["rsa"]
    response = page_callback(laval, rsa, f"epci:{OTHER_EPCI}", "2019")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Mayenne Communauté" not in body
    for code in Path(ROOT / "data/communes.csv").read_text().splitlines()[1:]:
        insee, _name, epci = code.split(",")[:3]
        if epci == OTHER_EPCI:
            assert f'"code_insee":"{insee}"' not in body.replace(" ", "")


# --------------------------------------------------------------------------- every dashboard

DASHBOARDS = sorted(p.stem for p in (ROOT / "dashboards").glob("*.yaml"))
PASSWORD = "Laval-essai-2026-longue-phrase"


def _strings(tree: object) -> set[str]:
    """Every string of a callback answer, figure data and table cells included."""
    if isinstance(tree, str):
        return {tree}
    if isinstance(tree, dict):
        return {s for v in tree.values() for s in _strings(v)}
    if isinstance(tree, list):
        return {s for item in tree for s in _strings(item)}
    return set()


@pytest.mark.parametrize("dashboard_id", DASHBOARDS)
def test_every_dashboard_for_an_epci_restricted_member(app, portal, db, truth, dashboard_id: str) -> None:  # type: ignore[no-untyped-def]
    """A member of the dashboard's department attached to Laval Agglomération: every widget
    answers (data or the French "not available for your area" notice), and no code or name of
    a commune or EPCI outside Laval Agglomération appears anywhere in what they receive."""
    from pilotis.accounts import users
    from pilotis.core.schema import AccessRule
    from tests.helpers import login_as

    dashboard = portal.registry.dashboards[dashboard_id]
    rule = dashboard.spec.access
    if not isinstance(rule, AccessRule) or not rule.departments:
        pytest.skip(f"{dashboard_id} is not opened to a department")
    username = f"{rule.departments[0]}.laval.essai"
    try:
        users.create(
            db,
            username=username,
            display_name=username,
            department=rule.departments[0],
            roles=["agent"],
            territory=f"epci:{LAVAL}",
            password=PASSWORD,
            departments=portal.registry.departments,
        )
    except users.UserError as error:
        assert "existe déjà" in str(error)
    index = portal.territories
    inside_names = {index.communes[c] for c in truth["members"]} | {index.epcis[LAVAL]}
    outside = (
        (
            {index.communes[c] for c in truth["outside"]}
            | set(truth["outside"])
            | {n for e, n in index.epcis.items() if e != LAVAL}
            | {e for e in index.epcis if e != LAVAL}
        )
        - inside_names
        - {index.departement_name}
    )
    errors = (TEXTS_ERROR_INTERNAL, TEXTS_ERROR_SOURCE)
    with app.server.test_client() as client:
        login_as(client, username, PASSWORD)
        for widget in dashboard.widgets:
            if widget.type == "markdown":
                continue
            for territory in ("departement:53", f"epci:{OTHER_EPCI}"):
                content = widget_content(client, dashboard, widget.id, territory, "all")
                seen = _strings(content)
                assert not (seen & outside), (widget.id, sorted(seen & outside)[:5])
                body = " ".join(seen)
                assert not any(e in body for e in errors), (widget.id, body[:300])
                assert "Ensemble du département" not in body, widget.id


TEXTS_ERROR_INTERNAL = "n'a pas pu être affiché"
TEXTS_ERROR_SOURCE = "Données indisponibles"
