"""The data catalogue (/donnees): each user sees the datasets behind what they may see — never
more — with how and when each is refreshed, the period covered and the last update."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from pilotis.accounts.users import DEMO_USERS
from pilotis.core.settings import ROOT
from tests.helpers import login_as, route, texts
from tests.test_access_matrix import component_values

ALL_DATASETS = {
    name for path in sorted((ROOT / "config" / "datasets").glob("*.yaml")) for name in yaml.safe_load(path.read_text())
}
REFERENCE = {"communes", "epci"}


def rows(tree: Any) -> dict[str, Any]:
    """The props of the catalogue's table rows by dataset id (``<tr id="jeu-<dataset>">``)."""
    return {key[4:]: props for key, props in component_values(tree).items() if key.startswith("jeu-")}


def links(tree: Any) -> list[str]:
    """Every ``href`` inside a component tree (or a component's props)."""
    if isinstance(tree, dict):
        props = tree.get("props", tree)
        own = [props["href"]] if isinstance(props.get("href"), str) else []
        return own + [h for value in props.values() for h in links(value)]
    if isinstance(tree, list):
        return [h for item in tree for h in links(item)]
    return []


def yaml_datasets(dashboard_file: Path) -> set[str]:
    """The `dataset:` of every widget of a dashboard file, read with PyYAML (not the engine)."""
    raw = yaml.safe_load(dashboard_file.read_text(encoding="utf-8"))
    return {w["dataset"] for w in raw.get("widgets", []) if isinstance(w, dict) and "dataset" in w}


@pytest.mark.parametrize("username", [u.username for u in DEMO_USERS])
def test_each_user_sees_the_datasets_behind_what_they_may_see(app, portal, username: str) -> None:  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    login_as(client, username)
    shown = rows(route(client, "/donnees"))
    assert client.get("/donnees").status_code == 200
    opened = []
    for dashboard in portal.registry.ordered():
        if client.get(dashboard.spec.url).status_code == 200:
            opened.append(dashboard)
            if not dashboard.spec.overview:  # a thematic dashboard: every widget is shown
                missing = yaml_datasets(dashboard.source_file) - set(shown)
                assert not missing, f"{username}: {dashboard.id} reads {missing}, not in the catalogue"
    for dataset, row in shown.items():
        hrefs = links(row)
        for href in hrefs:
            assert client.get(href).status_code == 200, f"{username}: {dataset} links to {href}, a page refused"
        if username != "admin" and dataset not in REFERENCE:
            used = [h for h in hrefs if not h.startswith("/donnees/")]  # not the dataset's own page
            assert used, f"{username} sees {dataset}, which no dashboard they open reads"
    if username == "admin":
        assert set(shown) == ALL_DATASETS
    if opened:
        assert REFERENCE <= set(shown)  # the territory filter reads them


def test_agents_of_one_theme_do_not_see_another_themes_data(app) -> None:  # type: ignore[no-untyped-def]
    rsa, finances = app.server.test_client(), app.server.test_client()
    login_as(rsa, "agent.rsa")
    login_as(finances, "manager.finances")
    seen_by_rsa, seen_by_finances = set(rows(route(rsa, "/donnees"))), set(rows(route(finances, "/donnees")))
    assert "rsa_communes" in seen_by_rsa and "finances_communes" not in seen_by_rsa
    assert "finances_communes" in seen_by_finances and "rsa_communes" not in seen_by_finances


def test_each_row_says_source_refresh_period_and_last_update(app, portal) -> None:  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    login_as(client, "agent.rsa")
    tree = route(client, "/donnees")
    row = " ".join(texts(rows(tree)["rsa_departements"]))
    config = portal.registry.datasets["rsa_departements"].config
    assert config.title in row and "Fichier CSV" in row
    assert "Mis à jour le" in row and "Pas encore lu" not in row
    assert "relu" in row  # the refresh policy in words
    # the period covered, from the data itself (an independent read of the CSV)
    import pandas as pd

    dates = pd.to_datetime(pd.read_csv(ROOT / config.path, sep=None, engine="python")[config.period.column])
    assert str(dates.min().year) in row and str(dates.max().year) in row
    body = json.dumps(tree)
    assert ".csv" not in body and str(ROOT) not in body  # where a source lives is not shown


def test_signed_out_visitors_are_sent_to_sign_in(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/donnees")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "options,fr,en",
    [
        ({"refresh": {"every": "15min"}}, "relu toutes les 15\u00a0min", "read again every 15\u00a0min"),
        ({"refresh": {"every": "1h"}}, "relu toutes les heures", "read again every hour"),
        ({"refresh": {"at": ["06:30", "13:00"]}}, "relu chaque jour à 06:30, 13:00 (heure de Paris)", "daily at 06:30"),
        ({"refresh": {"cron": "30 6 * * 1-5"}}, "selon le calendrier « 30 6 * * 1-5 »", "on schedule “30 6 * * 1-5”"),
        ({"ttl": "10min"}, "relu à la demande, au plus 10\u00a0min après la lecture précédente", "at most 10\u00a0min"),
        ({"ttl": "30s"}, "au plus 30\u00a0s après", "at most 30\u00a0s"),
    ],
)
def test_refresh_policy_in_words(options: dict[str, Any], fr: str, en: str) -> None:
    from pilotis.core.schema import DatasetBase
    from pilotis.web.data_catalogue import refresh_text

    config = DatasetBase(type="csv", title="t", **options)
    assert fr in refresh_text(config, "fr") and en in refresh_text(config, "en")
