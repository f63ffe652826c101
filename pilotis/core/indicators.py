"""Indicators: declared once in ``config/indicators/<theme>.yaml``, used by id everywhere.

An indicator ``rsa.foyers_allocataires`` is the key ``foyers_allocataires`` of
``config/indicators/rsa.yaml``. It is either a **measure** on one dataset
(``dataset`` + ``measure``, like a KPI widget) or a **formula** over other indicators
(``formula: rsa.foyers_allocataires / territoire.population * 1000``). It carries what a reader
needs to trust it: a plain-French definition, unit and format, the favourable direction, the
producing department, a referent, the update frequency, an optional target and alert thresholds.

The loader (:func:`load_indicators`) validates every file and reports, with ``file:line:col``:
unknown datasets, columns, measures and departments, unknown indicator ids in formulas (with a
« vouliez-vous dire » hint), formula cycles, and additions of quantities in different units.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from pilotis.core.errors import HintedValueError, did_you_mean
from pilotis.core.expressions import Grammar, Token, parse, walk
from pilotis.core.measures import AGGREGATES, Agg, BinOp, MeasureError, Node, Num, parse_measure
from pilotis.core.schema import Strict, Year

if TYPE_CHECKING:
    from pilotis.core.sources import DataSource
    from pilotis.core.yamlmarks import MarkedDocument

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


# --------------------------------------------------------------------------- loading


class IndicatorLoader:
    """Reads and checks `config/indicators/*.yaml` for the configuration loader.

    ``loader`` is :class:`pilotis.core.loader._Loader` (it reads files, validates models and collects
    issues); ``sources`` the datasets that loaded; ``departments`` the org chart.
    """

    def __init__(self, loader: Any, sources: dict[str, DataSource], departments: dict[str, str]) -> None:
        self.loader = loader
        self.sources = sources
        self.departments = departments
        self.specs: dict[str, tuple[IndicatorSpec, MarkedDocument, str]] = {}
        self.formulas: dict[str, Expr] = {}
        self.measures: dict[str, Node] = {}
        self.failed: set[str] = set()
        """Ids declared but invalid: their users are not reported again."""

    def issue(self, doc: MarkedDocument, loc: tuple, message: str, hint: str = "", key: bool = False) -> None:
        self.loader.issues.append(doc.issue(loc, message, hint, key=key))

    def load(self, folder: Path) -> dict[str, Indicator]:
        """Every valid indicator, by id (problems go to the loader's issues)."""
        if not folder.is_dir():
            return {}
        self.loader.other_extensions(folder)
        for path in sorted(folder.glob("*.yaml")):
            self.file(path)
        self.check_references()
        result: dict[str, Indicator] = {}
        for indicator_id, (spec, doc, name) in self.specs.items():
            if indicator_id in self.failed:
                continue
            formula = self.formulas.get(indicator_id)
            result[indicator_id] = Indicator(
                id=indicator_id,
                spec=spec,
                source_file=Path(doc.path),
                line=doc.mark((name,), key=True)[0],
                measure=self.measures.get(indicator_id),
                formula=formula,
                requires=frozenset(self.closure(indicator_id)),
                additive=self.additive(indicator_id),
            )
        return result

    def file(self, path: Path) -> None:
        doc = self.loader.read(path)
        if doc is None or doc.data is None:
            return
        theme = path.stem
        if not re.match(NAME, theme):
            self.issue(
                doc,
                (),
                f"nom de fichier `{path.name}` invalide pour un thème d'indicateurs",
                "lettres minuscules sans accent, chiffres et `_` (le nom du fichier est le thème : `rsa.yaml`)",
            )
            return
        if not isinstance(doc.data, dict):
            self.issue(
                doc,
                (),
                "le fichier doit associer un nom à chaque indicateur",
                "écrivez `foyers_allocataires:` puis ses clés (`label`, `definition`…) indentées",
            )
            return
        for name, raw in doc.data.items():
            loc = (name,)
            if not isinstance(name, str) or not re.match(NAME, name):
                self.issue(
                    doc,
                    loc,
                    f"nom d'indicateur `{name}` invalide",
                    "lettres minuscules sans accent, chiffres et `_`, en commençant par une lettre",
                    key=True,
                )
                continue
            indicator_id = f"{theme}.{name}"
            if not isinstance(raw, dict):
                self.issue(
                    doc,
                    loc,
                    f"l'indicateur `{indicator_id}` doit être un bloc `clé: valeur`",
                    "indentez ses clés (`label`, `definition`, `dataset`…) sous son nom",
                )
                self.failed.add(indicator_id)
                self.specs[indicator_id] = (
                    IndicatorSpec.model_construct(label="", definition=""),
                    doc,
                    name,
                )
                continue
            spec = self.loader.validate(IndicatorSpec, raw, doc, loc)
            if spec is None:
                self.failed.add(indicator_id)
                self.specs[indicator_id] = (
                    IndicatorSpec.model_construct(label="", definition=""),
                    doc,
                    name,
                )
                continue
            self.specs[indicator_id] = (spec, doc, name)
            self.check(indicator_id, spec, doc, loc)

    def check(self, indicator_id: str, spec: IndicatorSpec, doc: MarkedDocument, loc: tuple) -> None:
        before = len(self.loader.issues)
        if spec.department is not None and spec.department not in self.departments:
            self.issue(
                doc,
                (*loc, "department"),
                f"direction `{spec.department}` inconnue",
                did_you_mean(spec.department, self.departments)
                or "déclarez les directions dans config/departments.yaml",
            )
        if spec.dataset is not None and spec.measure is not None:
            node = self.check_measure(spec.dataset, spec.measure, spec.where, doc, loc)
            if node is None:
                self.failed.add(indicator_id)  # reported here, or where its dataset is defined
            else:
                self.measures[indicator_id] = node
        if spec.formula is not None:
            try:
                self.formulas[indicator_id] = parse_formula(spec.formula)
            except MeasureError as exc:
                self.issue(doc, (*loc, "formula"), str(exc), exc.hint)
        if spec.target is not None and spec.target.dataset is not None and spec.target.measure is not None:
            self.check_measure(
                spec.target.dataset,
                spec.target.measure,
                spec.target.where,
                doc,
                (*loc, "target"),
                year_column=spec.target.year_column,
            )
        if len(self.loader.issues) > before:
            self.failed.add(indicator_id)

    def check_measure(
        self,
        dataset: str,
        measure: str,
        where: dict,
        doc: MarkedDocument,
        loc: tuple,
        year_column: str | None = None,
    ) -> Node | None:
        """Check `dataset`, `measure`, `where` (and `year_column`) at ``loc``; the measure."""
        source = self.sources.get(dataset)
        if source is None:
            if dataset not in self.loader.failed:
                self.issue(
                    doc,
                    (*loc, "dataset"),
                    f"jeu de données `{dataset}` inconnu",
                    did_you_mean(dataset, self.sources, "jeux de données")
                    or "déclarez-le dans config/datasets/<fichier>.yaml",
                )
            return None
        columns = self.loader.columns(source)
        named = source.config.measures
        before = len(self.loader.issues)
        self.loader.check_measure(measure, columns, doc, (*loc, "measure"), named)
        for column in where:
            if column not in columns:
                self.issue(
                    doc,
                    (*loc, "where", column),
                    f"colonne `{column}` absente du jeu de données",
                    did_you_mean(column, columns, "colonnes"),
                    key=True,
                )
        if year_column is not None and year_column not in columns:
            self.issue(
                doc,
                (*loc, "year_column"),
                f"colonne `{year_column}` absente du jeu de données",
                did_you_mean(year_column, columns, "colonnes"),
            )
        if len(self.loader.issues) > before:
            return None
        try:
            return parse_measure(named.get(measure, measure))
        except MeasureError:
            return None  # a named measure that does not parse: reported where the dataset declares it

    # ------------------------------------------------------------------ formulas
    def check_references(self) -> None:
        """Unknown ids, cycles and unit mismatches in formulas (reported where the formula is)."""
        known = set(self.specs)
        for indicator_id, expr in list(self.formulas.items()):
            spec, doc, name = self.specs[indicator_id]
            for ref in refs_of(expr):
                if ref not in known:
                    self.issue(
                        doc,
                        (name, "formula"),
                        f"indicateur `{ref}` inconnu dans la formule",
                        did_you_mean(ref, known, "indicateurs")
                        or "déclarez-le dans config/indicators/<thème>.yaml (identifiant `thème.nom`)",
                    )
                    self.failed.add(indicator_id)
        reported: set[frozenset[str]] = set()
        for indicator_id in sorted(self.formulas):
            cycle = self.cycle_from(indicator_id)
            if cycle and frozenset(cycle) not in reported:
                reported.add(frozenset(cycle))
                first = min(cycle[:-1])
                start = cycle.index(first)
                shown = cycle[start:-1] + cycle[:start] + [first]
                spec, doc, name = self.specs[first]
                self.issue(
                    doc,
                    (name, "formula"),
                    "formules en cycle : " + " → ".join(f"`{i}`" for i in shown),
                    "un indicateur ne peut pas dépendre de lui-même, même indirectement",
                )
            if cycle:
                self.failed.update(cycle)
        for indicator_id, expr in self.formulas.items():
            if indicator_id in self.failed:
                continue
            spec, doc, name = self.specs[indicator_id]
            for left, right in self.unit_pairs(expr):
                self.issue(
                    doc,
                    (name, "formula"),
                    "unités incompatibles dans la formule : "
                    f"`{left[0]}` ({left[1] or 'sans unité'}) "
                    f"et `{right[0]}` ({right[1] or 'sans unité'}) ne s'additionnent pas",
                    "n'additionnez ou ne soustrayez que des indicateurs de même unité",
                )
                self.failed.add(indicator_id)
        # an indicator built on an invalid one is invalid too (not reported again)
        changed = True
        while changed:
            changed = False
            for indicator_id, expr in self.formulas.items():
                if indicator_id not in self.failed and any(r in self.failed for r in refs_of(expr)):
                    self.failed.add(indicator_id)
                    changed = True

    def cycle_from(self, start: str) -> list[str]:
        """A cycle of formulas through ``start`` (``[a, b, a]``), or ``[]``."""
        path: list[str] = []

        def visit(node: str) -> list[str]:
            if node in path:
                return path[path.index(node) :] + [node]
            expr = self.formulas.get(node)
            if expr is None:
                return []
            path.append(node)
            for ref in refs_of(expr):
                found = visit(ref)
                if found:
                    return found
            path.pop()
            return []

        found = visit(start)
        return found if found and start in found else []

    def unit_of(self, indicator_id: str) -> str | None:
        entry = self.specs.get(indicator_id)
        if entry is None or indicator_id in self.failed and indicator_id not in self.formulas:
            return None
        spec = entry[0]
        return {"euro": "€", "percent": "%"}.get(spec.format, (spec.unit or "").strip())

    def unit_pairs(self, expr: Expr) -> Iterator[tuple[tuple[str, str], tuple[str, str]]]:
        """Operands of `+` / `-` that are both indicators with different units."""
        if not isinstance(expr, BinOp):
            return
        if expr.op in "+-" and isinstance(expr.left, Ref) and isinstance(expr.right, Ref):
            left, right = self.unit_of(expr.left.id), self.unit_of(expr.right.id)
            if left is not None and right is not None and left != right:
                yield (expr.left.id, left), (expr.right.id, right)
        yield from self.unit_pairs(expr.left)
        yield from self.unit_pairs(expr.right)

    def closure(self, indicator_id: str) -> set[str]:
        found = {indicator_id}
        for ref in refs_of(self.formulas[indicator_id]) if indicator_id in self.formulas else []:
            found |= self.closure(ref)
        return found

    def additive(self, indicator_id: str) -> bool:
        if indicator_id in self.measures:
            return is_additive_measure(self.measures[indicator_id])
        expr = self.formulas.get(indicator_id)
        return expr is not None and self._additive_expr(expr)

    def _additive_expr(self, expr: Expr) -> bool:
        if isinstance(expr, Ref):
            return self.additive(expr.id)
        if isinstance(expr, BinOp):
            left: Expr = expr.left
            right: Expr = expr.right
            return expr.op in "+-" and self._additive_expr(left) and self._additive_expr(right)
        return False
