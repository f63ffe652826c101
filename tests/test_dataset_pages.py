"""A dataset's page of the catalogue (/donnees/<id>): field dictionary, licence, promised and
observed update rhythm, sensitivity, referent, and a preview of the rows the viewer may read."""

from __future__ import annotations

from datetime import date

import pandas as pd

from pilotis.core.catalogue import expected_by, is_late
from pilotis.core.schema_catalogue import UpdatePromise
from pilotis.core.settings import ROOT
from tests.helpers import login_as, route, texts
from tests.test_data_catalogue import rows


def test_a_dataset_page_is_refused_to_who_may_not_see_the_dataset(app) -> None:  # type: ignore[no-untyped-def]
    rh = app.server.test_client()
    login_as(rh, "agent.rh")
    assert rh.get("/donnees/rh_paie").status_code == 200
    assert rh.get("/donnees/rsa_communes").status_code == 403
    assert "Accès refusé" in texts(route(rh, "/donnees/rsa_communes"))
    assert "Foyers allocataires" not in texts(route(rh, "/donnees/rsa_communes"))
    assert rh.get("/donnees/nexiste_pas").status_code == 404


def test_the_page_describes_the_dataset(agent_client) -> None:  # type: ignore[no-untyped-def]
    shown = texts(route(agent_client, "/donnees/rsa_departements"))
    assert "Dictionnaire des champs" in shown
    assert "Foyers bénéficiaires du RSA payés au titre du mois (Cnaf et MSA), à la fin du mois." in shown
    assert "Licence Ouverte / Etalab 2.0" in shown
    assert "https://www.etalab.gouv.fr/licence-ouverte-open-licence/" in shown
    assert "promise : mensuelle, sous 90\u00a0j après la période" in shown
    assert "en retard" in shown  # the demo data stops in 2020: far past its promised monthly update
    assert any(s.startswith("Tous les départements — depuis janvier 2016 — ") for s in shown)
    communes = texts(route(agent_client, "/donnees/rsa_communes"))
    assert "secret statistique" in communes
    assert "/referents#ref-dataset-rsa_communes" in communes  # the entry links to its referent


def test_the_preview_holds_only_the_rows_the_viewer_may_read(app) -> None:  # type: ignore[no-untyped-def]
    laval = app.server.test_client()
    login_as(laval, "agent.laval")  # restricted to Laval Agglomération (EPCI 200083392)
    shown = texts(route(laval, "/donnees/rsa_communes"))
    rows = pd.read_parquet(ROOT / "data" / "rsa_communes_mensuel.parquet")
    others = set(rows.loc[rows["epci_siren"] != "200083392", "code_insee"])
    own = set(rows.loc[rows["epci_siren"] == "200083392", "code_insee"])
    assert own & set(shown) and not others & set(shown)
    president = app.server.test_client()
    login_as(president, "president")
    every = texts(route(president, "/donnees/rsa_communes"))
    first = rows.iloc[0]["code_insee"]
    assert first in every


def test_late_means_the_promised_update_is_overdue() -> None:
    monthly = UpdatePromise(frequency="monthly", delay="60j")
    assert expected_by(date(2020, 12, 1), "month", monthly) == date(2021, 4, 2)
    assert not is_late(date(2020, 12, 1), "month", monthly, date(2021, 4, 2))
    assert is_late(date(2020, 12, 1), "month", monthly, date(2021, 4, 3))
    assert not is_late(date(2019, 1, 1), "year", UpdatePromise(frequency="irregular"), date(2026, 1, 1))
    assert not is_late(None, "month", monthly, date(2026, 1, 1))
    assert not is_late(date(2019, 1, 1), "year", None, date(2026, 1, 1))


def test_the_catalogue_flags_late_datasets(agent_client) -> None:  # type: ignore[no-untyped-def]
    shown = rows(route(agent_client, "/donnees"))
    assert "en retard" in texts(shown["rsa_departements"])  # promised monthly, data stops in 2020
    assert "en retard" not in texts(shown["rsa_communes"])  # no promise: never flagged
