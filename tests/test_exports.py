"""/exports/<dashboard>/<widget>.<csv|xlsx> as users reach it: the same access decision and the
same rows as the page, 404 for what a user may not see, 400 naming a bad parameter, audited.

Expected figures are recomputed here from the source files with pandas (commune → EPCI
membership from ``data/communes.csv``), independently of the engine.
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Callable
from typing import Any

import openpyxl
import pandas as pd
import pytest
from dash import Dash
from flask.testing import FlaskClient

from pilotis.accounts import audit
from pilotis.accounts.db import Database
from pilotis.core.settings import ROOT
from pilotis.ui.portal import Portal
from tests.helpers import find_class, route, signed_in, texts

LAVAL = "200083392"
OTHER_EPCI = "200055887"
HEADER_LINES = 9  # the eight « # … » lines and an empty line (pilotis/core/exports.py: about)


@pytest.fixture(scope="module")
def rsa() -> dict[str, Any]:
    """The RSA table of the demo, read with pandas: rows at the last month of 2019, Laval's communes."""
    communes = pd.read_csv(ROOT / "data/communes.csv", dtype=str)
    members = set(communes.loc[communes["epci_siren"] == LAVAL, "code_insee"])
    frame = pd.read_parquet(ROOT / "data/rsa_communes_mensuel.parquet")
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    last_2019 = max(d for d in frame["date"] if d.year == 2019)
    at = frame[frame["date"] == last_2019]
    return {"members": members, "all": at, "laval": at[at["code_insee"].isin(members)]}


def read_csv(body: bytes) -> pd.DataFrame:
    # the header block, then one more line when cells are masked (« # Secret statistique : … »)
    lines = HEADER_LINES + body.decode("utf-8-sig").count("# Secret statistique")
    return pd.read_csv(io.BytesIO(body), sep=";", decimal=",", skiprows=lines, dtype={"Code INSEE": str})


def check_masked(frame: pd.DataFrame, expected: pd.Series) -> None:
    """The file shows each commune's count, or « < 5 » (statistical secrecy, the demo's rule):
    every count from 1 to 4 is masked, the others masked with them (secondary suppression) are
    ≥ 5, the numbers shown are exact, and all of them add up with the masked ones to the total."""
    shown = frame.set_index("Code INSEE")["Foyers allocataires"].astype(str)
    masked = shown[shown == "< 5"].index
    assert set(expected[(expected > 0) & (expected < 5)].index) <= set(masked)
    visible = pd.to_numeric(shown.drop(masked).str.replace("\u202f", ""))
    assert (visible == expected[visible.index]).all()
    assert visible.sum() + expected[masked].sum() == expected.sum()


def test_agent_downloads_what_the_page_shows(agent_client: FlaskClient, rsa: dict[str, Any]) -> None:
    response = agent_client.get("/exports/rsa/communes.csv?annee=2019&territoire=departement:53")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert 'attachment; filename="rsa-communes-departement-53-2019.csv"' in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    text = response.data.decode("utf-8-sig")
    assert "# Période : 2019" in text and "# Territoire : Mayenne" in text
    assert "# Données simulées : oui" in text and "# Licence : Licence Ouverte / Etalab 2.0" in text
    frame = read_csv(response.data)
    assert len(frame) == rsa["all"]["code_insee"].nunique()
    assert "# Secret statistique : « < 5 » : secret statistique." in text
    check_masked(frame, rsa["all"].groupby("code_insee")["foyers_allocataires"].sum())


def test_restricted_agent_gets_only_his_rows(app: Dash, login_as: Callable[..., Any], rsa: dict[str, Any]) -> None:
    laval = signed_in(app, "agent.laval")
    expected = rsa["laval"].groupby("code_insee")["foyers_allocataires"].sum()
    # asking for the whole département, or another EPCI, is clamped to his EPCI as on the page
    for territory in ("departement:53", f"epci:{OTHER_EPCI}", None):
        query = f"&territoire={territory}" if territory else ""
        response = laval.get(f"/exports/rsa/communes.csv?annee=2019{query}")
        assert response.status_code == 200
        frame = read_csv(response.data)
        assert set(frame["Code INSEE"]) == set(expected.index) <= rsa["members"]
        check_masked(frame, expected)
        assert "# Territoire : CA Laval Agglomération" in response.data.decode("utf-8-sig")
    book = openpyxl.load_workbook(io.BytesIO(laval.get("/exports/rsa/communes.xlsx?annee=2019").data))
    rows = {row[0]: row[2] for row in book["Données"].iter_rows(min_row=2, values_only=True)}
    assert all(isinstance(v, int) or v == "< 5" for v in rows.values())  # numbers, or masked text
    assert all(rows[code] == "< 5" for code, count in expected.items() if 0 < count < 5)
    assert (
        sum(v for v in rows.values() if isinstance(v, int))
        == expected[[c for c, v in rows.items() if v != "< 5"]].sum()
    )
    about = {row[0]: row[1] for row in book["À propos"].iter_rows(values_only=True)}
    assert about["Secret statistique"].startswith("« < 5 » : secret statistique.")


