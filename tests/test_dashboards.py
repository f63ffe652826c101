"""The shipped dashboards, through the real app over HTTP.

1. Every widget of every dashboard in `dashboards/` answers for two filter combinations, without
   an error notice (the YAML files are globbed: a new dashboard is covered automatically).
2. Key numbers match an independent computation made with pandas on the files in `data/`
   (never with Pilotis code).
3. Changing the territory changes what the figures show.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pilotis.core.i18n import TEXTS
from pilotis.core.registry import Dashboard
from pilotis.core.settings import ROOT
from pilotis.core.widgets import WIDGET_TYPES
from tests.helpers import find_class, find_figures, html_table_rows, route, texts, widget_content

DATA = ROOT / "data"
LAVAL = "200083392"  # CA Laval Agglomération (34 communes)
DASHBOARD_FILES = sorted((ROOT / "dashboards").glob("*.yaml"))
ERROR_NOTICES = (TEXTS["internal_error"]["fr"], TEXTS["source_failed"]["fr"].split("«")[0])
NNBSP = "\u202f"


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def client(app, login_as):  # type: ignore[no-untyped-def]
    """One client signed in as the demo president (may open every dashboard), for the module:
    signing in hashes a password, too slow to repeat for every test.

    ``login_as(client, username)`` is the sign-in fixture of ``tests/conftest.py``.
    """
    with app.server.test_client() as test_client:
        login_as(test_client, "president")
        yield test_client


@cache
def communes() -> pd.DataFrame:
    """The commune reference (codes kept as text)."""
    return pd.read_csv(DATA / "communes.csv", dtype={"code_insee": str, "epci_siren": str})


def laval_communes() -> set[str]:
    frame = communes()
    return set(frame.loc[frame["epci_siren"] == LAVAL, "code_insee"])


def dashboard_of(portal: Any, path: Path) -> Dashboard:
    """The loaded dashboard defined by the YAML file ``path``."""
    found = [d for d in portal.registry.dashboards.values() if d.source_file.name == path.name]
    assert found, f"{path.name} n'a pas été chargé"
    return found[0]


def latest_year(portal: Any, dashboard: Dashboard) -> str | None:
    """The year the period filter shows by default (None without a period filter)."""
    spec = dashboard.spec.filters.period
    return str(portal.data.years(spec.dataset)[0]) if spec else None


def parse_fr(text: str) -> float:
    """``'1 234,5 foyers'`` → 1234.5 ; ``'12,3 M€'`` → 12 300 000 ; ``'29,3 %'`` → 0.293."""
    match = re.search(r"[−-]?\d[\d\u202f]*(?:,\d+)?", text)
    assert match, text
    value = float(match.group().replace(NNBSP, "").replace(",", ".").replace("−", "-"))
    rest = text[match.end() :].strip()
    if rest.startswith("M€"):
        value *= 1_000_000
    elif rest.startswith("%"):
        value /= 100
    return value


def kpi_value(tree: Any) -> float:
    """The number shown on a KPI card."""
    nodes = find_class(tree, "pilotis-kpi-value")
    assert nodes, texts(tree)
    return parse_fr("".join(texts(nodes[0])))


def decoded(value: Any) -> Any:
    """Plotly sends numeric arrays as ``{"dtype": "f8", "bdata": <base64>}``: back to a list."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return value


def traces(
    client: Any, portal: Any, dashboard_id: str, widget_id: str, territory: str, period: str | None
) -> list[dict[str, Any]]:
    """The plotly traces of a widget, arrays decoded."""
    dashboard = portal.registry.dashboards[dashboard_id]
    figures = find_figures(widget_content(client, dashboard, widget_id, territory, period))
    assert figures, f"{dashboard_id}/{widget_id} sans figure"
    return [{key: decoded(value) for key, value in trace.items()} for trace in figures[0]["data"]]


# --------------------------------------------------------------------------- 1. every widget


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=[p.stem for p in DASHBOARD_FILES])
def test_every_widget_answers(client, portal, path: Path) -> None:  # type: ignore[no-untyped-def]
    dashboard = dashboard_of(portal, path)
    combos = [("departement:53", latest_year(portal, dashboard)), (f"epci:{LAVAL}", "all")]
    widgets = [w for w in dashboard.widgets if not WIDGET_TYPES[w.type].is_static(w)]
    assert widgets
    for territory, period in combos:
        for widget in widgets:
            content = widget_content(client, dashboard, widget.id, territory, period)
            shown = " ".join(texts(content))
            for message in ERROR_NOTICES:
                assert message not in shown, f"{widget.id} [{territory}, {period}] : {shown[:300]}"


