"""The portal serves its pages and every widget callback answers."""

from __future__ import annotations

import pytest

from tests.helpers import find_figures, widget_content


def test_home_page_is_french(agent_client) -> None:  # type: ignore[no-untyped-def]
    response = agent_client.get("/")
    assert response.status_code == 200
    assert b'<html lang="fr">' in response.data


def test_unknown_page_is_404(agent_client) -> None:  # type: ignore[no-untyped-def]
    assert agent_client.get("/pas-une-page").status_code == 404


def test_signed_out_visitors_are_sent_to_login(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/rsa")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("territory", ["departement:53", "epci:200083392", "commune:53130"])
def test_rsa_map_follows_territory(agent_client, portal, territory: str) -> None:  # type: ignore[no-untyped-def]
    dashboard = portal.registry.dashboards["rsa"]
    content = widget_content(agent_client, dashboard, "carte", territory, "2019")
    figure = find_figures(content)[0]
    # every area drawn: coloured, or grey when statistical secrecy masks its value (2nd trace)
    codes = {code for trace in figure["data"] for code in trace["locations"]}
    expected = {"departement:53": 240, "epci:200083392": 34, "commune:53130": 1}[territory]
    assert len(codes) == expected
