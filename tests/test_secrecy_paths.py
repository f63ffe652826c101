"""No path shows a small count masked by statistical secrecy (the demo's rule on `rsa_communes`:
counts of 1 to 4 households shown « < 5 » to everyone but `admin`).

For `agent.rsa` (not exempt), every way out of the portal is read as a user reaches it — the page
callback of the RSA dashboard, the séance (live and frozen), the CSV / XLSX exports, the JSON API
(dataset query, widget data, indicator), the comparisons and the ranks of the KPI cards — and
checked against the real file read with pandas: the small counts are « < 5 » or null, never their
value; in every EPCI the masked communes are 0 or at least 2 and the EPCI's total minus the
visible communes is never below the threshold (secondary suppression); `admin` sees exact counts.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader

from pilotis.accounts import snapshots
from pilotis.core.evaluator import Evaluator
from pilotis.core.freshness import observing
from pilotis.core.positions import RANKINGS
from pilotis.core.settings import ROOT
from pilotis.core.territory import Territory
from pilotis.core.territory_comparison import COMPARED, compare_territories
from pilotis.ui.seance_render import render as render_seance
from tests.helpers import (
    api_token,
    bearer,
    find_class,
    find_figures,
    html_table_rows,
    page_callback,
    route,
    signed_in,
    texts,
    widget_content,
)
from tests.test_seance import call, freeze_body
from tests.test_widget_data import demo, values

OCT_2020 = pd.Timestamp("2020-10-01")


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    """Households per commune in October 2020 (the latest month), their EPCI, the small ones."""
    frame = pd.read_parquet(ROOT / "data/rsa_communes_mensuel.parquet")
    frame["date"] = pd.to_datetime(frame["date"])
    month = frame[frame["date"] == OCT_2020]
    counts = month.set_index("code_insee")["foyers_allocataires"].astype(int)
    before = frame[frame["date"] == pd.Timestamp("2019-10-01")].set_index("code_insee")["foyers_allocataires"]
    return {
        "counts": counts,
        "before": before.astype(int),
        "epci": month.set_index("code_insee")["epci_siren"].astype(str),
        "small": {c for c, v in counts.items() if 0 < v < 5},
    }


def table_of(client: Any, portal: Any, territory: str) -> dict[str, float | None]:
    """The « Communes » table of the RSA page as the page callback answers it (None: « < 5 »)."""
    rsa = portal.registry.dashboards["rsa"]
    response = page_callback(client, rsa, territory, "2020")
    assert response.status_code == 200, response.data[:300]
    content = response.get_json()["response"][rsa.dom_id("communes")]["children"]
    return {row["code_insee"]: row["m0"] for row in html_table_rows(content)}


def check_secondary(shown: dict[str, float | None], truth: dict[str, Any]) -> None:
    """Every small count is masked; in each EPCI, 0 or ≥ 2 masked communes and the EPCI total
    (shown on its own page) minus the visible communes is at least the threshold."""
    counts, epci = truth["counts"], truth["epci"]
    hidden = {c for c, v in shown.items() if v is None}
    assert truth["small"] & set(shown) <= hidden
    for code, value in shown.items():
        assert value is None or value == counts[code], code  # what is shown is exact
    for group in set(epci[list(shown)]):
        members = [c for c in shown if epci[c] == group]
        masked = [c for c in members if c in hidden]
        left = int(counts[members].sum()) - sum(int(shown[c]) for c in members if c not in hidden)  # type: ignore[arg-type]
        assert len(masked) != 1 and (not masked or left >= 5), (group, masked, left)


def test_the_page_masks_small_counts_with_secondary_suppression(app, portal, login_as, truth) -> None:  # type: ignore[no-untyped-def]
    agent = signed_in(app, "agent.rsa")
    shown = table_of(agent, portal, "departement:53")
    assert len(shown) == 240 and any(v is None for v in shown.values())
    check_secondary(shown, truth)
    admin = signed_in(app, "admin")  # exempt: every count exact, nothing masked
    assert table_of(admin, portal, "departement:53") == {c: float(v) for c, v in truth["counts"].items()}


def test_a_small_commune_page_shows_less_than_5_everywhere(app, portal, login_as, truth) -> None:  # type: ignore[no-untyped-def]
    code = sorted(truth["small"])[0]
    exact = int(truth["counts"][code])
    rsa = portal.registry.dashboards["rsa"]
    agent = signed_in(app, "agent.rsa")
    answer = page_callback(agent, rsa, f"commune:{code}", "2020").get_json()["response"]
    kpi = answer[rsa.dom_id("foyers")]["children"]
    assert texts(find_class(kpi, "pilotis-kpi-value"))[0] == "< 5"
    assert any("secret statistique" in text for text in texts(kpi))
    positions = answer[rsa.dom_id("positions")]["children"]  # per 1,000 inhabitants: the count back
    assert texts(find_class(positions, "pilotis-kpi-value"))[0] == "< 5"
    assert not any(re.search(r"\b\d+(e|er)? sur \d+", t) for t in texts(positions))  # no rank
    table = html_table_rows(answer[rsa.dom_id("communes")]["children"])
    assert table == [{"code_insee": code, "code_insee_nom": table[0]["code_insee_nom"], "m0": None}]
    box = json.dumps(answer[rsa.dom_id("communes")])
    cells = json.loads(re.search(r'"data-rows": ("(?:[^"\\]|\\.)*")', box).group(1))  # type: ignore[union-attr]
    assert json.loads(cells)[0][2] == ["< 5", "", "secret statistique"]  # <abbr title="secret statistique">
    line = find_figures(answer[rsa.dom_id("evolution")]["children"])[0]["data"][0]
    months = pd.read_parquet(ROOT / "data/rsa_communes_mensuel.parquet").query("code_insee == @code")
    small_months = int(((months["foyers_allocataires"] > 0) & (months["foyers_allocataires"] < 5)).sum())
    compared = widget_content(
        agent, rsa, "comparer", "departement:53", "2020", {"t1": f"commune:{code}", "t2": "epci:200083392"}
    )
    assert any(text.startswith("< 5 (") for text in texts(compared))  # « < 5 (octobre 2020) »
    # its « Voir les données »: each month the commune's panel leaves out says « < 5 », not « – »
    series = [json.loads(json.loads(m)) for m in re.findall(r'"data-rows": ("(?:[^"\\]|\\.)*")', json.dumps(compared))]
    commune_cells = [row[1] for rows in series for row in rows]
    in_2020 = months[months["date"].astype(str).str.startswith("2020")]["foyers_allocataires"]
    small_2020 = int(((in_2020 > 0) & (in_2020 < 5)).sum())
    assert commune_cells.count(["< 5", "", "secret statistique"]) >= small_2020 > 0, commune_cells
    drawn = values(line["y"])  # the months drawn (NaN: a gap)
    assert len(line["x"]) - len(drawn) >= small_months > 0 and exact < 5  # gaps, never the small values
    assert all(v >= 5 for v in drawn)


def test_comparisons_and_ranks_never_use_a_masked_value(portal, truth) -> None:  # type: ignore[no-untyped-def]
    rsa = portal.registry.dashboards["rsa"]
    indicator = portal.registry.indicators["rsa.foyers_pour_1000"]
    agent = demo("agent.rsa")
    small = sorted(truth["small"])[0]
    ctx = portal.render_context(rsa, f"commune:{small}", "2020", principal=agent)
    result = Evaluator(ctx, indicator).result(["previous_year", "departement", "epci", "rank"])
    assert result.value is None and result.secret == "< 5"
    assert all(c.value is None for c in result.comparisons)  # no delta, no rank, nothing computed from it
    # a visible commune whose count a year before was small: no change from a masked value
    everyone = portal.render_context(rsa, "departement:53", "2020", principal=agent)
    shown = Evaluator(everyone, indicator).positions.units(Evaluator(everyone, indicator).window(), "commune")
    assert shown is not None
    visible = {c for c, v in shown.items() if not pd.isna(v)}
    assert truth["small"].isdisjoint(visible) and len(visible) < 240
    grown = next(c for c in sorted(visible) if 0 < truth["before"][c] < 5)
    ctx = portal.render_context(rsa, f"commune:{grown}", "2020", principal=agent)
    result = Evaluator(ctx, indicator).result(["previous_year", "rank"])
    year = next(c for c in result.comparisons if c.kind == "previous_year")
    assert result.value is not None and year.reference is None
    rank = next(c for c in result.comparisons if c.kind == "rank")
    assert rank.count == len(visible)  # ranked among the communes shown, never by a hidden value
    # the compare view: a small commune beside others is « < 5 » there too
    found = compare_territories(ctx, indicator, [Territory("commune", small), Territory("epci", truth["epci"][small])])
    values = [evaluator.value(evaluator.window()) for _, evaluator in found]
    assert values[0] is None and values[1] is not None


def test_a_ranking_shared_between_changes_is_the_viewers_own(portal, truth) -> None:  # type: ignore[no-untyped-def]
    """Ranks come from one ranking per year shared by every commune and card (positions.RANKINGS):
    a viewer exempt from statistical secrecy and one who is not never get each other's."""
    rsa = portal.registry.dashboards["rsa"]
    indicator = portal.registry.indicators["rsa.foyers_pour_1000"]
    communes = list(truth["counts"].sort_values().index[-2:])  # the largest: shown to everyone

    def rank(username: str, commune: str) -> Any:
        ctx = portal.render_context(rsa, f"commune:{commune}", "2020", principal=demo(username))
        return next(c for c in Evaluator(ctx, indicator).result(["rank"]).comparisons if c.kind == "rank")

    hits = RANKINGS.hits
    masked = rank("agent.rsa", communes[0]).count
    assert masked < 240 and rank("admin", communes[0]).count == 240  # exact small counts: every commune
    assert rank("agent.rsa", communes[1]).count == masked and rank("admin", communes[1]).count == 240
    assert RANKINGS.hits >= hits + 2  # the second commune of each viewer was a look-up
    # a look-up reports the observations of the results it was made of (« mis à jour le »)
    ctx = portal.render_context(rsa, f"commune:{communes[0]}", "2020", principal=demo("agent.rsa"))
    evaluator = Evaluator(ctx, indicator)
    window = evaluator.window()
    with observing() as seen:
        assert evaluator.positions.ranking(window, "commune") is not None
    assert {o.dataset for o in seen} == {"rsa_communes", "communes"}


