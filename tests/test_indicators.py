"""Indicators, KPI comparisons, the « Pilotage » overview and the indicator cards.

1. The loader reports unknown indicator ids, formula cycles and unit mismatches with file:line
   (and so does ``python -m pilotis check``).
2. Every comparison a KPI card can show equals an independent pandas computation on the files
   in ``data/`` (never Pilotis code) — including the DREES check: Mayenne's year-on-year change
   equals the published ``evolution_glissement_annuel_pct``, within the rounding of the counts.
3. Comparisons are asked to the database as grouped aggregates (few queries, no raw rows);
   the compare view makes one query per dataset for all its territories.
4. The overview shows the president every indicator and a manager only theirs (layout,
   callbacks, cards, catalogue); the cards are access-controlled pages.
"""

from __future__ import annotations

import datetime as dt
import shutil
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pilotis.accounts.users import DEMO_USERS
from pilotis.core.access import Principal, can_view_indicator, can_view_widget
from pilotis.core.comparisons import Evaluator, Window, band_of, compare_territories
from pilotis.core.errors import ConfigError
from pilotis.core.loader import load_registry
from pilotis.core.measures import Agg
from pilotis.core.partials import grouped_by, regroup
from pilotis.core.settings import ROOT
from pilotis.core.territory import Territory
from tests.cli_run import run_cli
from tests.helpers import (
    json,
    login_as,
    post_callback,
    route,
    texts,
    widget_content,
    widget_inputs,
)

DATA = ROOT / "data"
LAVAL_EPCI = "200083392"
LAVAL = "53130"
CHATEAU_GONTIER = "53062"  # 16 584 inhabitants: band 5 000 – 19 999
OCT_2020 = dt.date(2020, 10, 1)


# --------------------------------------------------------------------------- independent data


@cache
def communes() -> pd.DataFrame:
    return pd.read_csv(DATA / "communes.csv", dtype={"code_insee": str, "epci_siren": str})


@cache
def rsa() -> pd.DataFrame:
    frame = pd.read_parquet(DATA / "rsa_communes_mensuel.parquet")
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.merge(communes()[["code_insee", "population"]], on="code_insee")


@cache
def drees() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "rsa_departements_mensuel.csv", dtype={"code_departement": str}, parse_dates=["date"])
    return frame


def per_1000(rows: pd.DataFrame) -> float:
    """Households per 1,000 inhabitants of a set of communes (population counted once each)."""
    population = communes().loc[communes()["code_insee"].isin(rows["code_insee"].unique()), "population"].sum()
    return float(rows["foyers_allocataires"].sum() / population * 1000)


def demo(username: str) -> Principal:
    user = next(u for u in DEMO_USERS if u.username == username)
    return Principal(user.username, user.department, frozenset(user.roles), user.territory)


def context(portal: Any, dashboard: str, territory: str, period: str | None, username: str = "president"):  # type: ignore[no-untyped-def]
    return portal.render_context(portal.registry.dashboards[dashboard], territory, period, principal=demo(username))


def evaluator(
    portal: Any,
    indicator: str,
    territory: str = "departement:53",
    period: str | None = "2020",
    dashboard: str = "rsa",
    **options: Any,
) -> Evaluator:
    ctx = context(portal, dashboard, territory, period)
    return Evaluator(ctx, portal.registry.indicators[indicator], **options)


def comparison(result: Any, kind: str) -> Any:
    found = [c for c in result.comparisons if c.kind == kind]
    assert found, (kind, result)
    return found[0]


@contextmanager
def recorded_queries(portal: Any):  # type: ignore[no-untyped-def]
    """Every Query the data service is asked (cache hits included)."""
    seen: list[Any] = []
    service = portal.data
    original = service.query

    def spy(query: Any) -> Any:
        seen.append(query)
        return original(query)

    service.query = spy  # an instance attribute: only this service, removed afterwards
    try:
        yield seen
    finally:
        del service.query


# --------------------------------------------------------------------------- 1. loader errors


RSA_FILES = (
    "config/datasets/solidarites.yaml",
    "config/datasets/territoire.yaml",
    "config/datasets/numerique.yaml",
    "config/indicators/rsa.yaml",
    "config/indicators/territoire.yaml",
    "dashboards/rsa.yaml",
    "dashboards/rsa.py",
)


