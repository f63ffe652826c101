"""Maps drawn without any tile server (offline): choropleth by commune/EPCI and point maps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pandas as pd
import plotly.graph_objects as go
from pydantic import field_validator

from layouts.common import accessible_graph, data_details, figure_layout, notice, plain_figure
from pilotis.core.errors import HintedValueError
from pilotis.core.formatting import NNBSP, french_fold
from pilotis.core.i18n import t
from pilotis.core.schema import ColorScale, DataWidgetBase
from pilotis.core.scope import Scope
from pilotis.core.secrecy import label_of, masked_rows
from pilotis.core.widgets import RenderContext, WidgetType, labelled, register_widget, unit_of

_GEO_CACHE: dict[tuple[str, int], dict] = {}


def load_geojson(path: Path) -> dict:
    """A GeoJSON file, parsed once per process and per file version (read-only use)."""
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _GEO_CACHE:
        _GEO_CACHE[key] = json.loads(path.read_text(encoding="utf-8"))
    return _GEO_CACHE[key]


GEO_LAYOUT = {
    "fitbounds": "locations",
    "visible": False,
    "projection": {"type": "mercator"},
    "bgcolor": "rgba(0,0,0,0)",
}
"""The maps' geography: fitted to the shapes drawn, no base map (offline)."""
_SCALES: dict[str, list] = {}


def _geo_layout(fig: go.Figure) -> None:
    fig.update_geos(**GEO_LAYOUT)


def colorscale(name: str) -> list:
    """A named colour scale as plotly sends it (its list of colours: plotly.js's own scales of the
    same name differ), resolved once per process."""
    if name not in _SCALES:
        _SCALES[name] = go.Choropleth(colorscale=name).colorscale
    return _SCALES[name]


