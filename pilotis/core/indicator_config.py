"""Loader part: `config/indicators/*.yaml` — each file validated, measures checked against their
dataset, formulas against the other indicators (unknown ids, cycles, units), with ``file:line:col``.

The models, formulas and loaded :class:`~pilotis.core.indicators.Indicator` are in
:mod:`pilotis.core.indicators`; this is how the configuration loader reads them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from pilotis.core.errors import did_you_mean
from pilotis.core.indicators import (
    NAME,
    Expr,
    Indicator,
    IndicatorSpec,
    Ref,
    is_additive_measure,
    parse_formula,
    refs_of,
)
from pilotis.core.load_files import ConfigReader
from pilotis.core.measures import BinOp, MeasureError, Node, parse_measure

if TYPE_CHECKING:
    from pilotis.core.sources import DataSource
    from pilotis.core.yamlmarks import MarkedDocument


class IndicatorLoader:
    """Reads and checks `config/indicators/*.yaml` for the configuration loader.

    ``loader`` is the configuration loader (a :class:`~pilotis.core.load_files.ConfigReader`: it
    reads files, validates models and collects issues); ``sources`` the datasets that loaded;
    ``departments`` the org chart.
    """

    def __init__(self, loader: ConfigReader, sources: dict[str, DataSource], departments: dict[str, str]) -> None:
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