def test_compared_rows_shared_between_changes_are_the_viewers_own(portal, truth) -> None:  # type: ignore[no-untyped-def]
    """The compare view's rows are kept per year for every change (territory_comparison.COMPARED):
    a small commune stays « < 5 » for a masked viewer after an exempt one saw it exact."""
    rsa = portal.registry.dashboards["rsa"]
    indicator = portal.registry.indicators["rsa.foyers_allocataires"]
    small = sorted(truth["small"])[0]
    compared = [Territory("commune", small), Territory("epci", truth["epci"][small])]

    def values(username: str, chosen: str) -> list[Any]:
        ctx = portal.render_context(rsa, chosen, "2020", principal=demo(username))
        return [ev.value(ev.window()) for _, ev in compare_territories(ctx, indicator, compared, page=ctx.page())]

    hits = COMPARED.hits
    for chosen in ("commune:53130", "commune:53062"):  # the page's filter changes, the compared stay
        exact, masked = values("admin", chosen), values("agent.rsa", chosen)  # the exact rows first
        assert masked[0] is None and masked[1] is not None
        assert exact == [float(truth["counts"][small]), exact[1]] and exact[1] is not None
    assert COMPARED.hits >= hits + 2


def test_exports_of_the_kpi_and_the_table(app, login_as, truth) -> None:  # type: ignore[no-untyped-def]
    code = sorted(truth["small"])[0]
    agent = signed_in(app, "agent.rsa")
    text = agent.get(f"/exports/rsa/foyers.csv?territoire=commune:{code}&annee=2020").data.decode("utf-8-sig")
    assert "# Secret statistique" in text
    assert re.search(r"^valeur;< 5;", text, re.M), text
    book = openpyxl.load_workbook(io.BytesIO(agent.get("/exports/rsa/communes.xlsx?annee=2020").data))
    rows = {r[0]: r[2] for r in book["Données"].iter_rows(min_row=2, values_only=True)}
    assert all(rows[c] == "< 5" for c in truth["small"])
    check_secondary({c: None if v == "< 5" else v for c, v in rows.items()}, truth)