# --------------------------------------------------------------------------- 2. independent numbers


def test_rsa_kpi_of_an_epci(client, portal) -> None:  # type: ignore[no-untyped-def]
    rsa = pd.read_parquet(DATA / "rsa_communes_mensuel.parquet")
    rsa["date"] = pd.to_datetime(rsa["date"])
    expected = rsa.loc[
        (rsa["date"] == "2019-12-01") & rsa["code_insee"].isin(laval_communes()),
        "foyers_allocataires",
    ].sum()
    content = widget_content(client, portal.registry.dashboards["rsa"], "foyers", f"epci:{LAVAL}", "2019")
    assert kpi_value(content) == expected


@cache
def fibre() -> pd.DataFrame:
    frame = pd.read_csv(
        DATA / "fibre_communes.csv",
        dtype={"code_insee": str, "epci_siren": str},
        parse_dates=["date"],
    )
    return frame.merge(communes()[["code_insee", "epci_nom"]], on="code_insee")


def test_fibre_rate_is_a_ratio_of_sums(client, portal) -> None:  # type: ignore[no-untyped-def]
    latest = fibre()[fibre()["date"] == fibre()["date"].max()]
    laval = latest[latest["epci_siren"] == LAVAL]
    expected = laval["locaux_raccordables"].sum() / laval["locaux_total"].sum()
    content = widget_content(client, portal.registry.dashboards["fibre"], "taux", f"epci:{LAVAL}", "2018")
    assert kpi_value(content) == pytest.approx(expected, abs=0.0005)  # shown with 1 decimal of %
    # The bar by EPCI: one ratio of sums per EPCI (names on the axis).
    by_epci = latest.groupby("epci_nom")[["locaux_raccordables", "locaux_total"]].sum()
    rates = (by_epci["locaux_raccordables"] / by_epci["locaux_total"]).to_dict()
    bar = traces(client, portal, "fibre", "epci", "departement:53", "2018")[0]
    assert dict(zip(bar["y"], bar["x"], strict=True)) == pytest.approx(rates)


def test_fibre_map_colour_scale_is_capped(client, portal) -> None:  # type: ignore[no-untyped-def]
    latest = fibre()[fibre()["date"] == fibre()["date"].max()]
    expected = (latest["locaux_raccordables"] / latest["locaux_total"]).round(4)
    expected.index = latest["code_insee"]
    trace = traces(client, portal, "fibre", "carte", "departement:53", "2018")[0]
    shown = dict(zip(trace["locations"], trace["z"], strict=True))
    assert shown == pytest.approx(expected.to_dict())
    assert shown["53099"] > 1  # Forcé: true value kept...
    assert (trace["zmin"], trace["zmax"]) == (0, 1)  # ...but the colour scale stops at 100 %


def test_fibre_target_from_excel(client, portal) -> None:  # type: ignore[no-untyped-def]
    goals = pd.read_excel(DATA / "objectifs.xlsx", sheet_name="objectifs")
    goal = goals.loc[(goals["indicateur"] == "taux_raccordables") & (goals["annee"] == 2018), "cible"]
    bar, target = traces(client, portal, "fibre", "objectif", "departement:53", "2018")
    latest = fibre()[fibre()["date"] == fibre()["date"].max()]
    assert bar["x"][0] == pytest.approx(latest["locaux_raccordables"].sum() / latest["locaux_total"].sum())
    assert target["x"][0] == pytest.approx(goal.iloc[0])


@cache
def finances() -> pd.DataFrame:
    frame = pd.read_parquet(DATA / "finances_communes.parquet")
    frame["annee"] = pd.to_datetime(frame["date"]).dt.year
    return frame[(frame["section"] == "Fonctionnement") & (frame["sens"] == "Dépenses")]


def test_finances_stacked_bar_by_chapitre(client, portal) -> None:  # type: ignore[no-untyped-def]
    expected = finances().groupby(["chapitre", "annee"])["montant"].sum()
    shown = {}
    for trace in traces(client, portal, "finances", "chapitres", "departement:53", "2025"):
        for x, y in zip(trace["x"], trace["y"], strict=True):
            shown[(trace["name"], pd.Timestamp(x).year)] = y
    assert shown == pytest.approx(expected.to_dict())


