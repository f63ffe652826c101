"""Load and validate ``config/`` and ``dashboards/``; report every problem of every file at once."""

from __future__ import annotations

import importlib.util
import re
import logging
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel, ValidationError

from pilotis.errors import ConfigError, ConfigIssue, did_you_mean
from pilotis.measures import MeasureError, columns_of, parse_measure
from pilotis.registry import Dashboard, Registry
from pilotis.schema import SLUG, DashboardSpec, DatasetBase, DataWidgetBase, PortalConfig, WidgetBase
from pilotis.sources import SOURCE_TYPES, DataSource, DuckRuntime, SourceError
from pilotis.validation import pydantic_issues
from pilotis.widgets import WIDGET_TYPES, CheckContext
from pilotis.yamlmarks import MarkedDocument, read_yaml

log = logging.getLogger(__name__)
RESERVED_PATHS = ("/", "/login", "/logout", "/admin", "/api", "/assets", "/seance")


def _register_builtins() -> None:
    import data_sources  # noqa: F401
    import layouts  # noqa: F401


class _Loader:
    def __init__(self, root: Path, config_dir: Path, dashboards_dir: Path) -> None:
        self.root = root
        self.config_dir = config_dir
        self.dashboards_dir = dashboards_dir
        self.issues: list[ConfigIssue] = []
        self.warnings: list[str] = []
        self.duck = DuckRuntime()
        self.failed: set[str] = set()

    def display(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(path)

    def read(self, path: Path) -> MarkedDocument | None:
        doc, issues = read_yaml(path, self.display(path))
        self.issues.extend(issues)
        return doc

    def validate(self, model: type[BaseModel], data: Any, doc: MarkedDocument, loc: tuple = ()) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            self.issues.extend(pydantic_issues(exc, doc, model, data, loc))
            return None

    # ------------------------------------------------------------------ portal
    def portal(self) -> PortalConfig | None:
        path = self.config_dir / "portal.yaml"
        if not path.exists():
            self.issues.append(ConfigIssue(self.display(path), 1, 1, "fichier manquant",
                                           "créez config/portal.yaml (voir le README)"))
            return None
        doc = self.read(path)
        if doc is None:
            return None
        if not isinstance(doc.data, dict):
            self.issues.append(doc.issue((), "le fichier doit être un bloc `clé: valeur`"))
            return None
        return self.validate(PortalConfig, doc.data, doc)

    # ------------------------------------------------------------------ datasets
    def datasets(self) -> dict[str, DataSource]:
        sources: dict[str, DataSource] = {}
        seen: dict[str, str] = {}
        for path in sorted((self.config_dir / "datasets").glob("*.yaml")):
            doc = self.read(path)
            if doc is None or doc.data is None:
                continue
            if not isinstance(doc.data, dict):
                self.issues.append(doc.issue((), "le fichier doit associer un identifiant à chaque jeu de données",
                                             "écrivez `mon_jeu:` puis ses options indentées"))
                continue
            for dataset_id, spec in doc.data.items():
                loc = (dataset_id,)
                if dataset_id in seen:
                    self.issues.append(doc.issue(loc, f"jeu de données `{dataset_id}` déjà défini dans {seen[dataset_id]}",
                                                 "renommez l'un des deux", key=True))
                    continue
                seen[dataset_id] = doc.path
                if not re.match(SLUG, str(dataset_id)):
                    self.issues.append(doc.issue(loc, f"identifiant `{dataset_id}` invalide",
                                                 "lettres minuscules, chiffres et `_`", key=True))
                    continue
                source = self.dataset(dataset_id, spec, doc)
                if source is not None:
                    sources[dataset_id] = source
        return sources

    def dataset(self, dataset_id: str, spec: Any, doc: MarkedDocument) -> DataSource | None:
        loc = (dataset_id,)
        if not isinstance(spec, dict):
            self.issues.append(doc.issue(loc, "un jeu de données est un bloc `clé: valeur`"))
            return None
        kind = spec.get("type")
        if kind not in SOURCE_TYPES:
            message = "clé `type` obligatoire manquante" if kind is None else f"type de source `{kind}` inconnu"
            self.issues.append(doc.issue((*loc, "type") if kind else loc, message,
                                         did_you_mean(str(kind), SOURCE_TYPES), key=kind is None))
            return None
        cls = SOURCE_TYPES[kind]
        config = self.validate(cls.Config, spec, doc, loc)
        if config is None:
            return None
        source = cls(dataset_id, config, self.root, self.duck)
        self.failed.add(dataset_id)
        try:
            columns = set(source.schema())
        except SourceError as exc:
            where = "path" if "path" in spec else "url" if "url" in spec else "type"
            self.issues.append(doc.issue((*loc, where), f"source `{dataset_id}` illisible : {exc}",
                                         "vérifiez le chemin ou la connexion"))
            return None
        self.check_dataset_columns(config, columns, doc, loc)
        self.failed.discard(dataset_id)
        return source

    def check_dataset_columns(self, config: DatasetBase, columns: set[str], doc: MarkedDocument,
                              loc: tuple) -> None:
        refs: list[tuple[tuple, str]] = [((*loc, "columns", name), name) for name in config.columns]
        if config.territory:
            refs += [((*loc, "territory", k), v) for k, v in config.territory.model_dump().items() if v]
        if config.period:
            refs.append(((*loc, "period", "column"), config.period.column))
        for ref_loc, column in refs:
            if column not in columns:
                self.issues.append(doc.issue(ref_loc, f"colonne `{column}` absente du jeu de données",
                                             did_you_mean(column, columns)))
        for name, text in config.measures.items():
            self.check_measure(text, columns, doc, (*loc, "measures", name))

    def check_measure(self, text: str, columns: set[str], doc: MarkedDocument, loc: tuple,
                      named: dict[str, str] | None = None) -> None:
        if named and text in named:
            return
        try:
            node = parse_measure(text)
        except MeasureError as exc:
            hint = did_you_mean(text, named) if named else ""
            self.issues.append(doc.issue(loc, str(exc), hint or "exemple : `sum(montant)`, `count(*)`, "
                                         "`sum(a) / sum(b)`"))
            return
        for column in sorted(columns_of(node) - columns):
            self.issues.append(doc.issue(loc, f"colonne `{column}` absente du jeu de données",
                                         did_you_mean(column, columns)))

    # ------------------------------------------------------------------ dashboards
    def dashboards(self, sources: dict[str, DataSource]) -> dict[str, Dashboard]:
        result: dict[str, Dashboard] = {}
        paths: dict[str, str] = {}
        files: dict[str, str] = {}
        for path in sorted(self.dashboards_dir.glob("*.yaml")):
            doc = self.read(path)
            if doc is None:
                continue
            if not isinstance(doc.data, dict):
                self.issues.append(doc.issue((), "un tableau de bord est un bloc `clé: valeur`",
                                             "commencez par `id: mon_tableau` puis `title: …`"))
                continue
            spec = self.validate(DashboardSpec, doc.data, doc)
            if spec is None:
                continue
            if spec.id in files:
                self.issues.append(doc.issue(("id",), f"identifiant `{spec.id}` déjà utilisé par {files[spec.id]}",
                                             "chaque tableau de bord a son propre `id`"))
                continue
            if spec.url in RESERVED_PATHS or spec.url in paths:
                other = paths.get(spec.url, "le portail")
                self.issues.append(doc.issue(("path",) if spec.path else ("id",),
                                             f"adresse `{spec.url}` déjà utilisée par {other}",
                                             "choisissez une autre valeur de `path`"))
                continue
            module = self.module(path.with_suffix(".py"), spec.id)
            widgets = self.widgets(spec, doc, sources, module)
            self.check_filters(spec, doc, sources)
            files[spec.id] = doc.path
            paths[spec.url] = doc.path
            result[spec.id] = Dashboard(spec=spec, widgets=widgets, module=module, source_file=path)
        return result

    def module(self, path: Path, dashboard_id: str) -> ModuleType | None:
        if not path.exists():
            return None
        name = f"pilotis_dashboards.{dashboard_id}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 - any error in user code becomes a report line
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
            line = frames[-1].lineno if frames else getattr(exc, "lineno", 1) or 1
            self.issues.append(ConfigIssue(self.display(path), line, 1,
                                           f"module de callbacks en erreur : {exc.__class__.__name__}: {exc}",
                                           "corrigez le code Python de ce module"))
            return None
        sys.modules[name] = module
        return module

    def widgets(self, spec: DashboardSpec, doc: MarkedDocument, sources: dict[str, DataSource],
                module: ModuleType | None) -> list[WidgetBase]:
        result: list[WidgetBase] = []
        ids: dict[str, int] = {}
        for index, raw in enumerate(spec.widgets):
            loc: tuple = ("widgets", index)
            kind = raw.get("type")
            if kind not in WIDGET_TYPES:
                message = "clé `type` obligatoire manquante" if kind is None else f"type de widget `{kind}` inconnu"
                self.issues.append(doc.issue((*loc, "type") if kind else loc, message,
                                             did_you_mean(str(kind), WIDGET_TYPES), key=kind is None))
                continue
            widget_type = WIDGET_TYPES[kind]
            widget = self.validate(widget_type.Config, raw, doc, loc)
            if widget is None:
                continue
            if widget.id in ids:
                self.issues.append(doc.issue((*loc, "id"), f"widget `{widget.id}` en double (déjà widget n° {ids[widget.id] + 1})",
                                             "donnez un `id` unique à chaque widget"))
                continue
            ids[widget.id] = index
            self.check_widget(widget, widget_type, doc, loc, sources, module)
            result.append(widget)
        return result

    def check_widget(self, widget: WidgetBase, widget_type: Any, doc: MarkedDocument, loc: tuple,
                     sources: dict[str, DataSource], module: ModuleType | None) -> None:
        columns: set[str] = set()
        named: dict[str, str] = {}
        if isinstance(widget, DataWidgetBase):
            source = sources.get(widget.dataset)
            if source is None:
                if widget.dataset in self.failed:
                    return  # already reported where the dataset is defined
                self.issues.append(doc.issue((*loc, "dataset"), f"jeu de données `{widget.dataset}` inconnu",
                                             did_you_mean(widget.dataset, sources)))
                return
            columns = set(source.schema())
            named = source.config.measures
            for column in widget.where:
                if column not in columns:
                    self.issues.append(doc.issue((*loc, "where", column), f"colonne `{column}` absente du jeu de données",
                                                 did_you_mean(column, columns), key=True))
        for rel, column in widget_type.columns_used(widget):
            if column not in columns:
                self.issues.append(doc.issue((*loc, *rel), f"colonne `{column}` absente du jeu de données",
                                             did_you_mean(column, columns)))
        for rel, text in widget_type.measures_used(widget):
            self.check_measure(text, columns, doc, (*loc, *rel), named)
        ctx = CheckContext(datasets={k: s.config for k, s in sources.items()},
                           columns={k: set(s.schema()) for k, s in sources.items()}, module=module)
        widget_type.check(widget, ctx)
        for rel, message, hint in ctx.problems:
            self.issues.append(doc.issue((*loc, *rel), message, hint))

    def check_filters(self, spec: DashboardSpec, doc: MarkedDocument, sources: dict[str, DataSource]) -> None:
        period = spec.filters.period
        if period is None:
            return
        loc = ("filters", "period", "dataset")
        if period.dataset in self.failed:
            return
        if period.dataset not in sources:
            self.issues.append(doc.issue(loc, f"jeu de données `{period.dataset}` inconnu",
                                         did_you_mean(period.dataset, sources)))
        elif sources[period.dataset].config.period is None:
            self.issues.append(doc.issue(loc, f"le jeu de données `{period.dataset}` n'a pas de période",
                                         "déclarez `period: {column: …}` sur ce jeu de données"))


def load_registry(root: Path, config_dir: Path | None = None, dashboards_dir: Path | None = None) -> Registry:
    """Load everything; raise :class:`ConfigError` listing every problem of every file."""
    _register_builtins()
    loader = _Loader(root, config_dir or root / "config", dashboards_dir or root / "dashboards")
    portal = loader.portal()
    sources = loader.datasets()
    dashboards = loader.dashboards(sources)
    if portal is not None:
        for key in ("communes_dataset", "epci_dataset"):
            name = getattr(portal, key)
            if name not in sources:
                loader.issues.append(ConfigIssue(loader.display(loader.config_dir / "portal.yaml"), 1, 1,
                                                 f"{key} : jeu de données `{name}` inconnu",
                                                 did_you_mean(name, sources)))
    if loader.issues or portal is None:
        raise ConfigError(loader.issues)
    return Registry(root=root, portal=portal, datasets=sources, dashboards=dashboards, duck=loader.duck)