def test_user_without_the_dashboard_gets_404(
    app: Dash, login_as: Callable[..., Any], agent_client: FlaskClient, db: Database
) -> None:
    finances = signed_in(app, "manager.finances")
    refused = finances.get("/exports/rsa/communes.csv")
    unknown = finances.get("/exports/nowhere/communes.csv")
    assert refused.status_code == unknown.status_code == 404
    assert b"communes" not in refused.data and b"RSA" not in refused.data  # names nothing
    last = audit.search(db, audit.AuditFilter(event="access_denied", username="manager.finances")).rows[0]
    assert last.target == "export rsa/communes"
    # a synthesis dashboard: his direction's cards only
    assert finances.get("/exports/pilotage/fin_fonctionnement.csv").status_code == 200
    assert finances.get("/exports/pilotage/rsa_foyers.csv").status_code == 404
    # no data to hand over (a text), unknown widget or format: 404 as well
    for path in ("/exports/rsa/texte.csv", "/exports/rsa/nope.csv", "/exports/rsa/communes.pdf"):
        assert agent_client.get(path).status_code == 404


def test_anonymous_is_sent_to_the_login_page(client: FlaskClient) -> None:
    response = client.get("/exports/rsa/communes.csv?annee=2019")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"] and "exports" in response.headers["Location"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("territoire=epci:999999999", "territoire"),
        ("territoire=sep:epci", "territoire"),
        ("annee=1900", "annee"),
        ("annee=deux-mille", "annee"),
        ("variante=excel", "variante"),
    ],
)
def test_bad_filter_values_are_refused_by_name(agent_client: FlaskClient, query: str, parameter: str) -> None:
    response = agent_client.get(f"/exports/rsa/communes.csv?{query}")
    assert response.status_code == 400
    assert f"Paramètre « {parameter} »" in response.data.decode()


def test_xlsx_takes_no_csv_variant(agent_client: FlaskClient) -> None:
    response = agent_client.get("/exports/rsa/communes.xlsx?variante=outils")
    assert response.status_code == 400 and "« variante »" in response.data.decode()


def test_row_limit_refuses_with_a_french_message(
    agent_client: FlaskClient, portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(portal, "settings", dataclasses.replace(portal.settings, export_max_rows=10))
    response = agent_client.get("/exports/rsa/communes.csv?annee=2019")
    assert response.status_code == 422
    text = response.data.decode()
    assert "au-delà de la limite de 10 lignes" in text and "territoire ou une période plus restreints" in text
    assert agent_client.get("/exports/rsa/foyers.csv").status_code == 200  # a KPI: a few rows


def test_each_export_is_audited(agent_client: FlaskClient, db: Database) -> None:
    response = agent_client.get("/exports/rsa/comparer.xlsx?t1=departement:53&t2=epci:200083392")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert [r[0] for r in book["Données"].iter_rows(min_row=2, values_only=True)][:2] == [
        "Mayenne",
        "CA Laval Agglomération",
    ]
    event = audit.search(db, audit.AuditFilter(event="export", username="agent.rsa")).rows[0]
    assert event.target == "export rsa/comparer"
    assert event.detail.startswith(f"format xlsx, {book['Données'].max_row - 1} lignes")


def test_page_offers_a_download_menu_per_widget_with_data(agent_client: FlaskClient, portal: Portal) -> None:
    page = route(agent_client, "/rsa")
    menus = find_class(page, "pilotis-download")
    names = ["".join(texts(menu["props"]["children"][0])) for menu in menus]
    dashboard = portal.registry.dashboards["rsa"]
    with_data = [w for w in dashboard.widgets if w.type not in ("markdown", "section")]
    assert len(menus) == len(with_data)  # not under the text « À savoir »
    assert any("Télécharger" in name and " les données de « Communes »" in name for name in names)
    links = find_class(page, "pilotis-export")
    communes = [link["props"]["href"] for link in links if link["props"]["href"].startswith("/exports/rsa/communes.")]
    assert communes == [
        "/exports/rsa/communes.csv",
        "/exports/rsa/communes.csv?variante=outils",
        "/exports/rsa/communes.xlsx",
    ]
    compare = next(link for link in links if "/comparer." in link["props"]["href"])
    assert json.loads(compare["props"]["data-controls"])["t1"] == "rsa--comparer-t1"  # for assets/exports.js
