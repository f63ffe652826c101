"""The « Dash + pandas » peer of the benchmark (bench/peers/) shows the same figures as Pilotis.

``bench/bench_peers.py`` compares the cost of a filter change on the RSA page with a plain Dash +
pandas app written the tutorial way; the comparison only means something if both draw the same
numbers. For five territories and two years, the peer's three callbacks (KPI card, monthly line,
choropleth per 1,000 inhabitants) are called as Dash would call them, and what they draw is
compared with what Pilotis renders for the demo admin, who sees exact small counts (widgets ``foyers``, ``evolution``,
``carte`` of dashboards/rsa.yaml).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.peers import dash_pandas_app as peer
from pilotis.ui.seance_render import plain
from tests.helpers import find_class, texts
from tests.test_widget_data import demo, number, rounded, shown_values, values

ROOT = Path(__file__).resolve().parent.parent
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


def test_stack_floor_serves_the_peer_page_with_its_database(tmp_path: Path) -> None:
    """The « stack floor » of bench_start_rss.py starts (with DuckDB too), serves the peer's page and
    callbacks, and loads a signed-in user from its SQLite table: what it measures is really opened."""
    probe = (
        "from bench.peers import stack_floor_app as floor\n"
        "client = floor.server.test_client()\n"
        "assert client.get('/').status_code == 200\n"
        "assert floor.load_user('1').department == 'direction' and floor.load_user('2') is None\n"
        "assert floor.DUCKDB.execute('SELECT 1').fetchone() == (1,)\n"
        "print(floor.peer.update_kpi('commune:53130', '2019')[1].children)\n"
    )
    env = {**os.environ, "FLOOR_DB": str(tmp_path / "floor.db"), "FLOOR_DUCKDB": "1"}
    shown = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert shown.returncode == 0, shown.stderr
    assert number(shown.stdout) == number(peer.update_kpi("commune:53130", "2019")[1].children) > 0
    assert (tmp_path / "floor.db").exists()
