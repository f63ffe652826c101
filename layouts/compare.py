"""« Comparer » view: 2 to 5 territories side by side (small multiples and a table).

The user picks the territories in five labelled native selects (keyboard and screen-reader
friendly, no custom multi-select); the period is the dashboard's period filter. Each indicator is
computed for every chosen territory from **one** query per dataset grouped by territory column
and period (:func:`pilotis.core.comparisons.compare_territories`), never one query per territory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html
from pydantic import Field

from layouts.common import (
    PALETTE,
    accessible_graph,
    column_formats,
    data_details,
    notice,
    plain_figure,
    scroll_region,
    small_multiples,
)
from pilotis.core.access import territory_allowed
from pilotis.core.comparisons import Comparison, Evaluator, Window, compare_territories
from pilotis.core.errors import did_you_mean
from pilotis.core.formatting import format_period, format_value, french_sort_key
from pilotis.core.i18n import t
from pilotis.core.indicators import leaves
from pilotis.core.query import PERIOD
from pilotis.core.results import masked_periods, secret_label
from pilotis.core.schema import TerritoryLevel, WidgetBase, all_levels
from pilotis.core.scope import Scope
from pilotis.core.secrecy import SECRET
from pilotis.core.territory import Territory
from pilotis.core.widgets import CheckContext, RenderContext, WidgetType, labelled, register_widget
from pilotis.ui.static_html import static

SLOTS = 5


class CompareConfig(WidgetBase):
    """Compare 2 to 5 territories (département, EPCI, communes) on one or more indicators."""

    type: Literal["compare"] = "compare"
    """Type de widget : `compare`."""
    indicators: list[str] = Field(min_length=1, max_length=4)
    """Identifiants des indicateurs comparés (`rsa.foyers_pour_1000`), 1 à 4 ; leurs données
    doivent être découpées par commune ou EPCI."""
    territories: list[str] = Field(default_factory=list, max_length=SLOTS)
    """Territoires proposés au départ (`departement:53`, `epci:200083392`, `commune:53130`) ;
    par défaut le département et le premier EPCI."""
    levels: list[TerritoryLevel] = Field(default_factory=all_levels)
    """Niveaux proposés dans les listes."""
    period: Literal["filter", "latest", "all"] = "filter"
    """`filter` : l'année du filtre de période ; `latest` : la dernière année ; `all` : toute
    la période."""
    width: int = Field(default=12, ge=1, le=12)
    """Largeur sur une grille de 12 colonnes."""


def _choices(widget: CompareConfig, index: Any, lang: str) -> list[dict[str, Any]]:
    options: list[dict[str, Any]] = [{"label": t("none_choice", lang), "value": ""}]
    if "departement" in widget.levels:
        options.append(
            {
                "label": f"{index.departement_name} ({t('departement', lang).lower()})",
                "value": f"departement:{index.departement_code}",
            }
        )
    if "epci" in widget.levels:
        epcis = sorted(index.epcis.items(), key=lambda item: french_sort_key(item[1]))
        options += [{"label": name, "value": f"epci:{code}"} for code, name in epcis]
    if "commune" in widget.levels:
        communes = sorted(index.communes.items(), key=lambda item: french_sort_key(item[1]))
        options += [{"label": name, "value": f"commune:{code}"} for code, name in communes]
    return options


@register_widget
class Compare(WidgetType):
    """« Comparer » widget."""

    type_names = ("compare",)
    texts = {
        "compare_territories": {"fr": "Territoires à comparer (2 à 5)", "en": "Territories to compare (2 to 5)"},
        "territory_n": {"fr": "Territoire {n}", "en": "Territory {n}"},
        "none_choice": {"fr": "— aucun —", "en": "— none —"},
        "compare_need_two": {
            "fr": "Choisissez au moins deux territoires différents.",
            "en": "Choose at least two different territories.",
        },
    }
    Config = CompareConfig

    @classmethod
    def indicators_used(cls, widget: CompareConfig) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(dict.fromkeys(widget.indicators))

    @classmethod
    def check(cls, widget: CompareConfig, ctx: CheckContext) -> None:  # type: ignore[override]
        for i, indicator_id in enumerate(widget.indicators):
            indicator = ctx.indicators.get(indicator_id)
            if indicator is None:
                if indicator_id not in ctx.failed_indicators:
                    ctx.problem(
                        ("indicators", i),
                        f"indicateur `{indicator_id}` inconnu",
                        did_you_mean(indicator_id, ctx.indicators, "indicateurs"),
                    )
                continue
            for leaf in leaves(indicator, ctx.indicators.__getitem__):
                dataset = ctx.datasets.get(leaf.spec.dataset or "")
                cols = dataset.territory if dataset else None
                if dataset is not None and not (cols and (cols.commune or cols.epci)):
                    ctx.problem(
                        ("indicators", i),
                        f"indicateur `{indicator_id}` : le jeu de données "
                        f"`{leaf.spec.dataset}` n'est pas découpé par commune ou EPCI",
                        "choisissez des indicateurs territoriaux",
                    )
                    break
        for i, value in enumerate(widget.territories):
            level, _, code = value.partition(":")
            if level not in ("departement", "epci", "commune") or not code:
                ctx.problem(
                    ("territories", i),
                    f"territoire `{value}` illisible",
                    "écrivez `departement:53`, `epci:<SIREN>` ou `commune:<code INSEE>`",
                )

    @classmethod
    def filters_read(cls, widget: CompareConfig) -> frozenset[str]:  # type: ignore[override]
        """The period only (``period: filter``): the territories compared are the view's own
        controls (in the render key), each checked against the viewer's territory (their rights,
        in the key too), never the page's territory filter."""
        return frozenset({"period"}) if widget.period == "filter" else frozenset()

    @classmethod
    def inputs(cls, widget: CompareConfig) -> tuple[tuple[str, str], ...]:  # type: ignore[override]
        return tuple((f"t{i}", "value") for i in range(1, SLOTS + 1))

    @classmethod
    def controls(  # type: ignore[override]
        cls,
        widget: CompareConfig,
        dom_id: Callable[[str], str],
        options: Any,
        lang: str,
    ) -> html.Fieldset:
        """Five labelled selects; ``options`` is the portal (its territory reference)."""
        index = options.territories
        choices = _choices(widget, index, lang)
        first_epci = next(iter(index.epcis), "")
        defaults = list(widget.territories) or [
            f"departement:{index.departement_code}",
            f"epci:{first_epci}",
        ]
        cols = []
        for i in range(1, SLOTS + 1):
            name = dom_id(f"t{i}")
            cols.append(
                dbc.Col(
                    [
                        dbc.Label(t("territory_n", lang, n=i), html_for=name, className="small mb-0"),
                        dbc.Select(
                            id=name,
                            options=choices,
                            value=defaults[i - 1] if i <= len(defaults) else "",
                            size="sm",
                        ),
                    ],
                    xs=12,
                    sm=6,
                    lg=True,
                )
            )
        return html.Fieldset(
            [
                html.Legend(t("compare_territories", lang), className="h6"),
                dbc.Row(cols, className="g-2"),
            ],
            className="pilotis-compare-controls mb-2",
        )

    @classmethod
    def chosen(cls, ctx: Scope) -> list[Territory]:
        """The distinct known territories chosen, inside the user's scope."""
        index = ctx.territories
        found: list[Territory] = []
        for i in range(1, SLOTS + 1):
            value = ctx.controls.get(f"t{i}")
            if not value:
                continue
            territory = Territory.parse(str(value), index.departement_code)
            if index.is_known(territory) and territory not in found and territory_allowed(ctx.scope, territory, index):
                found.append(territory)
        return found

    @classmethod
    def data(cls, widget: CompareConfig, scope: Scope) -> pd.DataFrame:  # type: ignore[override]
        """One row per territory chosen (``scope.controls``) and indicator: its value, the period
        it covers and the value a year before (empty with fewer than two territories)."""
        territories = cls.chosen(scope)
        rows: list[tuple[Any, ...]] = []
        for indicator_id in widget.indicators if len(territories) >= 2 else ():
            indicator = scope.registry.indicators[indicator_id]
            page = scope.page()
            for territory, evaluator in compare_territories(
                scope, indicator, territories, period=widget.period, page=page
            ):
                window, value, previous = figures(evaluator)
                reference = previous.reference if previous is not None else None
                end = window.end if window else None
                rows.append((scope.territories.name(territory), territory.value, indicator_id, value, end, reference))
        return labelled(pd.DataFrame(rows, columns=list(DATA_LABELS)), DATA_LABELS)

    @classmethod
    def render(cls, widget: CompareConfig, ctx: RenderContext) -> list:  # type: ignore[override]
        lang = ctx.lang
        territories = cls.chosen(ctx)
        if len(territories) < 2:
            return [notice(t("compare_need_two", lang), "info")]
        names = [ctx.territories.name(territory) for territory in territories]
        children: list[Any] = []
        rows: dict[str, list[Any]] = {name: [] for name in names}
        headers: list[str] = [t("territory", lang)]
        for indicator_id in widget.indicators:
            indicator = ctx.registry.indicators[indicator_id]
            evaluators = compare_territories(ctx, indicator, territories, period=widget.period, page=ctx.page())
            children.append(cls.multiples(indicator, evaluators, names, lang))
            spec = indicator.spec
            unit = f" ({spec.unit})" if spec.unit and spec.format == "number" else ""
            headers += [
                f"{indicator.label}{unit}",
                f"{indicator.label} : {t('change_year', lang).lower()}",
            ]
            for name, (_, evaluator) in zip(names, evaluators, strict=True):
                window, value, previous = figures(evaluator)
                when = f" ({format_period(window.end, evaluator.grain(), lang)})" if window else ""
                secret = secret_label(evaluator, window)  # « < 5 » when masked (statistical secrecy)
                rows[name].append((secret or format_value(value, spec.format, spec.decimals, lang=lang)) + when)
                change = "–"
                if previous is not None and previous.reference and value is not None:
                    pct = (value - previous.reference) / abs(previous.reference)
                    change = f"{'+' if pct > 0 else ''}{format_value(pct, 'percent', 1, lang=lang)}"
                rows[name].append(change)
        table = html.Table(
            [
                html.Caption(widget.title or t("compare_territories", lang)),
                html.Thead(html.Tr([html.Th(h, scope="col") for h in headers])),
                html.Tbody(
                    [
                        html.Tr(
                            [
                                html.Th(name, scope="row"),
                                *[html.Td(v, className="text-end") for v in values],
                            ]
                        )
                        for name, values in rows.items()
                    ]
                ),
            ],
            className="table table-sm pilotis-compare-table",
        )
        # read by no callback: one static block (pilotis.ui.static_html), not a component per cell
        children.append(static(scroll_region(table, widget.title or t("compare_territories", lang))))
        return children

    @classmethod
    def multiples(
        cls,
        indicator: Any,
        evaluators: list[tuple[Territory, Evaluator]],
        names: list[str],
        lang: str,
    ) -> html.Div:
        """Small multiples: one panel per territory, same vertical scale."""
        spec = indicator.spec
        traces: list[dict[str, Any]] = []
        drawn: dict[str, pd.Series] = {}  # what each panel draws, for its data table
        secret: dict[str, set[Any]] = {}  # the periods each panel leaves out by statistical secrecy
        shown = ""
        grain = "year"
        for i, (_, evaluator) in enumerate(evaluators, start=1):
            window = evaluator.window()
            series = evaluator.series()
            if window is not None and evaluator.mode in ("year", "latest"):
                series = series[[p.year == window.end.year for p in series.index]]
            drawn[f"t{i}"] = series
            secret[f"t{i}"], label = masked_periods(evaluator)
            shown = shown or label
            grain = evaluator.grain()
            traces.append(
                {
                    "type": "scatter",
                    "x": list(series.index),
                    "y": [None if v != v else v for v in series.values],
                    "mode": "lines+markers",
                    "name": names[i - 1],
                    "line": {"color": PALETTE[0]},
                    "hovertemplate": "%{x}<br>%{y}<extra>" + names[i - 1] + "</extra>",
                    "xaxis": "x" if i == 1 else f"x{i}",
                    "yaxis": "y" if i == 1 else f"y{i}",
                }
            )
        layout = small_multiples(names, percent=spec.format == "percent")
        figure = plain_figure(traces, layout, lang, legend=False, height=240)
        label = t("chart_of", lang, title=f"{indicator.label} — {', '.join(names)}")
        return html.Div(
            [
                html.H3(indicator.label, className="h6 mt-2"),
                accessible_graph(
                    figure, label, cls.series_table(indicator, drawn, names, grain, lang, (secret, shown)), lang
                ),
            ]
        )

    @classmethod
    def series_table(
        cls,
        indicator: Any,
        drawn: dict[str, pd.Series],
        names: list[str],
        grain: str,
        lang: str,
        secret: tuple[dict[str, set[Any]], str] = ({}, ""),
    ) -> html.Div | None:
        """« Voir les données » of the small multiples: one row per period, one column per
        territory, the very values each panel draws (not only the last ones).

        ``secret``: the periods each column leaves out by statistical secrecy and their label: a
        row whose every gap is such a period shows the label (« < 5 ») there, not « – »."""
        frame = pd.DataFrame(drawn)
        if frame.empty:
            return None
        frame = frame.sort_index()
        masked, shown = secret
        if shown:
            gaps = {column: frame[column].isna() for column in drawn}
            hidden = {column: frame.index.isin(list(masked.get(column, ()))) for column in drawn}
            frame[SECRET] = [
                any(hidden[c][row] for c in drawn) and all(hidden[c][row] for c in drawn if gaps[c].iloc[row])
                for row in range(len(frame))
            ]
            frame.attrs["secret_label"] = shown
        frame.insert(0, PERIOD, list(frame.index))
        frame = frame.reset_index(drop=True)
        spec = indicator.spec
        labels = {PERIOD: "Période" if lang == "fr" else "Period", **{f"t{i}": n for i, n in enumerate(names, 1)}}
        formats = column_formats(list(drawn), spec.format, spec.decimals)
        caption = t("series_table", lang, title=indicator.label)
        return data_details(frame, labels, formats, lang, caption=caption, grain=grain)


DATA_LABELS = {
    "territoire": "Territoire",
    "code": "Code",
    "indicateur": "Indicateur",
    "valeur": "Valeur",
    "periode": "Période",
    "valeur_annee_precedente": "Valeur un an avant",
}
"""French labels of the columns of the widget's data."""


def figures(evaluator: Evaluator) -> tuple[Window | None, float | None, Comparison | None]:
    """What a row shows for one territory: the window, the value, the same period a year before."""
    window = evaluator.window()
    value = evaluator.value(window) if window or evaluator.anchor is None else None
    previous = evaluator.previous_year(window) if window is not None else None
    return window, value, previous