def _pdf_text(client: Any, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf", response.data[:300]
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)


def test_the_commission_report_and_the_dashboard_pdf(app, login_as, truth) -> None:  # type: ignore[no-untyped-def]
    names = pd.read_csv(ROOT / "data/communes.csv", dtype=str).set_index("code_insee")["nom"]
    agent = signed_in(app, "agent.rsa")
    report = re.sub(
        r"\s+", " ", _pdf_text(agent, "/rapports/commission-rsa.pdf?territoire=departement:53&periode=2020")
    )
    assert "secret statistique" in report
    for code in sorted(truth["small"])[:10]:  # a small commune's row: « < 5 », never its count
        row = re.search(re.escape(names[code]) + r" (\S+)", report)
        assert row and row.group(1) == "<", (code, row and row.group(0))
    code = sorted(truth["small"])[0]
    page = re.sub(r"\s+", " ", _pdf_text(agent, f"/exports/rsa.pdf?territoire=commune:{code}&annee=2020"))
    assert "< 5" in page and "secret statistique" in page
    assert not re.search(re.escape(names[code]) + r" [1-4]\b", page)


def test_the_anomaly_form_attaches_what_the_page_shows(app, login_as, truth) -> None:  # type: ignore[no-untyped-def]
    code = sorted(truth["small"])[0]
    agent = signed_in(app, "agent.rsa")
    form = agent.get(f"/signalements/nouveau?tableau=rsa&widget=communes&territoire=commune:{code}&annee=2020")
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and "&lt; 5" in html  # the values attached, masked as on the page
    assert "_secret" not in html and f">{int(truth['counts'][code])}<" not in html


