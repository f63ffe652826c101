"""Indicators: declared once in ``config/indicators/<theme>.yaml``, used by id everywhere.

An indicator ``rsa.foyers_allocataires`` is the key ``foyers_allocataires`` of
``config/indicators/rsa.yaml``. It is either a **measure** on one dataset
(``dataset`` + ``measure``, like a KPI widget) or a **formula** over other indicators
(``formula: rsa.foyers_allocataires / territoire.population * 1000``). It carries what a reader
needs to trust it: a plain-French definition, unit and format, the favourable direction, the
producing department, a referent, the update frequency, an optional target and alert thresholds.

The loader (:class:`pilotis.core.indicator_config.IndicatorLoader`) validates every file and
reports, with ``file:line:col``: unknown datasets, columns, measures and departments, unknown
indicator ids in formulas (with a « vouliez-vous dire » hint), formula cycles, and additions of
quantities in different units.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from pilotis.core.errors import HintedValueError
from pilotis.core.expressions import Grammar, Token, parse, walk
from pilotis.core.measures import AGGREGATES, Agg, BinOp, MeasureError, Node, Num
from pilotis.core.schema import Strict, Year

if TYPE_CHECKING:
    pass

NAME = r"^[a-z][a-z0-9_]*$"
"""An indicator's name inside its theme file (and a theme file's name)."""
ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
"""A full indicator id: ``<theme>.<name>``."""

FREQUENCIES = {
    "daily": ("quotidienne", "daily"),
    "weekly": ("hebdomadaire", "weekly"),
    "monthly": ("mensuelle", "monthly"),
    "quarterly": ("trimestrielle", "quarterly"),
    "yearly": ("annuelle", "yearly"),
    "irregular": ("irrégulière", "irregular"),
}
"""Update frequencies and their French / English names."""

Scalar = str | int | float | bool


# --------------------------------------------------------------------------- the YAML models


class Referent(Strict):
    """Who answers questions about an indicator (shown on its card and in the catalogue)."""

    name: str = Field(min_length=1)
    """Personne ou service référent (« Observatoire social »)."""
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    """Adresse électronique du référent."""
    phone: str | None = None
    """Téléphone (texte libre : « 02 43 00 00 00, poste 4521 »)."""


class TargetSpec(Strict):
    """A target: a fixed value, or one value per year read from a dataset (a goals workbook)."""

    value: float | None = None
    """Valeur cible fixe (dans l'unité de l'indicateur ; une fraction 0–1 pour un pourcentage)."""
    year: Year | None = None
    """Échéance de la cible fixe (année), affichée avec elle."""
    label: str = ""
    """D'où vient la cible (« Plan départemental d'insertion 2020 »), affiché avec elle."""
    dataset: str | None = None
    """Jeu de données des cibles (au lieu de `value`) : une cible par année."""
    measure: str | None = None
    """Mesure lue dans `dataset` (ex. `max(cible)`)."""
    where: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    """Filtres `colonne: valeur` qui isolent les cibles de cet indicateur dans `dataset`."""
    year_column: str | None = None
    """Colonne (nombre entier) de l'année de chaque cible dans `dataset` ; la cible lue est
    celle de l'année de la valeur affichée."""

    @model_validator(mode="after")
    def _one_source(self) -> TargetSpec:
        fixed = self.value is not None
        read = self.dataset is not None or self.measure is not None
        if fixed == read:
            raise HintedValueError(
                "indiquez `value` (cible fixe) ou `dataset` et `measure` (cibles lues)",
                "exemple : `target: {value: 3800, year: 2020}`",
            )
        if read and (self.dataset is None or self.measure is None):
            raise HintedValueError(
                "une cible lue dans un jeu de données a besoin de `dataset` et `measure`",
                "exemple : `{dataset: objectifs, measure: max(cible), year_column: annee}`",
            )
        return self


class Thresholds(Strict):
    """Alert thresholds, in the unfavourable direction given by `better`.

    With `better: down` (less is better) the status is « alerte » from `alert` upwards and
    « vigilance » from `warning` upwards; with `better: up`, from these values downwards.
    """

    warning: float | None = None
    """Seuil de vigilance."""
    alert: float | None = None
    """Seuil d'alerte."""

    @model_validator(mode="after")
    def _some(self) -> Thresholds:
        if self.warning is None and self.alert is None:
            raise HintedValueError("indiquez au moins un seuil", "exemple : `thresholds: {warning: 4200, alert: 4500}`")
        return self