class Project:
    """A writable copy of the RSA part of the configuration (data files stay where they are)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for folder in ("config/datasets", "config/indicators", "dashboards"):
            (root / folder).mkdir(parents=True)
        for path in (ROOT / "config").glob("*.yaml"):
            if path.name != "referents.yaml":  # it names every theme and dashboard, not only the RSA ones
                shutil.copy(path, root / "config" / path.name)
        for rel in RSA_FILES:
            shutil.copy(ROOT / rel, root / rel)

    def text(self, rel: str) -> str:
        return (self.root / rel).read_text(encoding="utf-8")

    def edit(self, rel: str, old: str, new: str) -> None:
        text = self.text(rel)
        assert old in text, f"{old!r} is no longer in {rel}"
        (self.root / rel).write_text(text.replace(old, new, 1), encoding="utf-8")

    def append(self, rel: str, text: str) -> None:
        (self.root / rel).write_text(self.text(rel).rstrip("\n") + "\n" + text, encoding="utf-8")

    def write(self, rel: str, text: str) -> None:
        (self.root / rel).write_text(text, encoding="utf-8")

    def line_of(self, rel: str, snippet: str) -> int:
        text = self.text(rel)
        return text.count("\n", 0, text.index(snippet)) + 1

    def issues(self) -> list[Any]:
        with pytest.raises(ConfigError) as info:
            load_registry(ROOT, self.root / "config", self.root / "dashboards")
        return info.value.issues

    def rel(self, issue: Any) -> str:
        return Path(issue.path).resolve().relative_to(self.root.resolve()).as_posix()


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


RSA_IND = "config/indicators/rsa.yaml"
RSA_DASH = "dashboards/rsa.yaml"


def test_the_copy_loads(project: Project) -> None:
    registry = load_registry(ROOT, project.root / "config", project.root / "dashboards")
    assert "rsa.foyers_pour_1000" in registry.indicators
    assert registry.indicators["rsa.foyers_pour_1000"].requires == {
        "rsa.foyers_pour_1000",
        "rsa.foyers_allocataires",
        "territoire.population",
    }


def test_unknown_indicator_in_a_formula(project: Project) -> None:
    project.edit(RSA_IND, "formula: rsa.foyers_allocataires /", "formula: rsa.foyer_allocataires /")
    issues = project.issues()
    assert len(issues) == 1, issues  # the KPIs using it are not reported again
    issue = issues[0]
    assert project.rel(issue) == RSA_IND
    assert issue.line == project.line_of(RSA_IND, "formula: rsa.foyer_allocataires")
    assert "indicateur `rsa.foyer_allocataires` inconnu" in issue.message
    assert "rsa.foyers_allocataires" in issue.hint


def test_a_cycle_of_formulas_is_reported_once(project: Project) -> None:
    project.append(
        RSA_IND,
        "boucle_a:\n  label: A\n  definition: a\n  formula: rsa.boucle_b * 2\n"
        "boucle_b:\n  label: B\n  definition: b\n  formula: rsa.boucle_a + 1\n",
    )
    issues = project.issues()
    assert len(issues) == 1, issues
    assert issues[0].message == "formules en cycle : `rsa.boucle_a` → `rsa.boucle_b` → `rsa.boucle_a`"
    assert issues[0].line == project.line_of(RSA_IND, "formula: rsa.boucle_b * 2")
    assert project.rel(issues[0]) == RSA_IND


def test_a_self_reference_is_a_cycle(project: Project) -> None:
    project.append(RSA_IND, "soi:\n  label: Soi\n  definition: soi\n  formula: rsa.soi * 2\n")
    [issue] = project.issues()
    assert "cycle" in issue.message and "`rsa.soi` → `rsa.soi`" in issue.message


def test_adding_different_units_in_a_formula(project: Project) -> None:
    project.append(
        RSA_IND,
        "melange:\n  label: Mélange\n  definition: m\n  formula: rsa.foyers_allocataires + rsa.depenses_allocations\n",
    )
    [issue] = project.issues()
    assert "unités incompatibles" in issue.message
    assert "`rsa.foyers_allocataires` (foyers)" in issue.message and "(€)" in issue.message
    assert issue.line == project.line_of(RSA_IND, "formula: rsa.foyers_allocataires + rsa.depenses")


def test_unit_mismatch_in_a_kpi_comparison(project: Project) -> None:
    project.edit(
        RSA_DASH,
        "    compare: [previous_year, departement, epci, comparables, rank]",
        "    compare: [previous_year, {indicator: rsa.depenses_allocations}]",
    )
    [issue] = project.issues()
    assert project.rel(issue) == RSA_DASH
    assert issue.line == project.line_of(RSA_DASH, "{indicator: rsa.depenses_allocations}")
    assert "unités différentes" in issue.message and "`rsa.depenses_allocations` est en €" in issue.message


def test_unknown_kpi_id_in_a_dashboard(project: Project) -> None:
    project.edit(RSA_DASH, "kpi: rsa.foyers_drees", "kpi: rsa.foyer_drees")
    [issue] = project.issues()
    assert (project.rel(issue), issue.line) == (
        RSA_DASH,
        project.line_of(RSA_DASH, "kpi: rsa.foyer_drees"),
    )
    assert issue.message == "indicateur `rsa.foyer_drees` inconnu"
    assert "rsa.foyers_drees" in issue.hint


def test_unknown_column_and_department_in_an_indicator(project: Project) -> None:
    tail = "\n  unit: foyers\n  better: down\n  department: solidarite"
    project.edit(
        RSA_IND,
        f"measure: sum(foyers_allocataires){tail}s",
        f"measure: sum(foyer_allocataires){tail}",
    )
    issues = sorted(project.issues())
    assert [i.message for i in issues] == [
        "colonne `foyer_allocataires` absente du jeu de données",
        "direction `solidarite` inconnue",
    ]
    assert issues[0].line == project.line_of(RSA_IND, "sum(foyer_allocataires)")


def test_a_comparison_the_data_cannot_give(project: Project) -> None:
    project.append(
        RSA_DASH,
        "  - {id: x, type: kpi, dataset: objectifs, measure: sum(cible), "
        "compare: [departement, rank], sparkline: 3, period: all}\n",
    )
    issues = sorted(project.issues())
    why = "impossible : les données ne sont pas découpées par commune ou EPCI"
    assert [i.message for i in issues] == [
        f"comparaison `departement` {why}",
        f"comparaison `rank` {why}",
        "courbe impossible : les données n'ont pas de période",
    ]
    assert {i.line for i in issues} == {project.line_of(RSA_DASH, "id: x, type: kpi, dataset: objectifs")}


def test_overview_rules(project: Project) -> None:
    """An overview shows declared indicators only, each shown on a thematic dashboard."""
    project.append(
        RSA_IND,
        "orphelin:\n  label: Orphelin\n  definition: o\n  dataset: communes\n  measure: count(*)\n",
    )
    project.write(
        "dashboards/synthese.yaml",
        "id: synthese\ntitle: Synthèse\noverview: true\naccess: {roles: [president]}\n"
        "widgets:\n"
        "  - {id: a, type: kpi, kpi: rsa.foyers_allocataires}\n"
        "  - {id: b, type: kpi, kpi: territoire.population}\n"
        "  - {id: c, type: kpi, kpi: rsa.orphelin}\n"
        "  - {id: d, type: kpi, dataset: communes, measure: max(population)}\n",
    )
    issues = sorted(project.issues())
    synthese = "dashboards/synthese.yaml"
    assert [(project.rel(i), i.line) for i in issues] == [
        (synthese, project.line_of(synthese, "kpi: rsa.orphelin")),
        (synthese, project.line_of(synthese, "id: d,")),
    ], issues
    assert "`rsa.orphelin` affiché par aucun tableau de bord thématique" in issues[0].message
    assert "ne montre que des indicateurs déclarés" in issues[1].message


def test_legacy_kpis_stay_valid_and_bind_to_their_indicator(portal) -> None:  # type: ignore[no-untyped-def]
    foyers = portal.registry.dashboards["rsa"].widget("foyers")
    assert foyers.compare == "previous_year" and foyers.measure == "sum(foyers_allocataires)"
    assert foyers.kpi == "rsa.foyers_allocataires"  # same dataset, measure and filters
    assert foyers.title == "Foyers allocataires"  # its own keys kept


def test_check_command_reports_file_and_line(project: Project) -> None:
    project.edit(RSA_IND, "formula: rsa.foyers_allocataires /", "formula: rsa.foyer_allocataires /")
    (project.root / "data").symlink_to(ROOT / "data", target_is_directory=True)
    result = run_cli(["check", str(project.root)], cwd=project.root)  # in-process: see tests/cli_run.py
    assert result.returncode == 1, result.stderr
    line = project.line_of(RSA_IND, "formula: rsa.foyer_allocataires")
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{RSA_IND}:{line}:") and "indicateur `rsa.foyer_allocataires` inconnu" in first


# --------------------------------------------------------------------------- 2. comparisons


def test_drees_year_on_year_change_matches_the_published_value(portal) -> None:  # type: ignore[no-untyped-def]
    """Every month of Mayenne: the engine's year-on-year change equals the DREES column.

    The DREES computes its change on unrounded counts and publishes counts rounded to the ten:
    each count is off by at most 5, so the change computed from published counts may differ by
    at most 100·5·(1/previous + current/previous²) percentage points — that is the tolerance.
    """
    mayenne = drees()[drees()["code_departement"] == "53"].set_index("date")
    published = mayenne["evolution_glissement_annuel_pct"].dropna()
    assert len(published) == 34
    ev = evaluator(portal, "rsa.foyers_drees", period="all")
    for month, expected in published.items():
        change = ev.previous_year(Window(month.date()))
        assert change is not None and change.reference_period == (month - pd.DateOffset(years=1)).date()
        current, previous = mayenne.loc[month, "foyers_allocataires"], change.reference
        assert (change.value or ev.value(Window(month.date()))) == current
        computed = (current / previous - 1) * 100
        assert computed == pytest.approx(
            (current / mayenne.loc[month - pd.DateOffset(years=1), "foyers_allocataires"] - 1) * 100
        )
        tolerance = 100 * 5 * (1 / previous + current / previous**2)
        assert abs(computed - expected) <= tolerance, (month, computed, expected, tolerance)


def test_kpi_card_shows_the_drees_change(client_president, portal) -> None:  # type: ignore[no-untyped-def]
    content = widget_content(client_president, portal.registry.dashboards["rsa"], "drees", "departement:53", "2020")
    shown = plain(content)
    assert "▲ +15,3 % (+590 foyers) : octobre 2020 par rapport à octobre 2019" in shown  # DREES: +15,225 %
    assert "4 440 foyers" in shown


def test_previous_period_and_sparkline_of_an_epci(portal) -> None:  # type: ignore[no-untyped-def]
    rows = rsa()[rsa()["epci_siren"] == LAVAL_EPCI].groupby("date")["foyers_allocataires"].sum()
    result = evaluator(portal, "rsa.foyers_allocataires", f"epci:{LAVAL_EPCI}", "2020").result(
        ["previous_period", "previous_year"], sparkline=12
    )
    assert result.value == rows[pd.Timestamp(OCT_2020)]
    before = comparison(result, "previous_period")
    assert (before.reference, before.reference_period) == (
        rows[pd.Timestamp("2020-09-01")],
        dt.date(2020, 9, 1),
    )
    assert comparison(result, "previous_year").reference == rows[pd.Timestamp("2019-10-01")]
    assert [v for _, v in result.sparkline] == list(rows.loc["2019-11-01":"2020-10-01"].astype(float))


def test_positions_and_rank_of_a_commune(portal) -> None:  # type: ignore[no-untyped-def]
    """Per 1,000 inhabitants: département, EPCI, comparable communes (ratios of sums) and rank."""
    month = rsa()[rsa()["date"] == pd.Timestamp(OCT_2020)]
    # exact small counts (`admin` is exempt from the demo's statistical secrecy): the rank among all
    # 240 communes; a masked commune's rank: tests/test_secrecy.py
    ctx = context(portal, "rsa", f"commune:{CHATEAU_GONTIER}", "2020", "admin")
    result = Evaluator(ctx, portal.registry.indicators["rsa.foyers_pour_1000"]).result(
        ["departement", "epci", "comparables", "rank"]
    )
    assert result.value == pytest.approx(per_1000(month[month["code_insee"] == CHATEAU_GONTIER]))
    assert comparison(result, "departement").reference == pytest.approx(per_1000(month))
    epci = communes().set_index("code_insee").loc[CHATEAU_GONTIER, "epci_siren"]
    assert comparison(result, "epci").reference == pytest.approx(per_1000(month[month["epci_siren"] == epci]))
    band = band_of(16584)
    assert band == (5_000, 20_000)
    same = communes()[communes()["population"].between(band[0], band[1] - 1)]["code_insee"]
    assert comparison(result, "comparables").reference == pytest.approx(per_1000(month[month["code_insee"].isin(same)]))
    population = communes().set_index("code_insee")["population"]
    rates = month.groupby("code_insee")["foyers_allocataires"].sum() / population * 1000
    ranks = rates.rank(ascending=False, method="min")
    rank = comparison(result, "rank")
    assert (rank.rank, rank.count) == (int(ranks[CHATEAU_GONTIER]), 240)


def test_rank_of_an_epci_and_of_the_departement(portal) -> None:  # type: ignore[no-untyped-def]
    month = rsa()[rsa()["date"] == pd.Timestamp(OCT_2020)]
    people = communes().groupby("epci_siren")["population"].sum()
    rates = month.groupby("epci_siren")["foyers_allocataires"].sum() / people * 1000
    rank = comparison(
        evaluator(portal, "rsa.foyers_pour_1000", f"epci:{LAVAL_EPCI}", "2020").result(["rank"]),
        "rank",
    )
    assert (rank.rank, rank.count) == (
        int(rates.rank(ascending=False, method="min")[LAVAL_EPCI]),
        10,
    )
    october = drees()[drees()["date"] == pd.Timestamp(OCT_2020)].set_index("code_departement")["foyers_allocataires"]
    rank = comparison(evaluator(portal, "rsa.foyers_drees").result(["rank"]), "rank")
    assert (rank.rank, rank.count) == (
        int(october.rank(ascending=False, method="min")["53"]),
        len(october),
    )


def test_a_volume_is_compared_with_the_average_per_commune(portal) -> None:  # type: ignore[no-untyped-def]
    finances = pd.read_parquet(DATA / "finances_communes.parquet")
    finances = finances[
        (finances["section"] == "Fonctionnement")
        & (finances["sens"] == "Dépenses")
        & (pd.to_datetime(finances["date"]).dt.year == 2025)
    ]
    result = evaluator(
        portal, "finances.depenses_fonctionnement", f"commune:{LAVAL}", "2025", dashboard="finances"
    ).result(["departement", "previous_year"])
    position = comparison(result, "departement")
    assert position.average and position.count == 240
    assert position.reference == pytest.approx(finances["montant"].sum() / 240)
    assert position.share == pytest.approx(
        finances.loc[finances["code_insee"] == LAVAL, "montant"].sum() / finances["montant"].sum()
    )


def test_a_flow_is_compared_month_for_month(portal) -> None:  # type: ignore[no-untyped-def]
    """Payroll of January–October 2026 against January–October 2025 (not the whole of 2025)."""
    paie = pd.read_parquet(DATA / "rh_effectifs_mensuels.parquet")
    paie["date"] = pd.to_datetime(paie["date"])
    result = evaluator(
        portal, "rh.masse_salariale", "departement:53", "2026", dashboard="rh", territory_all=True
    ).result(["previous_year"])
    assert result.value == pytest.approx(paie[paie["date"].dt.year == 2026]["masse_salariale"].sum())
    assert (result.start, result.end) == (dt.date(2026, 1, 1), dt.date(2026, 10, 1))
    same_months = paie[(paie["date"] >= "2025-01-01") & (paie["date"] <= "2025-10-01")]
    assert comparison(result, "previous_year").reference == pytest.approx(same_months["masse_salariale"].sum())


def test_targets_fixed_and_read_from_the_goals_workbook(portal) -> None:  # type: ignore[no-untyped-def]
    goals = pd.read_excel(DATA / "objectifs.xlsx", sheet_name="objectifs")
    fibre = evaluator(portal, "fibre.taux_raccordables", period="2018", dashboard="fibre").result(["target"])
    expected = goals.loc[(goals["indicateur"] == "taux_raccordables") & (goals["annee"] == 2018), "cible"].iloc[0]
    assert comparison(fibre, "target").reference == pytest.approx(expected)
    foyers = evaluator(portal, "rsa.foyers_allocataires").result(["target"])
    assert comparison(foyers, "target").reference == 3800
    # a volume's target is the département's: not shown for a commune
    assert not evaluator(portal, "rsa.foyers_allocataires", f"commune:{LAVAL}").result(["target"]).comparisons


def test_status_from_thresholds(portal) -> None:  # type: ignore[no-untyped-def]
    month = rsa()[rsa()["date"] == pd.Timestamp(OCT_2020)]
    assert 14 <= per_1000(month) < 16  # warning 14, alert 16
    assert evaluator(portal, "rsa.foyers_pour_1000").result([]).status == "warning"
    assert per_1000(month[month["code_insee"] == LAVAL]) >= 16
    assert evaluator(portal, "rsa.foyers_pour_1000", f"commune:{LAVAL}").result([]).status == "alert"
    assert evaluator(portal, "rsa.foyers_allocataires", f"commune:{LAVAL}").result([]).status is None


def test_status_is_written_not_only_coloured(client_president, portal) -> None:  # type: ignore[no-untyped-def]
    content = widget_content(client_president, portal.registry.dashboards["rsa"], "positions", "departement:53", "2020")
    shown = plain(content)
    assert "Vigilance : seuil de 14,0 pour 1 000 hab. atteint" in shown
    assert "bi-exclamation-triangle" in shown


# --------------------------------------------------------------------------- 3. pushed down


def test_a_kpi_card_asks_few_grouped_queries(portal) -> None:  # type: ignore[no-untyped-def]
    # exact counts (`admin`, exempt from statistical secrecy); masked, the département and EPCI
    # totals are asked as such (never added up from masked communes): tests/test_secrecy_paths.py
    ctx = context(portal, "rsa", f"commune:{LAVAL}", "2020", "admin")
    engine = Evaluator(ctx, portal.registry.indicators["rsa.foyers_pour_1000"])
    with recorded_queries(portal) as seen:
        engine.result(
            ["previous_period", "previous_year", "departement", "epci", "comparables", "rank"],
            sparkline=12,
        )
    assert all(q.measures and not q.raw_columns for q in seen)  # aggregates only, never rows
    # two datasets × (one query by period + one query by territory)
    assert len(seen) == 4, [(q.dataset, q.group_by) for q in seen]
    assert sorted((q.dataset, q.group_by) for q in seen) == [
        ("communes", ()),
        ("communes", ("code_insee", "epci_siren")),
        ("rsa_communes", ("code_insee", "epci_siren")),
        ("rsa_communes", ("periode",)),
    ]


def test_compare_view_makes_one_query_per_dataset(portal) -> None:  # type: ignore[no-untyped-def]
    # exact counts (`admin`): masked, a territory with a masked commune asks its own queries
    ctx = context(portal, "rsa", "departement:53", "2020", "admin")
    territories = [
        Territory("departement", "53"),
        Territory("epci", LAVAL_EPCI),
        Territory("commune", LAVAL),
        Territory("commune", CHATEAU_GONTIER),
    ]
    with recorded_queries(portal) as seen:
        found = compare_territories(ctx, portal.registry.indicators["rsa.foyers_pour_1000"], territories)
        values = [ev.value(ev.window()) for _, ev in found]
    assert sorted(q.dataset for q in seen) == ["communes", "rsa_communes"]
    month = rsa()[rsa()["date"] == pd.Timestamp(OCT_2020)]
    assert values == pytest.approx(
        [
            per_1000(month),
            per_1000(month[month["epci_siren"] == LAVAL_EPCI]),
            per_1000(month[month["code_insee"] == LAVAL]),
            per_1000(month[month["code_insee"] == CHATEAU_GONTIER]),
        ]
    )


def test_compare_view_over_http(client_president, portal) -> None:  # type: ignore[no-untyped-def]
    dashboard = portal.registry.dashboards["rsa"]
    chosen = {
        "t1": f"epci:{LAVAL_EPCI}",
        "t2": f"commune:{LAVAL}",
        "t3": "commune:nope",
        "t4": f"commune:{LAVAL}",
    }
    shown = " ".join(texts(widget_content(client_president, dashboard, "comparer", "departement:53", "2020", chosen)))
    month = rsa()[rsa()["date"] == pd.Timestamp(OCT_2020)]
    assert f"{per_1000(month[month['code_insee'] == LAVAL]):.1f}".replace(".", ",") in shown
    assert "CA Laval Agglomération" in shown and "Laval" in shown
    alone = " ".join(
        texts(
            widget_content(
                client_president,
                dashboard,
                "comparer",
                "departement:53",
                "2020",
                {"t1": f"commune:{LAVAL}"},
            )
        )
    )
    assert "au moins deux territoires" in alone


def test_kpis_of_a_dashboard_share_their_queries(portal) -> None:  # type: ignore[no-untyped-def]
    """KPIs reading one dataset with the same filters ask one query carrying all their measures."""
    from layouts.kpi import Kpi

    fibre = portal.registry.dashboards["fibre"]
    ctx = context(portal, "fibre", f"commune:{LAVAL}", "2018")
    widgets = [fibre.widget("taux"), fibre.widget("raccordables")]

    def queries(batch: bool) -> set[Any]:
        with recorded_queries(portal) as seen:
            for widget in widgets:
                Kpi.evaluator(widget, ctx, batch=batch).result(widget.compare_items(), widget.sparkline)
        return {q for q in seen if q.dataset == "fibre_communes"}

    shared, alone = queries(batch=True), queries(batch=False)
    assert len(shared) == 2 and len(alone) == 4  # by period and by territory, once instead of twice
    assert all(len(q.measures) == 2 for q in shared)  # sum(locaux_raccordables), sum(locaux_total)


# --------------------------------------------------------------------------- 4. overview, cards


@pytest.fixture(scope="module")
def client_president(app):  # type: ignore[no-untyped-def]
    """Signed in once for the module (not entered with `with`: see tests/conftest.py)."""
    test_client = app.server.test_client()
    login_as(test_client, "president")
    return test_client


@pytest.fixture(scope="module")
def client_manager(app):  # type: ignore[no-untyped-def]
    test_client = app.server.test_client()
    login_as(test_client, "manager.finances")
    return test_client


def plain(tree: Any) -> str:
    """The strings of a component tree, narrow no-break spaces read as spaces."""
    return " ".join(texts(tree)).replace("\u202f", " ")


def routed(client: Any, path: str) -> str:
    """The page the router callback returns for ``path``, as readable text (JSON, unescaped)."""
    return json.dumps(route(client, path), ensure_ascii=False)


def test_overview_for_the_president_has_every_indicator(client_president, portal) -> None:  # type: ignore[no-untyped-def]
    pilotage = portal.registry.dashboards["pilotage"]
    page = routed(client_president, "/pilotage")
    for widget in pilotage.widgets:
        if widget.type == "kpi":
            assert f'"pilotage--{widget.id}"' in page, widget.id
            shown = " ".join(texts(widget_content(client_president, pilotage, widget.id, "departement:53", None)))
            assert "pilotis-kpi-value" in shown and "Ce widget n'a pas pu" not in shown
    for title in ("Solidarités", "Finances des communes", "Ressources humaines", "Numérique"):
        assert title in page


def test_overview_for_a_manager_has_only_their_indicators(client_manager, portal) -> None:  # type: ignore[no-untyped-def]
    pilotage = portal.registry.dashboards["pilotage"]
    page = routed(client_manager, "/pilotage")
    shown = {w.id for w in pilotage.widgets if f'"pilotage--{w.id}"' in page}
    assert shown == {"fin_fonctionnement", "fin_equipement"}
    assert "Finances des communes" in page
    for title in ("Solidarités", "Ressources humaines", "Numérique", "Foyers allocataires"):
        assert title not in page  # no empty section, no label of another direction
    assert '"/finances"' in page and '"/rsa"' not in page
    # the callback of another direction's KPI: 403 and no data, also hidden from the callback graph
    response = post_callback(
        client_manager,
        pilotage.dom_id("rsa_foyers"),
        "children",
        widget_inputs(pilotage, "departement:53", None),
    )
    assert response.status_code == 403 and "foyers" not in response.get_data(as_text=True)
    listed = {cb["output"] for cb in client_manager.get("/_dash-dependencies").get_json()}
    assert "pilotage--fin_equipement.children" in listed and "pilotage--rsa_foyers.children" not in listed
    content = " ".join(texts(widget_content(client_manager, pilotage, "fin_fonctionnement", "departement:53", None)))
    assert "/indicateurs/finances.depenses_fonctionnement" in content and "Voir : Finances des communes" in content


def test_indicator_visibility_follows_the_thematic_dashboards(portal) -> None:  # type: ignore[no-untyped-def]
    registry = portal.registry
    expected = {
        ("president", "rsa.foyers_allocataires"): True,
        ("manager.finances", "rsa.foyers_allocataires"): False,
        ("manager.finances", "finances.depenses_fonctionnement"): True,
        ("manager.finances", "territoire.population"): True,  # in a formula shown on /finances
        ("agent.rsa", "rsa.foyers_allocataires"): True,
        ("agent.rsa", "finances.depenses_fonctionnement"): False,
        ("agent.rh", "territoire.population"): False,
        ("admin", "rh.effectif"): True,
    }
    for (username, indicator), allowed in expected.items():
        assert can_view_indicator(demo(username), registry, indicator) == allowed, (
            username,
            indicator,
        )
    assert not can_view_indicator(None, registry, "rsa.foyers_allocataires")
    pilotage = registry.dashboards["pilotage"]
    assert can_view_widget(demo("manager.finances"), registry, pilotage, "fin_equipement")
    assert not can_view_widget(demo("manager.finances"), registry, pilotage, "rsa_foyers")
    assert not can_view_widget(demo("agent.rsa"), registry, pilotage, "rsa_foyers")  # not a manager


def test_indicator_cards_are_access_controlled_pages(app, client_president, client_manager) -> None:  # type: ignore[no-untyped-def]
    path = "/indicateurs/rsa.foyers_allocataires"
    assert client_president.get(path).status_code == 200
    assert client_manager.get(path).status_code == 403
    assert client_manager.get("/indicateurs/finances.depenses_fonctionnement").status_code == 200
    assert client_president.get("/indicateurs/rsa.inconnu").status_code == 404
    with app.server.test_client() as anonymous:
        response = anonymous.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    card = routed(client_president, path)
    for expected in (
        "Foyers allocataires du RSA",
        "Définition",
        "dernier jour du mois",
        "sum(foyers_allocataires)",
        "Direction des solidarités",
        "Observatoire social départemental",
        "mailto:observatoire-social@example.org",
        "mensuelle",
        "octobre 2020",
        "Observatoire du RSA",
        "Foyers allocataires pour 1 000 habitants",
    ):  # used by: the per-1,000 rate
        assert expected in card, expected
    denied = routed(client_manager, path)
    assert "Accès refusé" in denied and "Observatoire social" not in denied
    formula = routed(client_president, "/indicateurs/rsa.foyers_pour_1000")
    assert '"/indicateurs/territoire.population"' in formula and "÷" in formula


def test_catalogue_lists_what_the_user_may_see(client_president, client_manager) -> None:  # type: ignore[no-untyped-def]
    everything = routed(client_president, "/indicateurs")
    assert "Foyers allocataires du RSA" in everything and "Masse salariale" in everything
    theirs = routed(client_manager, "/indicateurs")
    assert "Dépenses de fonctionnement des communes" in theirs
    assert "Foyers allocataires" not in theirs and "Masse salariale" not in theirs


def test_a_territory_without_data_has_no_value_rather_than_zero() -> None:
    """Ranks and « Comparer des territoires » add partial sums per territory: a commune whose rows
    are all NULL must stay without value (as SQL's SUM does), not count as 0 in the ranking."""
    sums = {Agg("sum", "foyers"): "p0"}
    frame = pd.DataFrame({"commune": ["53130", "53130", "53001"], "p0": [12.0, 3.0, None]})
    by_commune = grouped_by(frame, "commune", sums)
    assert by_commune.loc["53130", "p0"] == 15.0
    assert pd.isna(by_commune.loc["53001", "p0"])
    by_key = regroup(frame, ("commune",), sums).set_index("commune")
    assert by_key.loc["53130", "p0"] == 15.0 and pd.isna(by_key.loc["53001", "p0"])
