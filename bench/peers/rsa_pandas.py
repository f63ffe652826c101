"""The RSA page's core computed the tutorial way: one global pandas DataFrame, filtered per call.

Shared by the two peers (``dash_pandas_app.py``, ``vizro_app.py``) so that both show the same
numbers, which ``tests/test_peers.py`` checks against Pilotis for five territories. Imports no
Pilotis module: this is what a data team would write on its own.

Environment (``bench_peers.py`` sets them for the bigger sizes): ``PEER_DATA`` (a Parquet file
with ``code_insee, epci_siren, date`` and the measure column, default the shipped RSA file),
``PEER_MEASURE`` (the measure column, default ``foyers_allocataires``).

Semantics, as Pilotis's RSA dashboard (the dataset is a *stock*, ``kind: stock``): a year's value
is the sum over the territory's communes at the **last month** of that year; the monthly line sums
every month; the map divides each commune's value at that month by its legal population × 1,000.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("PEER_DATA", ROOT / "data" / "rsa_communes_mensuel.parquet"))
MEASURE = os.environ.get("PEER_MEASURE", "foyers_allocataires")
DEPARTEMENT = "53"

DF = pd.read_parquet(DATA, columns=["code_insee", "epci_siren", "date", MEASURE])
DF["date"] = pd.to_datetime(DF["date"])
DF["year"] = DF["date"].dt.year
COMMUNES = pd.read_csv(ROOT / "data" / "communes.csv", dtype={"code_insee": str, "epci_siren": str})
EPCIS = pd.read_csv(ROOT / "data" / "epci.csv", dtype={"epci_siren": str})
GEOJSON = json.loads((ROOT / "data" / "geo" / "communes.geojson").read_text(encoding="utf-8"))
NAMES = dict(zip(COMMUNES["code_insee"], COMMUNES["nom"], strict=True))
POPULATION = dict(zip(COMMUNES["code_insee"], COMMUNES["population"], strict=True))
YEARS = sorted(DF["year"].unique().tolist(), reverse=True)

TERRITORIES = (
    [{"label": "Mayenne", "value": f"departement:{DEPARTEMENT}"}]
    + [{"label": n, "value": f"epci:{c}"} for c, n in zip(EPCIS["epci_siren"], EPCIS["epci_nom"], strict=True)]
    + [{"label": n, "value": f"commune:{c}"} for c, n in zip(COMMUNES["code_insee"], COMMUNES["nom"], strict=True)]
)


def rows(territory: str, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rows of one territory (``departement:53``, ``epci:…``, ``commune:…``) in ``frame``
    (default: the global DataFrame; Vizro hands its charts the frame of its data manager)."""
    frame = DF if frame is None else frame
    level, _, code = territory.partition(":")
    if level == "commune":
        return frame[frame["code_insee"] == code]
    if level == "epci":
        return frame[frame["epci_siren"] == code]
    return frame


def last_month(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    """The rows of ``year``'s last month present in ``frame`` (a stock is read there)."""
    in_year = frame[frame["year"] == year]
    return in_year[in_year["date"] == in_year["date"].max()]


def kpi(territory: str, year: int, frame: pd.DataFrame | None = None) -> float | None:
    """Households at the last month of ``year`` in ``territory`` (None: no data)."""
    month = last_month(rows(territory, frame), year)
    return None if month.empty else float(month[MEASURE].sum())


def monthly(territory: str, frame: pd.DataFrame | None = None) -> pd.Series:
    """Households per month, every month (the line chart)."""
    return rows(territory, frame).groupby("date")[MEASURE].sum().sort_index()


def per_1000(territory: str, year: int, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per commune of ``territory``: ``code_insee, nom, valeur`` (households per 1,000 inhabitants)."""
    month = last_month(rows(territory, frame), year)
    result = month.groupby("code_insee", as_index=False)[MEASURE].sum()
    result["valeur"] = [v * 1000 / POPULATION[c] for c, v in zip(result["code_insee"], result[MEASURE], strict=True)]
    result["nom"] = result["code_insee"].map(NAMES)
    return result[["code_insee", "nom", "valeur"]]


def outlines(codes: pd.Series) -> dict:
    """The GeoJSON outlines of the communes ``codes`` (the map draws only those)."""
    shown = set(codes)
    return {
        "type": "FeatureCollection",
        "features": [f for f in GEOJSON["features"] if f["properties"]["code"] in shown],
    }


def choropleth(frame: pd.DataFrame) -> go.Figure:
    """The map of :func:`per_1000`'s frame: each commune coloured by its rate."""
    fig = go.Figure(
        go.Choropleth(
            geojson=outlines(frame["code_insee"]),
            locations=frame["code_insee"],
            z=frame["valeur"].round(4),
            featureidkey="properties.code",
            text=frame["nom"],
            colorscale="Oranges",
        )
    )
    fig.update_geos(fitbounds="locations", visible=False)
    return fig