class IndicatorSpec(Strict):
    """One indicator: a key of `config/indicators/<theme>.yaml`, used as `<theme>.<key>`."""

    label: str = Field(min_length=1)
    """Libellé court affiché sur les cartes (« Foyers allocataires du RSA »)."""
    definition: str = Field(min_length=1)
    """Définition en français courant : ce qui est compté, à quelle date, ce qui est exclu."""
    dataset: str | None = None
    """Jeu de données source (avec `measure`), défini dans `config/datasets/`."""
    measure: str | None = None
    """Mesure sur `dataset` : nom déclaré sur le jeu de données ou expression
    (`sum(foyers_allocataires)`)."""
    where: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    """Filtres fixes `colonne: valeur` (ou liste) appliqués avant agrégation."""
    formula: str | None = None
    """Au lieu de `dataset` et `measure` : calcul à partir d'autres indicateurs, par leurs
    identifiants (`rsa.foyers_allocataires / territoire.population * 1000`). Chaque composante
    est calculée par le moteur de requêtes, pour le même territoire et la même période."""
    unit: str = ""
    """Unité affichée après la valeur (`foyers`, `pour 1 000 hab.`)."""
    format: Literal["number", "percent", "euro"] = "number"
    """Format : `number`, `percent` (valeur entre 0 et 1) ou `euro`."""
    decimals: int = Field(default=0, ge=0, le=6)
    """Nombre de décimales affichées."""
    better: Literal["up", "down", "neutral"] = "neutral"
    """Sens favorable : `up` (une hausse est favorable), `down` ou `neutral`."""
    department: str | None = None
    """Direction productrice (identifiant de `config/departments.yaml`)."""
    referent: Referent | None = None
    """Référent à contacter : `{name: …, email: …, phone: …}`."""
    frequency: Literal["daily", "weekly", "monthly", "quarterly", "yearly", "irregular"] | None = None
    """Fréquence de mise à jour : `daily`, `weekly`, `monthly`, `quarterly`, `yearly` ou
    `irregular`."""
    target: TargetSpec | None = None
    """Cible : `{value: 0.35, year: 2018}` ou lue par année dans un jeu de données. Pour un
    indicateur de volume (additionnable), la cible vaut pour tout le département."""
    thresholds: Thresholds | None = None
    """Seuils `{warning: …, alert: …}` dans le sens défavorable : la carte affiche un statut
    (icône et texte, jamais la couleur seule)."""

    @model_validator(mode="after")
    def _definition(self) -> IndicatorSpec:
        measured = self.dataset is not None or self.measure is not None
        if measured and self.formula is not None:
            raise HintedValueError(
                "`formula` et `dataset`/`measure` s'excluent",
                "un indicateur est soit une mesure sur un jeu de données, soit une formule",
            )
        if not measured and self.formula is None:
            raise HintedValueError(
                "indiquez `dataset` et `measure`, ou `formula`",
                "exemple : `dataset: rsa_communes` et `measure: sum(foyers_allocataires)`",
            )
        if measured and (self.dataset is None or self.measure is None):
            missing = "measure" if self.measure is None else "dataset"
            raise HintedValueError(f"clé `{missing}` manquante", f"ajoutez `{missing}: …`")
        if self.formula is not None and self.where:
            raise HintedValueError(
                "`where` ne s'applique pas à une formule",
                "mettez les filtres sur les indicateurs qu'elle utilise",
            )
        if self.thresholds is not None:
            if self.better == "neutral":
                raise HintedValueError(
                    "des seuils demandent un sens favorable",
                    "ajoutez `better: up` ou `better: down`",
                )
            warning, alert = self.thresholds.warning, self.thresholds.alert
            if warning is not None and alert is not None:
                if (self.better == "down" and warning > alert) or (self.better == "up" and warning < alert):
                    word = "inférieur" if self.better == "down" else "supérieur"
                    raise HintedValueError(
                        f"le seuil de vigilance doit être {word} au seuil d'alerte (`better: {self.better}`)",
                        "inversez `warning` et `alert`",
                    )
        return self


# --------------------------------------------------------------------------- formulas


@dataclass(frozen=True)
class Ref:
    """A reference to another indicator inside a formula."""

    id: str


Expr = Ref | Num | BinOp
"""A formula tree: indicator references, numbers, arithmetic (``BinOp`` of :mod:`measures`)."""

FORMULA_EXAMPLE = "exemple : `rsa.foyers_allocataires / territoire.population * 1000`"


def _reference(tokens: list[Token], index: int, text: str) -> tuple[Ref, int]:
    """The atom of a formula: an indicator id ``theme.name``, starting at ``tokens[index]``."""
    token = tokens[index]
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    if (following is not None and following.text == "(") or token.text in AGGREGATES:
        raise MeasureError(
            f"formule `{text}` : `{token.text}(…)` est une mesure, pas un indicateur",
            "une formule combine des indicateurs ; une mesure s'écrit avec `dataset` et `measure`",
            token.pos,
        )
    if not ID.match(token.text):
        raise MeasureError(
            f"formule `{text}` : `{token.text}` n'est pas un identifiant d'indicateur",
            "un identifiant s'écrit `thème.nom` en minuscules, ex. `rsa.foyers_allocataires`",
            token.pos,
        )
    return Ref(token.text), index + 1