def test_finances_per_inhabitant(client, portal) -> None:  # type: ignore[no-untyped-def]
    year = finances()[finances()["annee"] == 2025]
    population = communes().set_index("code_insee")["population"]
    per_commune = (year.groupby("code_insee")["montant"].sum() / population).round(4)
    trace = traces(client, portal, "finances", "carte", "departement:53", "2025")[0]
    assert dict(zip(trace["locations"], trace["z"], strict=True)) == pytest.approx(per_commune.to_dict())
    laval = year[year["code_insee"].isin(laval_communes())]["montant"].sum()
    laval_population = population[sorted(laval_communes())].sum()
    content = widget_content(client, portal.registry.dashboards["finances"], "par_habitant", f"epci:{LAVAL}", "2025")
    assert kpi_value(content) == pytest.approx(laval / laval_population, abs=0.5)


def test_finances_grants_table_totals_the_real_file(client, portal) -> None:  # type: ignore[no-untyped-def]
    grants = pd.read_csv(DATA / "dotations_2019.csv")
    content = widget_content(client, portal.registry.dashboards["finances"], "projets", "departement:53", "2025")
    rows = html_table_rows(content)
    assert len(rows) == len(grants)
    assert sum(row["m0"] for row in rows) == pytest.approx(grants["montant_sub"].sum())


@cache
def rh() -> pd.DataFrame:
    frame = pd.read_parquet(DATA / "rh_effectifs_mensuels.parquet")
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def test_rh_headcount_is_read_at_the_last_month(client, portal) -> None:  # type: ignore[no-untyped-def]
    december = rh()[rh()["date"] == "2025-12-01"]
    content = widget_content(client, portal.registry.dashboards["rh"], "effectif", "departement:53", "2025")
    assert kpi_value(content) == december["effectif"].sum()
    pie = traces(client, portal, "rh", "statut", "departement:53", "2025")[0]
    assert (
        dict(zip(pie["labels"], pie["values"], strict=True)) == december.groupby("statut")["effectif"].sum().to_dict()
    )
    # Stacked bar by year: the headcount of the last month of each year, never a sum of 12 months.
    ends = rh().groupby(rh()["date"].dt.year)["date"].max()
    last = rh()[rh()["date"].isin(ends)]
    expected = last.groupby(["direction", last["date"].dt.year])["effectif"].sum().to_dict()
    shown = {}
    for trace in traces(client, portal, "rh", "directions", "departement:53", "2025"):
        for x, y in zip(trace["x"], trace["y"], strict=True):
            shown[(trace["name"], pd.Timestamp(x).year)] = y
    assert shown == expected


def test_rh_absenteeism_rate(client, portal) -> None:  # type: ignore[no-untyped-def]
    holidays_2025 = [
        "2025-01-01",
        "2025-04-21",
        "2025-05-01",
        "2025-05-08",
        "2025-05-29",
        "2025-06-09",
        "2025-07-14",
        "2025-08-15",
        "2025-11-01",
        "2025-11-11",
        "2025-12-25",
    ]
    year = rh()[rh()["date"].dt.year == 2025].groupby("date")[["jours_absence", "etp"]].sum()
    days = [
        np.busday_count(d.date(), (d + pd.offsets.MonthBegin(1)).date(), holidays=holidays_2025) for d in year.index
    ]
    assert sum(days) == 251  # 2025: 261 weekdays, 10 public holidays on a weekday
    expected = year["jours_absence"].sum() / (year["etp"] * days).sum()
    content = widget_content(client, portal.registry.dashboards["rh"], "absenteisme", "departement:53", "2025")
    assert kpi_value(content) == pytest.approx(expected, abs=0.0005)


def test_rh_agents_map(client, portal) -> None:  # type: ignore[no-untyped-def]
    agents = pd.read_csv(DATA / "rh_agents_communes.csv", dtype={"code_insee": str})
    trace = traces(client, portal, "rh", "carte", "departement:53", "2026")[0]
    shown = dict(zip(trace["locations"], trace["z"], strict=True))
    assert shown == agents.set_index("code_insee")["agents"].to_dict()


# ---------------------------------------------------------------------- 3. filters change figures


@pytest.mark.parametrize(
    "dashboard_id, widget_id, period",
    [
        ("rsa", "evolution", "all"),
        ("finances", "chapitres", "2025"),
        ("finances", "carte", "2025"),
        ("fibre", "evolution", "all"),
        ("fibre", "carte", "2018"),
    ],
)
def test_territory_changes_figure(
    client,
    portal,
    dashboard_id: str,
    widget_id: str,  # type: ignore[no-untyped-def]
    period: str,
) -> None:
    whole = traces(client, portal, dashboard_id, widget_id, "departement:53", period)
    part = traces(client, portal, dashboard_id, widget_id, f"epci:{LAVAL}", period)
    assert whole != part
    if "locations" in part[0]:
        assert set(part[0]["locations"]) == laval_communes()


