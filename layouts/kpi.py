"""KPI card: a value with its unit and the comparisons declared for it.

A KPI shows a declared indicator (``kpi: rsa.foyers_allocataires``: label, measure, unit,
format, direction and source come from ``config/indicators/``) or a measure written on the
widget (``dataset`` + ``measure``). ``compare`` lists what the value is compared with (previous
period, same period a year earlier, département / EPCI / comparable communes, rank, target,
another indicator); ``sparkline: 12`` adds the last 12 periods. The numbers come from
:mod:`pilotis.core.comparisons` (grouped queries, shared by the KPIs of a dashboard); the card is
drawn by :mod:`layouts.kpi_card`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import pandas as pd
from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from layouts.kpi_card import card
from pilotis.core.comparisons import POSITIONS, Evaluator, KpiResult
from pilotis.core.errors import HintedValueError, did_you_mean
from pilotis.core.indicators import Indicator, leaves, widget_indicator
from pilotis.core.measures import parse_measure
from pilotis.core.schema import DataWidgetBase, Strict
from pilotis.core.scope import Scope
from pilotis.core.secrecy import SECRET
from pilotis.core.widgets import CheckContext, RenderContext, WidgetType, labelled, register_widget, unit_of

BATCH = True
"""Share the queries of the KPIs of a dashboard (turned off by the benchmark's baseline only)."""
_REQUIRED = object()
"""Marks `dataset` / `measure` missing on a KPI without `kpi:` (reported as a required key)."""
_BLANK = object()
"""Marks `dataset:` / `measure:` written without a value on a KPI without `kpi:`."""


class CompareWith(Strict):
    """A comparison with another indicator, in the same unit (e.g. the official figure)."""

    indicator: str = Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
    """Identifiant de l'indicateur de référence (même unité que celui de la carte)."""
    label: str = ""
    """Libellé affiché ; par défaut celui de l'indicateur de référence."""


CompareItem = (
    Literal["previous_period", "previous_year", "departement", "epci", "comparables", "rank", "target"] | CompareWith
)


class KpiConfig(DataWidgetBase):
    """A key figure: a declared indicator (`kpi:`) or a measure on a dataset."""

    type: Literal["kpi"] = "kpi"
    """Type de widget : `kpi`."""
    kpi: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
    """Identifiant d'un indicateur de `config/indicators/` (`rsa.foyers_allocataires`) :
    libellé, mesure, unité, format, sens et source en viennent (les clés écrites sur le widget
    les remplacent). Sans `kpi`, écrivez `dataset` et `measure` ; un widget dont le jeu de
    données, la mesure et les filtres sont ceux d'un indicateur déclaré est rattaché à lui."""
    dataset: str | None = Field(default=None, validate_default=True)  # type: ignore[assignment]
    """Identifiant du jeu de données (défini dans `config/datasets/`) ; obligatoire sans `kpi`."""
    measure: str | None = Field(default=None, validate_default=True)
    """Mesure : nom déclaré sur le jeu de données ou expression (`sum(foyers)`) ;
    obligatoire sans `kpi`."""
    unit: str = ""
    """Unité affichée après la valeur (`foyers`, `agents`)."""
    format: Literal["number", "percent", "euro"] = "number"
    """Format : `number`, `percent` (valeur entre 0 et 1) ou `euro`."""
    decimals: int = 0
    """Nombre de décimales affichées."""
    better: Literal["up", "down", "neutral"] = "neutral"
    """Sens favorable d'une hausse : `up`, `down` ou `neutral` (une hausse n'est pas
    toujours une bonne nouvelle)."""
    period: Literal["filter", "all", "latest"] = "filter"  # type: ignore[assignment]
    """`filter` : suit le filtre de période (sans filtre de période sur le tableau de bord :
    la dernière année disponible) ; `latest` : la dernière année disponible ; `all` : toute la
    période (cumul pour un montant)."""
    compare: (
        Literal[
            "none",
            "previous_period",
            "previous_year",
            "departement",
            "epci",
            "comparables",
            "rank",
            "target",
        ]
        | list[CompareItem]
    ) = "previous_year"
    """Comparaisons affichées, dans l'ordre : `previous_period` (période précédente),
    `previous_year` (même période un an plus tôt), `departement`, `epci` (l'EPCI de la commune
    choisie), `comparables` (communes de la même tranche de population), `rank` (rang parmi les
    territoires du même niveau), `target` (cible de l'indicateur), `{indicator: …}` (autre
    indicateur de même unité) ; `none` : aucune. Un seul mot (`previous_year`) vaut une liste
    d'un élément."""
    sparkline: int | None = Field(default=None, ge=2, le=36)
    """Nombre de périodes de la courbe d'évolution miniature (ex. `12`) ; absent : pas de courbe."""

    @model_validator(mode="before")
    @classmethod
    def _measure_or_kpi(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("kpi") is None:
            return {
                **data,
                "dataset": _BLANK if "dataset" in data and data["dataset"] is None else data.get("dataset", _REQUIRED),
                "measure": _BLANK if "measure" in data and data["measure"] is None else data.get("measure", _REQUIRED),
            }
        return data

    @field_validator("dataset", "measure", mode="before")
    @classmethod
    def _required(cls, value: Any) -> Any:
        if value is _REQUIRED:
            raise PydanticCustomError("missing", "Field required")
        if value is _BLANK:  # `measure:` with nothing after it: the page would have nothing to show
            raise HintedValueError(
                "valeur vide", "écrivez une mesure (`sum(colonne)`) ou un jeu de données, ou utilisez `kpi:`"
            )
        return value

    @model_validator(mode="after")
    def _kpi_alone(self) -> KpiConfig:
        if self.kpi is not None:
            written = [k for k in ("dataset", "measure", "where") if k in self.model_fields_set and getattr(self, k)]
            if written:
                raise HintedValueError(
                    f"avec `kpi`, la mesure vient de l'indicateur : retirez `{written[0]}`",
                    "ou déclarez un autre indicateur dans config/indicators/",
                )
        return self

    def compare_items(self) -> list[Any]:
        """`compare` as a list (`none` → [])."""
        if isinstance(self.compare, str):
            return [] if self.compare == "none" else [self.compare]
        return list(self.compare)


@register_widget
class Kpi(WidgetType):
    """KPI card widget."""

    type_names = ("kpi",)
    Config = KpiConfig

    @classmethod
    def measures_used(cls, widget: KpiConfig) -> Iterator[tuple[tuple[str | int, ...], str]]:  # type: ignore[override]
        if widget.kpi is None and widget.measure is not None:
            yield ("measure",), widget.measure

    @classmethod
    def indicators_used(cls, widget: KpiConfig) -> tuple[str, ...]:  # type: ignore[override]
        found = [widget.kpi] if widget.kpi else []
        found += [c.indicator for c in widget.compare_items() if isinstance(c, CompareWith)]
        return tuple(dict.fromkeys(found))

    @classmethod
    def bind(cls, widget: KpiConfig, ctx: CheckContext) -> KpiConfig | None:  # type: ignore[override]
        """A `kpi:` widget takes its dataset, label, unit, format and direction from the indicator.

        A widget written with `dataset` + `measure` (+ `where`) exactly as a declared indicator is
        that indicator (its card, thresholds and target), its own keys kept."""
        if widget.kpi is None:
            match = cls.same_as(widget, ctx)
            return widget if match is None else widget.model_copy(update={"kpi": match})
        indicator = ctx.indicators.get(widget.kpi)
        if indicator is None:
            if widget.kpi not in ctx.failed_indicators:  # an invalid one is reported where it is
                ctx.problem(
                    ("kpi",),
                    f"indicateur `{widget.kpi}` inconnu",
                    did_you_mean(widget.kpi, ctx.indicators, "indicateurs")
                    or "déclarez-le dans config/indicators/<thème>.yaml (identifiant `thème.nom`)",
                )
            return None
        first = leaves(indicator, ctx.indicators.__getitem__)[0]
        update: dict[str, Any] = {"dataset": first.spec.dataset}
        for key in ("unit", "format", "decimals", "better"):
            if key not in widget.model_fields_set:
                update[key] = getattr(indicator.spec, key)
        if "title" not in widget.model_fields_set:
            update["title"] = indicator.label
        return widget.model_copy(update=update)

    @classmethod
    def same_as(cls, widget: KpiConfig, ctx: CheckContext) -> str | None:
        """The one declared indicator with the same dataset, measure and filters, if any."""
        dataset = ctx.datasets.get(widget.dataset or "")
        if dataset is None or widget.measure is None:
            return None
        try:
            node = parse_measure(dataset.measures.get(widget.measure, widget.measure))
        except ValueError:
            return None  # reported by the measure check
        found = [
            i.id
            for i in ctx.indicators.values()
            if i.measure == node and i.spec.dataset == widget.dataset and i.spec.where == widget.where
        ]
        return found[0] if len(found) == 1 else None

    @classmethod
    def check(cls, widget: KpiConfig, ctx: CheckContext) -> None:  # type: ignore[override]
        """Each comparison must be computable from the indicator's data (and units must match)."""
        if widget.kpi is not None:
            indicator = ctx.indicators[widget.kpi]
            parts = leaves(indicator, ctx.indicators.__getitem__)
        else:
            indicator, parts = None, []
        datasets = [ctx.datasets[p.spec.dataset] for p in parts if p.spec.dataset in ctx.datasets] or (
            [ctx.datasets[widget.dataset]] if widget.dataset in ctx.datasets else []
        )
        if not datasets:
            return
        periodic = any(d.period is not None for d in datasets)
        unit = indicator.unit_key if indicator else unit_of(widget.format, widget.unit)
        for i, item in enumerate(widget.compare_items()):
            loc: tuple[str | int, ...] = ("compare", i) if isinstance(widget.compare, list) else ("compare",)
            if item in ("previous_period", "previous_year") and not periodic and "compare" in widget.model_fields_set:
                ctx.problem(
                    loc,
                    f"comparaison `{item}` impossible : les données n'ont pas de période",
                    "déclarez `period` sur le jeu de données, ou retirez cette comparaison",
                )
            elif item in POSITIONS:
                levels = [
                    {k for k, v in (d.territory.model_dump() if d.territory else {}).items() if v} for d in datasets
                ]
                needed = {"departement", "epci", "commune"} if item == "rank" else {"epci", "commune"}
                if any(not (found & needed) for found in levels):
                    ctx.problem(
                        loc,
                        f"comparaison `{item}` impossible : les données ne sont pas découpées par commune ou EPCI",
                        "déclarez `territory: {commune: …}` sur le jeu de données, ou retirez cette comparaison",
                    )
            elif item == "target" and (indicator is None or indicator.spec.target is None):
                ctx.problem(
                    loc,
                    "comparaison `target` sans cible",
                    "déclarez `target` sur l'indicateur (config/indicators/)"
                    if indicator
                    else "utilisez `kpi:` avec un indicateur qui a une cible",
                )
            elif isinstance(item, CompareWith):
                other = ctx.indicators.get(item.indicator)
                if other is None:
                    if item.indicator not in ctx.failed_indicators:
                        ctx.problem(
                            (*loc, "indicator"),
                            f"indicateur `{item.indicator}` inconnu",
                            did_you_mean(item.indicator, ctx.indicators, "indicateurs")
                            or "déclarez-le dans config/indicators/<thème>.yaml",
                        )
                elif other.unit_key != unit:
                    ctx.problem(
                        (*loc, "indicator"),
                        f"unités différentes : `{item.indicator}` est en "
                        f"{other.unit_key or 'sans unité'}, "
                        f"la carte en {unit or 'sans unité'}",
                        "comparez des indicateurs de même unité et de même format",
                    )
        if widget.sparkline and not periodic:
            ctx.problem(
                ("sparkline",),
                "courbe impossible : les données n'ont pas de période",
                "retirez `sparkline`",
            )

    @classmethod
    def indicator(cls, widget: KpiConfig, ctx: Scope) -> Indicator:
        """The declared indicator, or an unnamed one made of the widget's measure."""
        if widget.kpi is not None:
            return ctx.registry.indicators[widget.kpi]
        assert widget.dataset is not None and widget.measure is not None
        named = ctx.dataset(widget.dataset).measures
        return widget_indicator(widget, widget.dataset, parse_measure(named.get(widget.measure, widget.measure)))

    @classmethod
    def evaluator(cls, widget: KpiConfig, ctx: Scope, batch: bool | None = None) -> Evaluator:
        """The engine computing this KPI for ``ctx`` (filters, territory, access rules), sharing
        its queries with the other KPIs of the page (``ctx.page()``)."""
        return Evaluator(
            ctx,
            cls.indicator(widget, ctx),
            territory_all=widget.territory == "all",
            period=widget.period,
            extra_where=dict(widget.where),
            batch=BATCH if batch is None else batch,
            page=ctx.page(),
        )

    @classmethod
    def values(cls, widget: KpiConfig, ctx: Scope) -> dict[str, Any]:
        """Current value and the value a year before, with their dates (benchmarks, exports).

        Each value is the measure computed by the database over the right rows (a ratio of sums
        stays a ratio of sums): a stock at the last period of the selection and one year before;
        a flow over the selected year up to its last period, and over the same months a year before.
        """
        result = cls.evaluator(widget, ctx).result(["previous_year"])
        previous = next((c for c in result.comparisons if c.kind == "previous_year"), None)
        return {
            "value": result.value,
            "previous": previous.reference if previous else None,
            "date": result.end,
            "start": result.start,
            "previous_date": previous.reference_period if previous else result.end,
            "exact": result.exact,
        }

    @classmethod
    def compute(cls, widget: KpiConfig, scope: Scope) -> tuple[Indicator, KpiResult]:
        """The indicator shown and everything its card shows (what :meth:`render` draws and
        :meth:`data` returns: one computation, so they cannot differ)."""
        evaluator = cls.evaluator(widget, scope)
        return evaluator.indicator, evaluator.result(widget.compare_items(), widget.sparkline)

    @classmethod
    def data(cls, widget: KpiConfig, scope: Scope) -> pd.DataFrame:  # type: ignore[override]
        """One row for the value (``element`` = `valeur`), one per comparison shown (its kind,
        the reference compared with) and one per point of the sparkline (`courbe`)."""
        indicator, result = cls.compute(widget, scope)
        return result_frame(indicator, result, unit_of(widget.format, widget.unit))

    @classmethod
    def render(cls, widget: KpiConfig, ctx: RenderContext) -> list:  # type: ignore[override]
        indicator, result = cls.compute(widget, ctx)
        return card(widget, indicator, result, ctx)


FRAME_LABELS = {
    "element": "Élément",
    "valeur": "Valeur",
    "reference": "Référence",
    "periode": "Période",
    "periode_reference": "Période de référence",
    "libelle": "Libellé",
}
"""French labels of the columns of a KPI's data."""


def result_frame(indicator: Indicator, result: KpiResult, unit: str = "") -> pd.DataFrame:
    """A KPI card's figures as a frame (see :meth:`Kpi.data`); ``unit``: that of its values."""
    rows: list[tuple[Any, ...]] = [("valeur", result.value, None, result.end, None, indicator.label)]
    for found in result.comparisons:
        rows.append((found.kind, found.value, found.reference, found.period, found.reference_period, found.label))
    rows += [("courbe", value, None, period, None, "") for period, value in result.sparkline]
    frame = pd.DataFrame(rows, columns=list(FRAME_LABELS))
    if result.secret:  # statistical secrecy: the value row is masked (« < 5 » in exports)
        frame[SECRET] = frame["element"] == "valeur"
        frame.attrs["secret_label"] = result.secret
        frame.attrs["secret_columns"] = ("valeur",)
    return labelled(frame, FRAME_LABELS, exact=result.exact, units={"valeur": unit, "reference": unit})
