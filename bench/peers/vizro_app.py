"""Peer « Vizro »: the RSA page's core as a Vizro dashboard (pydantic models; not part of Pilotis).

Runs in its own virtualenv (Vizro pins its own Dash): ``python3 -m venv .venv-vizro &&
.venv-vizro/bin/pip install vizro gunicorn pyarrow``, then, from the repository root,
``.venv-vizro/bin/gunicorn bench.peers.vizro_app:server -w 2``. Two parameters (territory, year)
target the arguments of three custom figures (KPI card, monthly line, choropleth per 1,000
inhabitants): Vizro answers a parameter change with one request that updates every target. The
numbers come from ``rsa_pandas`` (the same as the Dash + pandas peer).
"""

from __future__ import annotations

import plotly.graph_objects as go
import vizro.models as vm
from dash import html
from vizro import Vizro
from vizro.managers import data_manager
from vizro.models.types import capture

from bench.peers import rsa_pandas as data

data_manager["rsa"] = data.DF
DEFAULT_TERRITORY = f"departement:{data.DEPARTEMENT}"
DEFAULT_YEAR = str(data.YEARS[0])


@capture("figure")
def kpi_card(data_frame, territory: str = DEFAULT_TERRITORY, year: str = DEFAULT_YEAR) -> html.Div:  # type: ignore[no-untyped-def]
    """The KPI card: households at the year's last month."""
    value = data.kpi(territory, int(year), data_frame)
    text = "—" if value is None else f"{value:,.0f}".replace(",", "\u202f")
    return html.Div([html.H2("Foyers allocataires"), html.P(text, className="kpi-value")])


@capture("graph")
def monthly_line(data_frame, territory: str = DEFAULT_TERRITORY) -> go.Figure:  # type: ignore[no-untyped-def]
    """The monthly line (every month)."""
    series = data.monthly(territory, data_frame)
    return go.Figure(go.Scatter(x=series.index, y=series.values, mode="lines"))


@capture("graph")
def per_1000_map(data_frame, territory: str = DEFAULT_TERRITORY, year: str = DEFAULT_YEAR) -> go.Figure:  # type: ignore[no-untyped-def]
    """The choropleth of households per 1,000 inhabitants by commune."""
    frame = data.per_1000(territory, int(year), data_frame)
    fig = data.choropleth(frame)
    return fig


page = vm.Page(
    title="Observatoire du RSA",
    components=[
        vm.Figure(id="kpi", figure=kpi_card(data_frame="rsa")),
        vm.Graph(id="line", figure=monthly_line(data_frame="rsa")),
        vm.Graph(id="map", figure=per_1000_map(data_frame="rsa")),
    ],
    controls=[
        vm.Parameter(
            targets=["kpi.territory", "line.territory", "map.territory"],
            selector=vm.Dropdown(
                id="territory", options=[o["value"] for o in data.TERRITORIES], value=DEFAULT_TERRITORY, multi=False
            ),
        ),
        vm.Parameter(
            targets=["kpi.year", "map.year"],
            selector=vm.Dropdown(id="year", options=[str(y) for y in data.YEARS], value=DEFAULT_YEAR, multi=False),
        ),
    ],
)

app = Vizro().build(vm.Dashboard(pages=[page]))
server = app.dash.server
