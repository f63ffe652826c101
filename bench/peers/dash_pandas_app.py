"""Peer « Dash + pandas »: the RSA page's core written the tutorial way (not part of Pilotis).

One global DataFrame (``rsa_pandas.DF``), two dropdowns (territory, year), one callback per
output: a KPI card, the monthly line, the choropleth per 1,000 inhabitants. No login, no access
rules, no cache. Run: ``gunicorn bench.peers.dash_pandas_app:server -w 2`` from the repository root.
"""

from __future__ import annotations

import plotly.graph_objects as go
from dash import Dash, Input, Output, dcc, html

from bench.peers import rsa_pandas as data

app = Dash(__name__, title="RSA (Dash + pandas)")
server = app.server

app.layout = html.Div(
    [
        html.H1("Observatoire du RSA"),
        dcc.Dropdown(id="territory", options=data.TERRITORIES, value=f"departement:{data.DEPARTEMENT}"),
        dcc.Dropdown(id="year", options=[str(y) for y in data.YEARS], value=str(data.YEARS[0])),
        html.Div(id="kpi"),
        dcc.Graph(id="line"),
        dcc.Graph(id="map"),
    ]
)


@app.callback(Output("kpi", "children"), Input("territory", "value"), Input("year", "value"))
def update_kpi(territory: str, year: str) -> list:
    """The KPI card: households at the year's last month."""
    value = data.kpi(territory, int(year))
    text = "—" if value is None else f"{value:,.0f}".replace(",", "\u202f")
    return [html.H2("Foyers allocataires"), html.P(text, className="kpi-value")]


@app.callback(Output("line", "figure"), Input("territory", "value"), Input("year", "value"))
def update_line(territory: str, year: str) -> go.Figure:
    """The monthly line (every month: the year does not change it, as on the Pilotis page)."""
    series = data.monthly(territory)
    fig = go.Figure(go.Scatter(x=series.index, y=series.values, mode="lines"))
    fig.update_layout(template="plotly_white", height=320, margin={"l": 8, "r": 8, "t": 8, "b": 8})
    return fig


@app.callback(Output("map", "figure"), Input("territory", "value"), Input("year", "value"))
def update_map(territory: str, year: str) -> go.Figure:
    """The choropleth of households per 1,000 inhabitants by commune."""
    frame = data.per_1000(territory, int(year))
    fig = data.choropleth(frame)
    fig.update_layout(template="plotly_white", height=420, margin={"l": 8, "r": 8, "t": 8, "b": 8})
    return fig
