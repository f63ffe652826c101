"""The plumbing every part of the configuration loader shares: reading a YAML file once, validating
a pydantic model, collecting issues in French with ``file:line``, checking a measure.

:class:`ConfigReader` is the base of :class:`pilotis.core.loader._Loader`; the parts that read
each kind of file (``load_portal``, ``load_datasets``, ``load_dashboards``) extend it, and the
indicator and séance checks (``indicators.IndicatorLoader``, ``seance_config``) are handed one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from pilotis.core.errors import ConfigIssue, did_you_mean
from pilotis.core.measures import MeasureError, columns_of, parse_measure
from pilotis.core.sources import DataSource, DuckRuntime
from pilotis.core.validation import pydantic_issues
from pilotis.core.yamlmarks import MarkedDocument, read_yaml


class ConfigReader:
    """Files read once, issues collected, what the later checks need to know about earlier ones."""

    def __init__(self, root: Path, config_dir: Path, dashboards_dir: Path) -> None:
        self.root = root
        self.config_dir = config_dir
        self.dashboards_dir = dashboards_dir
        self.issues: list[ConfigIssue] = []
        self.warnings: list[str] = []
        self.duck = DuckRuntime()
        self.failed: set[str] = set()
        self.docs: dict[Path, MarkedDocument | None] = {}
        self.portal_doc: MarkedDocument | None = None
        self.schemas: dict[str, set[str]] = {}
        self.indicators: dict[str, Any] = {}
        self.failed_indicators: set[str] = set()
        self.failed_dashboards: set[str] = set()
        """Ids of dashboards whose file failed: séances naming them are not reported again."""
        self.failed_widgets: dict[str, set[str]] = {}
        """Ids of the widgets that failed, by dashboard id (same reason)."""
        self.sensor_sources: set[str] = set()
        """Ids of the sensor sources (`config/sensors/`), read before the datasets naming them."""
        self.app_database = ""
        """The application database's URL, handed to every source (sensor readings live there)."""

    def display(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(path)

    def read(self, path: Path) -> MarkedDocument | None:
        """Parse ``path`` once (its problems are reported once, however often it is read)."""
        if path not in self.docs:
            doc, issues = read_yaml(path, self.display(path))
            self.issues.extend(issues)
            self.docs[path] = doc
        return self.docs[path]

    def columns(self, source: DataSource) -> set[str]:
        """Column names of a source that loaded (read once per load)."""
        if source.id not in self.schemas:
            self.schemas[source.id] = set(source.schema())
        return self.schemas[source.id]

    def other_extensions(self, folder: Path) -> None:
        """A `.yml` file would be silently ignored: say so."""
        for path in sorted(folder.glob("*.yml")):
            self.issues.append(
                ConfigIssue(
                    self.display(path), 1, 1, "fichier ignoré : extension `.yml`", f"renommez-le `{path.stem}.yaml`"
                )
            )

    def spec_files(self, folder: str, what: str, hint: str) -> Iterator[tuple[Path, MarkedDocument]]:
        """Each ``<config>/<folder>/*.yaml`` that parses into a ``clé: valeur`` block, in name order.

        An empty file or one that is not such a block is reported as « fichier vide » or
        « <what> est un bloc `clé: valeur` » with ``hint`` (what to write first) and skipped;
        ``.yml`` files are reported as ignored. Séances, reports, alert rules and sensor sources
        are read this way.
        """
        directory = self.config_dir / folder
        if not directory.is_dir():
            return
        self.other_extensions(directory)
        for path in sorted(directory.glob("*.yaml")):
            doc = self.read(path)
            if doc is None:
                continue
            if not isinstance(doc.data, dict):
                problem = "fichier vide" if doc.data is None else f"{what} est un bloc `clé: valeur`"
                self.issues.append(doc.issue((), problem, hint))
                continue
            yield path, doc

    def dashboard_named(self, doc: MarkedDocument, loc: tuple, name: str, dashboards: dict[str, Any]) -> Any:
        """The dashboard ``name`` (a séance item's, a report section's, an alert rule's), or None
        with « tableau de bord inconnu » at ``loc`` — unless its own file failed (reported there)."""
        dashboard = dashboards.get(name)
        if dashboard is None and name not in self.failed_dashboards:
            self.issues.append(
                doc.issue(
                    loc,
                    f"tableau de bord `{name}` inconnu",
                    did_you_mean(name, dashboards, "tableaux de bord")
                    or "indiquez l'`id` d'un tableau de bord de dashboards/",
                )
            )
        return dashboard

    def staged(self) -> list[ConfigIssue]:
        """The issues, each with its file's place in the order of dependencies.

        Datasets come first (everything reads them), then the org chart, the portal, the
        indicators, the dashboards (and their callbacks modules), the séances: a knock-on error
        (a séance naming a widget that failed) is listed after its root cause.
        """
        config = self.config_dir.resolve()
        folders = [
            (config / "datasets", 0),
            (config / "departments.yaml", 1),
            (config / "portal.yaml", 2),
            (config / "indicators", 3),
            (self.dashboards_dir.resolve(), 4),
            (config / "seances", 5),
            (config / "alerts", 6),
            (config / "reports", 7),
        ]
        stages: dict[str, int] = {}
        for issue in self.issues:
            if issue.path not in stages:
                path = Path(issue.path).resolve()
                found = [rank for folder, rank in folders if path == folder or folder in path.parents]
                stages[issue.path] = found[0] if found else len(folders)
        return [replace(issue, stage=stages[issue.path]) for issue in self.issues]

    def validate(self, model: type[BaseModel], data: Any, doc: MarkedDocument, loc: tuple = ()) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            self.issues.extend(pydantic_issues(exc, doc, model, data, loc))
            return None

    def check_measure(
        self, text: str, columns: set[str], doc: MarkedDocument, loc: tuple, named: dict[str, str] | None = None
    ) -> None:
        named = named or {}
        if text in named:
            return
        try:
            node = parse_measure(text)
        except MeasureError as exc:
            word = str(text).strip()
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", word):  # a bare word: a measure name?
                message = f"mesure `{word}` inconnue : ni mesure nommée du jeu de données, ni expression"
                if word in columns:
                    hint = f"`{word}` est une colonne : écrivez un agrégat, par exemple `sum({word})`"
                elif named:
                    hint = did_you_mean(word, named, "mesures nommées")
                else:
                    hint = "déclarez-la dans `measures:` du jeu de données, ou écrivez `sum(colonne)`"
                self.issues.append(doc.issue(loc, message, hint))
            else:
                self.issues.append(doc.issue(loc, str(exc), exc.hint))
            return
        for column in sorted(columns_of(node) - columns):
            hint = (
                f"`{column}` est une mesure nommée : écrivez `{column}` seul, sans agrégat"
                if column in named
                else did_you_mean(column, columns, "colonnes")
            )
            self.issues.append(doc.issue(loc, f"colonne `{column}` absente du jeu de données", hint))