class ChoroplethConfig(DataWidgetBase):
    """A map of communes or EPCI coloured by a measure."""

    type: Literal["choropleth"] = "choropleth"
    """Type de widget : `choropleth`."""
    measure: str
    """Mesure colorée (ex. `sum(foyers_allocataires)`)."""
    level: Literal["commune", "epci"] = "commune"
    """Maille de la carte : `commune` ou `epci` (le jeu de données déclare ces colonnes dans `territory`)."""
    per_1000_inhabitants: bool = False
    """Rapporter la mesure à 1 000 habitants (populations légales)."""
    per_inhabitant: bool = False
    """Rapporter la mesure au nombre d'habitants (populations légales), ex. `€ par habitant`."""
    range: tuple[float, float] | None = None
    """Bornes `[min, max]` de l'échelle de couleurs, ex. `[0, 1]` pour un taux : une valeur
    au-delà prend la couleur de la borne (un taux de 110 % n'écrase pas les autres nuances),
    mais reste exacte au survol et dans le tableau de données."""
    colorscale: ColorScale = "Blues"
    """Échelle de couleurs plotly (`Blues`, `Oranges`, `Viridis`…)."""
    format: Literal["number", "percent", "euro"] = "number"
    """Format des valeurs."""
    decimals: int = 0
    """Décimales affichées."""
    height: int = 420
    """Hauteur de la carte en pixels."""

    @field_validator("range")
    @classmethod
    def _ordered(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and value[0] >= value[1]:
            raise HintedValueError(
                "la borne minimale de `range` doit être inférieure à la maximale", "exemple : `range: [0, 1]`"
            )
        return value


def hover_format(fmt: str, decimals: int) -> str:
    """The plotly (d3) format of a value in a hover label or a colour bar."""
    return f".{decimals}%" if fmt == "percent" else f",.{decimals}f"


def per_unit(widget: ChoroplethConfig, lang: str) -> str:
    """« pour 1 000 habitants », « par habitant » or nothing."""
    if widget.per_1000_inhabitants:
        return t("per_1000", lang)
    return t("per_inhabitant", lang) if widget.per_inhabitant else ""


@register_widget
class Choropleth(WidgetType):
    """Choropleth map widget."""

    type_names = ("choropleth",)
    Config = ChoroplethConfig
    graph = True

    @classmethod
    def measures_used(cls, widget: ChoroplethConfig) -> Iterator[tuple[tuple[str | int, ...], str]]:  # type: ignore[override]
        yield ("measure",), widget.measure

    @classmethod
    def check(cls, widget: ChoroplethConfig, ctx) -> None:  # type: ignore[override]
        dataset = ctx.datasets.get(widget.dataset)
        column = getattr(dataset.territory, widget.level, None) if dataset and dataset.territory else None
        if dataset is not None and column is None:
            ctx.problem(
                ("level",),
                f"le jeu de données `{widget.dataset}` ne déclare pas de colonne `{widget.level}`",
                f"ajoutez `territory: {{{widget.level}: nom_de_colonne}}` au jeu de données",
            )
        if widget.per_1000_inhabitants and widget.per_inhabitant:
            ctx.problem(
                ("per_inhabitant",), "`per_inhabitant` et `per_1000_inhabitants` s'excluent", "gardez l'un des deux"
            )

    @classmethod
    def data(cls, widget: ChoroplethConfig, scope: Scope) -> pd.DataFrame:  # type: ignore[override]
        """The areas coloured: their code, ``nom`` and ``valeur`` (per inhabitant when asked)."""
        dataset = scope.dataset(widget.dataset)
        assert dataset.territory is not None
        code_column = getattr(dataset.territory, widget.level)
        frame, exact = scope.query(widget, {"valeur": widget.measure}, (code_column,))
        frame = frame[frame["valeur"].notna() | masked_rows(frame)]  # masked areas stay, in grey
        frame[code_column] = frame[code_column].astype(str)
        index = scope.territories
        names = index.communes if widget.level == "commune" else index.epcis
        per = 1000 if widget.per_1000_inhabitants else 1 if widget.per_inhabitant else 0
        if per:
            population = (
                index.population
                if widget.level == "commune"
                else {e: sum(index.population[c] for c in index.communes_of(e)) for e in index.epcis}
            )
            frame["valeur"] = [
                v * per / population[c] if population.get(c) else None
                for c, v in zip(frame[code_column], frame["valeur"], strict=True)
            ]
        frame.insert(1, "nom", [names.get(c, c) for c in frame[code_column]])
        unit = per_unit(widget, scope.lang)
        labels = {
            code_column: "Code",
            "nom": "Nom" if scope.lang == "fr" else "Name",
            "valeur": f"{widget.title} {unit}".strip(),
        }
        return labelled(frame, labels, exact=exact, units={"valeur": unit_of(widget.format)})

    @classmethod
    def render(cls, widget: ChoroplethConfig, ctx: RenderContext):  # type: ignore[override]
        lang = ctx.lang
        dataset = ctx.dataset(widget.dataset)
        assert dataset.territory is not None
        code_column = getattr(dataset.territory, widget.level)
        frame = cls.data(widget, ctx)
        if frame.empty:
            return notice(t("no_data", lang))
        geo_path = ctx.registry.root / (
            ctx.registry.portal.geo_communes if widget.level == "commune" else ctx.registry.portal.geo_epci
        )
        geo = load_geojson(geo_path)
        secret, masked = label_of(frame), masked_rows(frame)
        hidden, visible = frame[masked], frame[~masked]
        # Each trace carries the outlines of its own areas only: a masked area's outline is sent
        # once (with the grey trace), not twice (the RSA communes: 136 kB of GeoJSON less to
        # serialise, cache and send per map); plotly draws a trace's locations only, the same map.
        subset, masked_subset = _outlines(geo, visible[code_column]), _outlines(geo, hidden[code_column])
        unit = per_unit(widget, lang)
        decimals = 1 if widget.per_1000_inhabitants else widget.decimals
        suffix = " ".join(part for part in ("€" if widget.format == "euro" else "", unit) if part)
        scale = {"zmin": widget.range[0], "zmax": widget.range[1]} if widget.range else {}
        trace = {
            "type": "choropleth",
            "locations": visible[code_column],
            "z": visible["valeur"].round(4),
            "featureidkey": "properties.code",
            "text": visible["nom"],
            "colorscale": colorscale(widget.colorscale),
            "marker": {"line": {"color": "white", "width": 0.5}},
            "hovertemplate": f"%{{text}}<br>%{{z:{hover_format(widget.format, decimals)}}}"
            + (f"{NNBSP if lang == 'fr' else ' '}{suffix}" if suffix else "")  # « 12,5 € », never « 12,5 | € »
            + "<extra></extra>",
            "colorbar": {
                "title": {"text": suffix, "side": "right"},
                "thickness": 12,
                "separatethousands": True,
                **({"tickformat": ".0%"} if widget.format == "percent" else {}),
            },
            **scale,
            "geojson": subset,  # the portal's own outlines, shared: serialised, never copied
        }
        traces = [trace]
        if secret:  # statistical secrecy: masked areas in plain grey, « < 5 » on hover, no colour
            traces.append(
                {
                    "type": "choropleth",
                    "locations": hidden[code_column],
                    "z": [0] * len(hidden),
                    "featureidkey": "properties.code",
                    "text": hidden["nom"],
                    "name": "secret",  # no value drawn: the same grey for every masked area
                    "colorscale": [[0, SECRET_GREY], [1, SECRET_GREY]],
                    "showscale": False,
                    "marker": {"line": {"color": "white", "width": 0.5}},
                    "hovertemplate": f"%{{text}}<br>{secret} ({t('secret_title', lang)})<extra></extra>",
                    "geojson": masked_subset,
                }
            )
        fig = plain_figure(traces, {"geo": GEO_LAYOUT}, lang, legend=False, height=widget.height)
        level = t(f"level_{widget.level}", lang)
        title = widget.title or widget.id
        by_level = t("map_of", lang, title="", level=level).split(",")[-1].strip()  # « par commune »
        if french_fold(by_level) in french_fold(title):  # the title already says it: once is enough
            label = t("map_plain", lang, title=title)
        else:
            label = t("map_of", lang, title=title, level=level)
        table = frame.sort_values("valeur", ascending=False)
        details = data_details(table, frame.attrs["labels"], {"valeur": (widget.format, decimals)}, lang, caption=label)
        note = t("secret_map", lang, label=secret) + " " + t("secret_note", lang, label=secret) if secret else ""
        return accessible_graph(fig, label, details, lang, note=note)


def _outlines(geo: dict, codes: pd.Series) -> dict:
    """The features of ``geo`` whose code is one of ``codes``, as a FeatureCollection."""
    wanted = set(codes)
    return {"type": "FeatureCollection", "features": [f for f in geo["features"] if f["properties"]["code"] in wanted]}


SECRET_GREY = "#bdbdbd"
"""Fill of an area whose value is masked by statistical secrecy (no colour of the scale)."""


class PointsConfig(DataWidgetBase):
    """A map of points (sites, projects, sensors) placed by latitude and longitude."""

    type: Literal["points"] = "points"
    """Type de widget : `points`."""
    lat: str
    """Colonne de latitude (WGS84)."""
    lon: str
    """Colonne de longitude (WGS84)."""
    label: str
    """Colonne du libellé de chaque point."""
    size: str | None = None
    """Mesure qui fixe la taille des points (ex. `sum(montant)`)."""
    color: str | None = None
    """Colonne qui colore les points par catégorie."""
    format: Literal["number", "percent", "euro"] = "number"
    """Format de la mesure de taille."""
    height: int = 420
    """Hauteur de la carte en pixels."""


@register_widget
class Points(WidgetType):
    """Point map widget."""

    type_names = ("points",)
    Config = PointsConfig
    graph = True

    @classmethod
    def columns_used(cls, widget: PointsConfig) -> Iterator[tuple[tuple[str | int, ...], str]]:  # type: ignore[override]
        yield ("lat",), widget.lat
        yield ("lon",), widget.lon
        yield ("label",), widget.label
        if widget.color:
            yield ("color",), widget.color

    @classmethod
    def measures_used(cls, widget: PointsConfig) -> Iterator[tuple[tuple[str | int, ...], str]]:  # type: ignore[override]
        yield ("size",), widget.size or "count(*)"

    @classmethod
    def data(cls, widget: PointsConfig, scope: Scope) -> pd.DataFrame:  # type: ignore[override]
        """The points placed: label, latitude, longitude, colour column if any, ``valeur`` (size)."""
        dataset = scope.dataset(widget.dataset)
        group = (widget.label, widget.lat, widget.lon) + ((widget.color,) if widget.color else ())
        frame, exact = scope.query(widget, {"valeur": widget.size or "count(*)"}, group, order_by=(("valeur", True),))
        frame = frame.dropna(subset=[widget.lat, widget.lon])
        labels = {c: dataset.label(c) for c in frame.columns}
        labels["valeur"] = "Valeur" if scope.lang == "fr" else "Value"
        return labelled(frame, labels, exact=exact)

    @classmethod
    def render(cls, widget: PointsConfig, ctx: RenderContext):  # type: ignore[override]
        lang = ctx.lang
        frame = cls.data(widget, ctx)
        if frame.empty:
            return notice(t("no_data", lang))
        fig = go.Figure()
        biggest = float(frame["valeur"].max() or 1)
        outline = load_geojson(ctx.registry.root / "data/geo/departement.geojson")
        fig.add_trace(
            go.Choropleth(
                geojson=outline,
                locations=[f["properties"].get("code", "53") for f in outline["features"]],
                z=[0] * len(outline["features"]),
                featureidkey="properties.code",
                colorscale=[[0, "#eef2f6"], [1, "#eef2f6"]],
                showscale=False,
                hoverinfo="skip",
                marker_line_color="#9aa5b1",
            )
        )
        groups = [(None, frame)] if not widget.color else list(frame.groupby(widget.color, sort=True))
        for name, part in groups:
            fig.add_trace(
                go.Scattergeo(
                    lat=part[widget.lat],
                    lon=part[widget.lon],
                    text=part[widget.label],
                    name=str(name) if name is not None else widget.title,
                    marker={
                        "size": (6 + 24 * (part["valeur"] / biggest) ** 0.5).round(1),
                        "line": {"width": 0.5, "color": "white"},
                        "opacity": 0.85,
                    },
                    hovertemplate="%{text}<extra></extra>",
                )
            )
        _geo_layout(fig)
        figure_layout(fig, lang, legend=bool(widget.color), height=widget.height)
        label = t("chart_of", lang, title=widget.title or widget.id)
        details = data_details(
            frame.drop(columns=[widget.lat, widget.lon]),
            frame.attrs["labels"],
            {"valeur": (widget.format, 0)},
            lang,
            caption=label,
        )
        return accessible_graph(fig, label, details, lang)