FORMULA = Grammar(
    what="formule",
    example=FORMULA_EXAMPLE,
    atom=_reference,
    operand_hint="écrivez un identifiant d'indicateur ou un nombre à cet endroit",
    end_hint="terminez par un identifiant d'indicateur ou un nombre",
    error=MeasureError,
)
"""Formulas: the shared expression language of :mod:`pilotis.core.expressions` over indicator ids."""


def parse_formula(text: str) -> Expr:
    """Parse a formula over indicator ids; raise :class:`MeasureError` (message, hint, position)."""
    expr: Expr = parse(text, FORMULA)
    return expr


def refs_of(expr: Expr) -> list[str]:
    """Indicator ids a formula uses, in order of appearance (no duplicates)."""
    return list(dict.fromkeys(node.id for node in walk(expr) if isinstance(node, Ref)))


def evaluate(expr: Expr, value_of: Callable[[str], Any]) -> Any:
    """The value of a formula, ``value_of(id)`` giving each indicator's value.

    Works on numbers and on pandas Series alike; a missing value (None) gives None, a division
    by zero gives None (NaN in a Series).
    """
    if isinstance(expr, Num):
        return expr.value
    if isinstance(expr, Ref):
        return value_of(expr.id)
    left = evaluate(expr.left, value_of)
    right = evaluate(expr.right, value_of)
    if left is None or right is None:
        return None
    if expr.op == "/":
        if hasattr(right, "where"):  # a Series: 0 -> NaN
            return left / right.where(right != 0)
        return None if right == 0 else left / right
    return {"+": lambda: left + right, "-": lambda: left - right, "*": lambda: left * right}[expr.op]()


def is_additive_measure(node: Node) -> bool:
    """True for ``sum(…)``/``count(…)`` and sums or differences of them (a volume, not a ratio)."""
    if isinstance(node, Agg):
        return node.func in ("sum", "count")
    if isinstance(node, BinOp):
        return node.op in "+-" and is_additive_measure(node.left) and is_additive_measure(node.right)
    return False


# --------------------------------------------------------------------------- loaded indicators


@dataclass(frozen=True)
class Indicator:
    """A validated indicator, as the engine uses it."""

    id: str
    spec: IndicatorSpec
    source_file: Path | None = None
    line: int = 1
    measure: Node | None = None
    """The parsed measure (named measures resolved), for a measured indicator."""
    formula: Expr | None = None
    """The parsed formula, for a computed indicator."""
    requires: frozenset[str] = field(default_factory=frozenset)
    """This id and every indicator its formula uses, transitively."""
    additive: bool = False
    """A volume (sums of counts or amounts: compared with an average per territory) rather
    than a ratio."""

    @property
    def theme(self) -> str:
        """The theme (the file name): ``rsa`` for ``rsa.foyers_allocataires``."""
        return self.id.split(".", 1)[0]

    @property
    def label(self) -> str:
        """The indicator's label."""
        return self.spec.label

    @property
    def unit_key(self) -> str:
        """What values of this indicator are counted in (``€`` for euros, ``%`` for percents)."""
        if self.spec.format == "euro":
            return "€"
        if self.spec.format == "percent":
            return "%"
        return self.spec.unit.strip()


def leaves(indicator: Indicator, lookup: Callable[[str], Indicator]) -> list[Indicator]:
    """The measured indicators a (possibly computed) indicator is made of, in order."""
    if indicator.formula is None:
        return [indicator]
    found: dict[str, Indicator] = {}
    for ref in refs_of(indicator.formula):
        for leaf in leaves(lookup(ref), lookup):
            found.setdefault(leaf.id, leaf)
    return list(found.values())


def widget_indicator(widget: Any, dataset: str, measure: Node) -> Indicator:
    """An unnamed indicator for a KPI widget written with `dataset` + `measure` (no `kpi:`)."""
    spec = IndicatorSpec.model_construct(
        label=widget.title or widget.id,
        definition=widget.description or "",
        dataset=dataset,
        measure="",
        where={},
        formula=None,
        unit=widget.unit,
        format=widget.format,
        decimals=widget.decimals,
        better=widget.better,
        department=None,
        referent=None,
        frequency=None,
        target=None,
        thresholds=None,
    )
    return Indicator(id="", spec=spec, measure=measure, additive=is_additive_measure(measure))
