"""The portal serves its pages and every widget callback answers."""

from __future__ import annotations

import pytest

from tests.helpers import find_figures, widget_content


def test_home_page_is_french(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/")
    assert response.status_code == 200
    assert b'<html lang="fr">' in response.data


def test_unknown_page_is_404(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/pas-une-page").status_code == 404


@pytest.mark.parametrize("territory", ["departement:53", "epci:200083392", "commune:53130"])
def test_rsa_map_follows_territory(client, portal, territory: str) -> None:  # type: ignore[no-untyped-def]
    dashboard = portal.registry.dashboards["rsa"]
    content = widget_content(client, dashboard, "carte", territory, "2019")
    figure = find_figures(content)[0]
    codes = set(figure["data"][0]["locations"])
    expected = {"departement:53": 240, "epci:200083392": 34, "commune:53130": 1}[territory]
    assert len(codes) == expected
