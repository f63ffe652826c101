"""The « Dash + pandas » peer of the benchmark (bench/peers/) shows the same figures as Pilotis.

``bench/bench_peers.py`` compares the cost of a filter change on the RSA page with a plain Dash +
pandas app written the tutorial way; the comparison only means something if both draw the same
numbers. For five territories and two years, the peer's three callbacks (KPI card, monthly line,
choropleth per 1,000 inhabitants) are called as Dash would call them, and what they draw is
compared with what Pilotis renders for the demo admin, who sees exact small counts (widgets ``foyers``, ``evolution``,
``carte`` of dashboards/rsa.yaml).
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.peers import dash_pandas_app as peer
from pilotis.ui.seance_render import plain
from tests.helpers import find_class, texts
from tests.test_widget_data import demo, number, rounded, shown_values, values

TERRITORIES = ("departement:53", "epci:200083392", "epci:245300355", "commune:53130", "commune:53001")
"""The département, Laval Agglomération, the CC de l'Ernée, Laval and Ahuillé."""


def rendered(portal: Any, widget_id: str, territory: str, year: str) -> Any:
    rsa = portal.registry.dashboards["rsa"]
    # `admin`: exempt from the demo's statistical secrecy, sees exact small counts like the peer
    # (which has no secrecy); what a masked viewer sees: tests/test_secrecy_paths.py
    tree = portal.render_widget(rsa, rsa.widget(widget_id), territory, year, principal=demo("admin"))
    return plain(tree)


@pytest.mark.parametrize("territory", TERRITORIES)
@pytest.mark.parametrize("year", ["2020", "2018"])
def test_peer_shows_what_pilotis_shows(portal: Any, territory: str, year: str) -> None:
    shown_kpi = texts(find_class(rendered(portal, "foyers", territory, year), "pilotis-kpi-value"))[0]
    peer_kpi = peer.update_kpi(territory, year)[1].children
    assert number(peer_kpi) == number(shown_kpi) > 0

    rsa = portal.registry.dashboards["rsa"]
    line = peer.update_line(territory, year).to_plotly_json()
    pilotis_line = shown_values(rsa.widget("evolution"), rendered(portal, "evolution", territory, year))
    assert values(line["data"][0]["y"]) == pilotis_line  # month by month, in order
    assert len(pilotis_line) == 46  # January 2017 to October 2020

    choropleth = peer.update_map(territory, year).to_plotly_json()["data"][0]
    pilotis_map = shown_values(rsa.widget("carte"), rendered(portal, "carte", territory, year))
    assert rounded(values(choropleth["z"])) == rounded(pilotis_map)
    assert len(pilotis_map) == len(set(choropleth["locations"])) >= 1