def test_compare_small_multiples_come_with_the_series_they_draw(client, portal) -> None:  # type: ignore[no-untyped-def]
    """« Comparer des territoires »: each indicator's panels have a data table of every point
    drawn (one row per period, one column per territory), not only the last values."""
    dashboard = portal.registry.dashboards["rsa"]
    chosen = {"t1": f"epci:{LAVAL}", "t2": "commune:53130"}
    content = widget_content(client, dashboard, "comparer", "departement:53", "2019", chosen)
    figures = find_figures(content)
    assert figures
    shown = " ".join(texts(content))
    assert "Séries : " in shown and "Voir les données" in shown
    tables = [html_table_rows(part) for part in _series_tables(content)]
    assert len(tables) == len(figures)
    for rows, figure in zip(tables, figures, strict=True):
        traces = figure["data"]
        assert len(traces) == 2 and len(rows) == len(traces[0]["y"]) > 1  # the year's months, not one value
        for column, trace in zip(("t1", "t2"), traces, strict=True):
            assert [row[column] for row in rows] == pytest.approx([v for v in trace["y"]], rel=1e-3)
        assert rows[0]["periode"] == "janvier 2019"


def _series_tables(tree: Any) -> list[Any]:
    """The « Voir les données » of each small-multiples panel (a Details component)."""
    if isinstance(tree, dict):
        if tree.get("type") == "Details":
            return [tree]
        return [t for v in tree.get("props", {}).values() for t in _series_tables(v)]
    if isinstance(tree, list):
        return [t for item in tree for t in _series_tables(item)]
    return []


def _by_id(tree: Any, component_id: str) -> dict[str, Any] | None:
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == component_id:
            return tree
        for value in tree.get("props", {}).values():
            found = _by_id(value, component_id)
            if found is not None:
                return found
    if isinstance(tree, list):
        for item in tree:
            found = _by_id(item, component_id)
            if found is not None:
                return found
    return None


@pytest.mark.parametrize("select_id", ["rsa--territory", "rsa--comparer-t1"])
def test_territory_choices_follow_french_alphabetical_order(client, select_id: str) -> None:  # type: ignore[no-untyped-def]
    """Names in the order of a French dictionary: case and accents do not count at first
    (code point order put « CC Mayenne Communauté » before « CC de l'Ernée », « Évron » after
    « Voutré »)."""

    def folded(name: str) -> str:  # the test's own fold, independent of pilotis.formatting
        return "".join(c for c in unicodedata.normalize("NFD", name) if not unicodedata.combining(c)).lower()

    select = _by_id(route(client, "/rsa"), select_id)
    assert select is not None
    options = [o for o in select["props"]["options"] if not o.get("disabled") and o["value"]]
    epcis = [o["label"] for o in options if o["value"].startswith("epci:")]
    communes = [o["label"] for o in options if o["value"].startswith("commune:")]
    assert len(epcis) == 10 and len(communes) == 240
    assert epcis.index("CC de l'Ernée") < epcis.index("CC du Pays Sabolien") < epcis.index("CC Mayenne Communauté")
    for names in (epcis, communes):
        assert [folded(n) for n in names] == sorted(folded(n) for n in names)
    assert communes.index("Ernée") < communes.index("Évron") < communes.index("Fontaine-Couverte")
    assert communes.index("Mée") < communes.index("Moulay")


def test_map_name_says_per_commune_once(client, portal) -> None:  # type: ignore[no-untyped-def]
    content = widget_content(client, portal.registry.dashboards["rsa"], "carte", "departement:53", "2019")
    names = [node["props"]["aria-label"] for node in _with_role_img(content)]
    assert names == ["Carte : Foyers allocataires pour 1 000 habitants, par commune"]


def _with_role_img(tree: Any) -> list[dict[str, Any]]:
    if isinstance(tree, dict):
        found = [tree] if tree.get("props", {}).get("role") == "img" else []
        return found + [n for v in tree.get("props", {}).values() for n in _with_role_img(v)]
    if isinstance(tree, list):
        return [n for item in tree for n in _with_role_img(item)]
    return []