def test_the_api_returns_null_and_says_secret(app, db, truth) -> None:  # type: ignore[no-untyped-def]
    code = sorted(truth["small"])[0]
    client = app.server.test_client()
    agent, admin = bearer(api_token(db, "agent.rsa")), bearer(api_token(db, "admin"))
    url = "/api/v1/datasets/rsa_communes/query?measure=n=sum(foyers_allocataires)&group_by=code_insee&limit=500"
    body = client.get(url, headers=agent).get_json()
    assert body["secret"] == "< 5" and all(c["name"] != "_secret" for c in body["columns"])
    rows = {r["code_insee"]: r for r in body["rows"]}
    assert all(rows[c]["n"] is None and rows[c]["secret"] is True for c in truth["small"])
    check_secondary({c: r["n"] for c, r in rows.items()}, truth)
    exact = client.get(url, headers=admin).get_json()
    assert exact["secret"] is None and {r["code_insee"]: r["n"] for r in exact["rows"]} == truth["counts"].to_dict()
    csv = client.get(url + "&format=csv", headers=agent).get_data(as_text=True)
    assert f"{code},< 5," in csv or f"{code},< 5\r" in csv
    widget = client.get("/api/v1/dashboards/rsa/widgets/communes?year=2020", headers=agent).get_json()
    assert widget["secret"] == "< 5"
    assert all(r["m0"] is None for r in widget["rows"] if r["code_insee"] in truth["small"])
    value = client.get(f"/api/v1/indicators/rsa.foyers_allocataires?territory=commune:{code}", headers=agent)
    assert value.get_json()["value"] is None and value.get_json()["secret"] == "< 5"
    seen = client.get(f"/api/v1/indicators/rsa.foyers_allocataires?territory=commune:{code}", headers=admin)
    assert seen.get_json()["value"] == truth["counts"][code] and seen.get_json()["secret"] is None


def test_the_seance_and_its_snapshots(app, portal, login_as, truth) -> None:  # type: ignore[no-untyped-def]
    """The séance's map of Laval Agglomération: the small communes in grey without a value; a
    rendering made for the exempt admin is never served to the agent (shared séance cache)."""
    seance = portal.registry.seances["commission-rsa"]
    exact = render_seance(portal, seance, demo("admin"), "fr", 300)  # first, into the shared cache
    masked = render_seance(portal, seance, demo("agent.rsa"), "fr", 300)

    def maps(rendered: Any) -> list[dict[str, Any]]:
        return [s.figure for s in rendered.slots if s.figure and s.figure["data"][0].get("type") == "choropleth"]

    assert maps(masked) and all(len(m["data"]) == 2 and m["data"][1]["name"] == "secret" for m in maps(masked))
    for figure in maps(masked):
        coloured = set(figure["data"][0]["locations"])
        assert coloured.isdisjoint(truth["small"]) and truth["small"] & set(figure["data"][1]["locations"])
    assert all(len(m["data"]) == 1 for m in maps(exact))
    # snapshots: the agent's keeps « < 5 »; the admin's (exact counts) opens for exempt roles only
    agent, admin = signed_in(app, "agent.rsa"), signed_in(app, "admin")
    links = {}
    for name, client in (("agent", agent), ("admin", admin)):
        frozen = call(client, freeze_body(seance))
        children = json.loads(frozen.data)["response"][seance.dom_id("frozen")]["children"]
        links[name] = next(n for n in children if isinstance(n, dict) and n.get("type") == "A")["props"]["href"]
    store = app.server.extensions["pilotis_db"]
    mine = snapshots.load(store, links["agent"].rsplit("/", 1)[1])
    theirs = snapshots.load(store, links["admin"].rsplit("/", 1)[1])
    assert mine is not None and theirs is not None
    assert "exact_counts" not in mine.content and theirs.content["exact_counts"] == ["rsa_communes"]
    assert "secret" in json.dumps(mine.content) and '"name": "secret"' not in json.dumps(theirs.content)
    assert agent.get(links["agent"]).status_code == 200
    assert agent.get(links["admin"]).status_code == 403  # exact small counts: not for him
    assert admin.get(links["agent"]).status_code == 200


def test_the_catalogue_states_the_rule(app, login_as) -> None:  # type: ignore[no-untyped-def]
    agent = signed_in(app, "agent.rsa")
    shown = " ".join(texts(route(agent, "/donnees/rsa_communes")))
    assert "Effectifs inférieurs à 5 affichés « < 5 » (secret secondaire compris)" in shown
    assert "valeurs exactes pour les rôles : admin" in shown
