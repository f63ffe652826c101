"""Load and validate ``config/`` and ``dashboards/``; report every problem of every file at once."""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import sys
import traceback
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel, ValidationError

from pilotis.core.access import ROLES
from pilotis.core.errors import ConfigError, ConfigIssue, did_you_mean
from pilotis.core.indicators import IndicatorLoader
from pilotis.core.measures import MeasureError, columns_of, parse_measure
from pilotis.core.registry import Dashboard, Registry
from pilotis.core.routes import reserved_route
from pilotis.core.schema import (
    SLUG,
    AccessRule,
    DashboardSpec,
    DatasetBase,
    DataWidgetBase,
    Departments,
    PortalConfig,
    WidgetBase,
)
from pilotis.core.seance_config import load_seances
from pilotis.core.seances import build
from pilotis.core.sources import SOURCE_TYPES, DataSource, DuckRuntime, SourceError
from pilotis.core.usage import check_usage
from pilotis.core.validation import pydantic_issues, shown_value
from pilotis.core.widgets import WIDGET_TYPES, CheckContext
from pilotis.core.yamlmarks import MarkedDocument, read_yaml

log = logging.getLogger(__name__)


def _widget_name(raw: dict) -> str:
    """« dans le widget `carte` » when the widget has a readable id."""
    return f" dans le widget `{raw['id']}`" if isinstance(raw.get("id"), str) else ""


class _Loader:
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

    # ------------------------------------------------------------------ portal
    def portal(self) -> PortalConfig | None:
        path = self.config_dir / "portal.yaml"
        if not path.exists():
            self.issues.append(
                ConfigIssue(self.display(path), 1, 1, "fichier manquant", "créez config/portal.yaml (voir le README)")
            )
            return None
        doc = self.read(path)
        if doc is None:
            return None
        if not isinstance(doc.data, dict):
            self.issues.append(
                doc.issue(
                    (),
                    "le fichier doit être un bloc `clé: valeur`" if doc.data is not None else "fichier vide",
                    "écrivez `collectivite:` puis `nom:` et `code_departement:` indentés",
                )
            )
            return None
        self.portal_doc = doc
        return self.validate(PortalConfig, doc.data, doc)

    def check_maps(self, portal: PortalConfig, dashboards: dict[str, Dashboard]) -> None:
        """The outlines of each map level in use (`geo_communes`, `geo_epci`) exist and are GeoJSON."""
        if self.portal_doc is None:
            return
        levels = {
            getattr(widget, "level", None)
            for dashboard in dashboards.values()
            for widget in dashboard.widgets
            if widget.type == "choropleth"  # the widget type that draws these outlines (layouts/maps.py)
        }
        for level, key in (("commune", "geo_communes"), ("epci", "geo_epci")):
            if level in levels:
                self.check_geojson(self.portal_doc, key, getattr(portal, key))

    def check_geojson(self, doc: MarkedDocument, key: str, value: str) -> None:
        """``value`` must be a GeoJSON ``FeatureCollection`` whose features have a `code` (the map reads it)."""
        path = self.root / value
        written = key in doc.data
        if not path.is_file():
            folder = Path(value).parent
            siblings = (
                [(folder / p.name).as_posix() for p in path.parent.glob("*.geojson")] if path.parent.is_dir() else []
            )
            hint = did_you_mean(value, siblings, "fichiers GeoJSON") or "chemin relatif à la racine du projet"
            self.issues.append(
                doc.issue(
                    (key,),
                    f"`{key}` : fichier `{value}` introuvable",
                    hint,
                    key=not written,
                )
            )
            return
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            data = None
        features = data.get("features") if isinstance(data, dict) and data.get("type") == "FeatureCollection" else None
        if not isinstance(features, list):
            problem = "n'est pas un fichier GeoJSON lisible"
        elif not all(isinstance(f, dict) and "code" in (f.get("properties") or {}) for f in features):
            problem = "a des contours sans propriété `code`"
        else:
            return
        self.issues.append(
            doc.issue(
                (key,),
                f"`{key}` : `{value}` {problem}",
                "indiquez un fichier GeoJSON `FeatureCollection` dont chaque contour a la propriété `code` "
                "(code INSEE de la commune ou SIREN de l'EPCI)",
                key=not written,
            )
        )

    # ------------------------------------------------------------------ departments
    def departments(self) -> dict[str, str]:
        """The org chart; a missing file is an empty org chart (references to it are then errors)."""
        path = self.config_dir / "departments.yaml"
        if not path.exists():
            return {}
        doc = self.read(path)
        if doc is None or doc.data is None:
            return {}
        if not isinstance(doc.data, dict):
            self.issues.append(
                doc.issue(
                    (),
                    "le fichier doit associer un identifiant à chaque direction",
                    "écrivez `solidarites: Direction des solidarités`",
                )
            )
            return {}
        valid: dict[str, str] = {}
        before = len(self.issues)
        for key, label in doc.data.items():
            if not re.match(SLUG, str(key)):
                self.issues.append(
                    doc.issue(
                        (key,),
                        f"identifiant de direction `{key}` invalide",
                        "lettres minuscules sans accent, chiffres, `_` ou `-`",
                        key=True,
                    )
                )
            elif not isinstance(label, str) or not label.strip():
                self.issues.append(
                    doc.issue(
                        (key,), f"direction `{key}` : le libellé doit être un texte", f"écrivez `{key}: Direction …`"
                    )
                )
            valid[str(key)] = str(label)  # kept even when invalid: no cascade of « inconnue » errors
        departments = self.validate(Departments, valid, doc) if len(self.issues) == before else None
        return dict(departments.root) if departments is not None else valid

    def check_departments(self, dashboards: dict[str, Dashboard], departments: dict[str, str]) -> None:
        """Every `department` and `access.departments` entry of a dashboard names a known direction."""
        hint_missing = "déclarez les directions dans config/departments.yaml"
        for dashboard in dashboards.values():
            doc = self.read(dashboard.source_file)
            if doc is None:
                continue
            spec = dashboard.spec
            refs: list[tuple[tuple, str]] = []
            if spec.department:
                refs.append((("department",), spec.department))
            if isinstance(spec.access, AccessRule):
                refs += [(("access", "departments", i), d) for i, d in enumerate(spec.access.departments)]
            for loc, name in refs:
                if name not in departments:
                    self.issues.append(
                        doc.issue(loc, f"direction `{name}` inconnue", did_you_mean(name, departments) or hint_missing)
                    )
            roles = spec.access.roles if isinstance(spec.access, AccessRule) else []
            for index, role in enumerate(roles):
                if role not in ROLES:  # a typo would silently grant nothing
                    self.issues.append(
                        doc.issue(
                            ("access", "roles", index), f"rôle `{role}` inconnu", did_you_mean(role, ROLES, "rôles")
                        )
                    )

    # ------------------------------------------------------------------ datasets
    def datasets(self) -> dict[str, DataSource]:
        sources: dict[str, DataSource] = {}
        seen: dict[str, str] = {}
        self.other_extensions(self.config_dir / "datasets")
        for path in sorted((self.config_dir / "datasets").glob("*.yaml")):
            doc = self.read(path)
            if doc is None or doc.data is None:
                continue
            if not isinstance(doc.data, dict):
                self.issues.append(
                    doc.issue(
                        (),
                        "le fichier doit associer un identifiant à chaque jeu de données",
                        "écrivez `mon_jeu:` puis ses options indentées",
                    )
                )
                continue
            for dataset_id, spec in doc.data.items():
                loc = (dataset_id,)
                if dataset_id in seen:
                    self.issues.append(
                        doc.issue(
                            loc,
                            f"jeu de données `{dataset_id}` déjà défini dans {seen[dataset_id]}",
                            "renommez l'un des deux",
                            key=True,
                        )
                    )
                    continue
                seen[dataset_id] = doc.path
                if not re.match(SLUG, str(dataset_id)):
                    self.issues.append(
                        doc.issue(
                            loc,
                            f"identifiant `{dataset_id}` invalide",
                            "lettres minuscules sans accent, chiffres, `_` ou `-`, en commençant par une lettre",
                            key=True,
                        )
                    )
                    continue
                source = self.dataset(dataset_id, spec, doc)
                if source is not None:
                    sources[dataset_id] = source
        return sources

    def dataset(self, dataset_id: str, spec: Any, doc: MarkedDocument) -> DataSource | None:
        loc = (dataset_id,)
        self.failed.add(dataset_id)  # until it loads: widgets using it are not reported again
        if not isinstance(spec, dict):
            self.issues.append(
                doc.issue(
                    loc,
                    f"le jeu de données `{dataset_id}` doit être un bloc `clé: valeur`",
                    "indentez ses options (`type`, `path`, `title`…) sous son identifiant",
                )
            )
            return None
        kind = spec.get("type")
        if not isinstance(kind, str) or kind not in SOURCE_TYPES:
            message = (
                "clé `type` obligatoire manquante" if kind is None else f"type de source {shown_value(kind)} inconnu"
            )
            hint = (
                did_you_mean(str(kind), SOURCE_TYPES)
                if isinstance(kind, str)
                else did_you_mean("", SOURCE_TYPES, "types possibles")
            )
            self.issues.append(
                doc.issue(
                    (*loc, "type") if kind is not None else loc,
                    message,
                    hint if kind is not None else f"ajoutez `type: …` ({hint})",
                    key=kind is None,
                )
            )
            return None
        cls = SOURCE_TYPES[kind]
        config = self.validate(cls.Config, spec, doc, loc)
        if config is None:
            return None
        where = "path" if "path" in spec else "url" if "url" in spec else "type"
        try:
            source = cls(dataset_id, config, self.root, self.duck)
            columns = self.columns(source)
        except SourceError as exc:
            self.issues.append(
                doc.issue(
                    (*loc, where), f"source `{dataset_id}` illisible : {exc}", "vérifiez le chemin ou la connexion"
                )
            )
            return None
        except Exception as exc:  # noqa: BLE001 - a source type's bug is reported, not a traceback
            self.issues.append(
                doc.issue(
                    (*loc, where),
                    f"source `{dataset_id}` illisible : `{exc.__class__.__name__}: {exc}`",
                    f"erreur inattendue du type de source `{kind}`",
                )
            )
            return None
        self.check_dataset_columns(config, columns, doc, loc)
        self.failed.discard(dataset_id)
        return source

    def check_dataset_columns(self, config: DatasetBase, columns: set[str], doc: MarkedDocument, loc: tuple) -> None:
        refs: list[tuple[tuple, str]] = [((*loc, "columns", name), name) for name in config.columns]
        if config.territory:
            refs += [((*loc, "territory", k), v) for k, v in config.territory.model_dump().items() if v]
        if config.period:
            refs.append(((*loc, "period", "column"), config.period.column))
        for ref_loc, column in refs:
            if column not in columns:
                self.issues.append(
                    doc.issue(
                        ref_loc,
                        f"colonne `{column}` absente du jeu de données",
                        did_you_mean(column, columns),
                        key=ref_loc[-2] == "columns",
                    )
                )
        for name, text in config.measures.items():
            self.check_measure(text, columns, doc, (*loc, "measures", name))

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

    # ------------------------------------------------------------------ dashboards
    def dashboards(self, sources: dict[str, DataSource]) -> dict[str, Dashboard]:
        result: dict[str, Dashboard] = {}
        paths: dict[str, str] = {}
        files: dict[str, str] = {}
        if not self.dashboards_dir.is_dir():
            self.issues.append(
                ConfigIssue(
                    self.display(self.dashboards_dir),
                    1,
                    1,
                    "dossier introuvable",
                    "créez le dossier des tableaux de bord (un fichier YAML par tableau)",
                )
            )
            return result
        self.other_extensions(self.dashboards_dir)
        for path in sorted(self.dashboards_dir.glob("*.yaml")):
            doc = self.read(path)
            if doc is None:
                continue
            if not isinstance(doc.data, dict):
                message = (
                    "fichier vide"
                    if doc.data is None
                    else "le fichier est une liste : un tableau de bord est un bloc `clé: valeur`"
                    if isinstance(doc.data, list)
                    else "un tableau de bord est un bloc `clé: valeur`"
                )
                self.issues.append(
                    doc.issue((), message, "commencez par `id: mon_tableau`, `title: …` puis `widgets:`")
                )
                continue
            spec = self.validate(DashboardSpec, doc.data, doc)
            if spec is None:
                if isinstance(doc.data.get("id"), str):
                    self.failed_dashboards.add(doc.data["id"])
                raw = doc.data.get("widgets")
                if isinstance(raw, list) and all(isinstance(w, dict) for w in raw):
                    self.widgets(raw, doc, sources, None, module_failed=True)  # report them too
                continue
            if spec.id in files:
                self.issues.append(
                    doc.issue(
                        ("id",),
                        f"identifiant `{spec.id}` déjà utilisé par {files[spec.id]}",
                        "chaque tableau de bord a son propre `id` (et son propre fichier)",
                    )
                )
                continue
            url = spec.url.rstrip("/") or "/"
            reserved = reserved_route(url)
            if reserved is not None or url == "/" or url.startswith("/_") or url in paths:
                other = paths.get(url, f"le portail ({reserved.purpose})" if reserved else "le portail")
                self.issues.append(
                    doc.issue(
                        ("path",) if spec.path else ("id",),
                        f"adresse `{spec.url}` déjà utilisée par {other}",
                        "choisissez une autre valeur de `path`"
                        if spec.path
                        else "ajoutez `path: /autre-adresse` ou changez l'`id`",
                    )
                )
                continue
            module_path = path.with_suffix(".py")
            module = self.module(module_path, spec.id)
            widgets = self.widgets(
                spec.widgets, doc, sources, module, module_failed=module is None and module_path.exists()
            )
            self.failed_widgets[spec.id] = {str(raw.get("id")) for raw in spec.widgets if isinstance(raw, dict)} - {
                w.id for w in widgets
            }
            self.check_filters(spec, doc, sources)
            files[spec.id] = doc.path
            paths[url] = doc.path
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
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - any error in user code becomes a report line
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
            line, col = (frames[-1].lineno or 1, 1) if frames else (1, 1)
            if isinstance(exc, SyntaxError) and exc.filename == str(path):
                line, col = exc.lineno or 1, exc.offset or 1
            detail = exc.msg if isinstance(exc, SyntaxError) else str(exc)
            self.issues.append(
                ConfigIssue(
                    self.display(path),
                    line,
                    col,
                    f"module de callbacks en erreur : `{exc.__class__.__name__}: {detail}`",
                    "corrigez le code Python de ce module (l'import s'arrête à cette ligne)",
                )
            )
            return None
        sys.modules[name] = module
        return module

    def widgets(
        self,
        raws: list[dict],
        doc: MarkedDocument,
        sources: dict[str, DataSource],
        module: ModuleType | None,
        module_failed: bool = False,
    ) -> list[WidgetBase]:
        result: list[WidgetBase] = []
        ids: dict[str, int] = {}
        for index, raw in enumerate(raws):
            loc: tuple = ("widgets", index)
            kind = raw.get("type")
            if not isinstance(kind, str) or kind not in WIDGET_TYPES:
                types = did_you_mean("", WIDGET_TYPES, "types possibles")
                if kind is None:
                    self.issues.append(
                        doc.issue(
                            loc,
                            f"clé `type` obligatoire manquante{_widget_name(raw)}",
                            f"ajoutez `type: …` ({types})",
                            key=True,
                        )
                    )
                else:
                    hint = did_you_mean(kind, WIDGET_TYPES, "types possibles") if isinstance(kind, str) else types
                    self.issues.append(doc.issue((*loc, "type"), f"type de widget {shown_value(kind)} inconnu", hint))
                continue
            widget_type = WIDGET_TYPES[kind]
            widget = self.validate(widget_type.Config, raw, doc, loc)
            if widget is None:
                continue
            if widget.id in ids:
                first = doc.mark(("widgets", ids[widget.id], "id"))[0]
                self.issues.append(
                    doc.issue(
                        (*loc, "id"),
                        f"widget `{widget.id}` en double (déjà défini ligne {first})",
                        "donnez un `id` unique à chaque widget du tableau de bord",
                    )
                )
                continue
            ids[widget.id] = index
            bound = CheckContext(
                datasets={k: s.config for k, s in sources.items()},
                columns={},
                module=None,
                indicators=self.indicators,
                failed_indicators=self.failed_indicators,
            )
            widget = widget_type.bind(widget, bound)  # a KPI completed from its indicator
            for rel, message, hint in bound.problems:
                self.issues.append(doc.issue((*loc, *rel), message, hint))
            if widget is None:
                continue
            self.check_widget(widget, widget_type, doc, loc, sources, module, module_failed)
            result.append(widget)
        return result

    def check_widget(
        self,
        widget: WidgetBase,
        widget_type: Any,
        doc: MarkedDocument,
        loc: tuple,
        sources: dict[str, DataSource],
        module: ModuleType | None,
        module_failed: bool = False,
    ) -> None:
        columns: set[str] = set()
        named: dict[str, str] = {}
        if isinstance(widget, DataWidgetBase):
            source = sources.get(widget.dataset)
            if source is None:
                if widget.dataset in self.failed:
                    return  # already reported where the dataset is defined
                self.issues.append(
                    doc.issue(
                        (*loc, "dataset"),
                        f"jeu de données `{widget.dataset}` inconnu",
                        did_you_mean(widget.dataset, sources) or "déclarez-le dans config/datasets/<fichier>.yaml",
                    )
                )
                return
            columns = self.columns(source)
            named = source.config.measures
            for column in widget.where:
                if column not in columns:
                    self.issues.append(
                        doc.issue(
                            (*loc, "where", column),
                            f"colonne `{column}` absente du jeu de données",
                            did_you_mean(column, columns, "colonnes"),
                            key=True,
                        )
                    )
        for rel, column in widget_type.columns_used(widget):
            if column not in columns:
                self.issues.append(
                    doc.issue(
                        (*loc, *rel),
                        f"colonne `{column}` absente du jeu de données",
                        did_you_mean(column, columns, "colonnes"),
                    )
                )
        for rel, text in widget_type.measures_used(widget):
            self.check_measure(text, columns, doc, (*loc, *rel), named)
        ctx = CheckContext(
            datasets={k: s.config for k, s in sources.items()},
            columns={k: self.columns(s) for k, s in sources.items()},
            module=module,
            module_failed=module_failed,
            indicators=self.indicators,
            failed_indicators=self.failed_indicators,
        )
        try:
            widget_type.check(widget, ctx)
        except Exception as exc:  # noqa: BLE001 - a widget type's bug is reported, not a traceback
            ctx.problem(
                ("type",),
                f"vérification du widget impossible : `{exc.__class__.__name__}: {exc}`",
                f"erreur inattendue du type de widget `{widget.type}`",
            )
        for rel, message, hint in ctx.problems:
            self.issues.append(doc.issue((*loc, *rel), message, hint))

    # ------------------------------------------------------------------ indicators
    def indicator_files(self, sources: dict[str, DataSource], departments: dict[str, str]) -> None:
        """`config/indicators/*.yaml` (:mod:`pilotis.core.indicators`), before the dashboards using them."""
        found = IndicatorLoader(self, sources, departments)
        self.indicators = found.load(self.config_dir / "indicators")
        self.failed_indicators = found.failed

    # ------------------------------------------------------------------ séances
    def seances(
        self, dashboards: dict[str, Dashboard], sources: dict[str, DataSource], portal: PortalConfig | None
    ) -> dict[str, Any]:
        """`config/seances/*.yaml` (presentation mode), checked against dashboards and data."""
        return load_seances(self, dashboards, sources, portal)

    def check_filters(self, spec: DashboardSpec, doc: MarkedDocument, sources: dict[str, DataSource]) -> None:
        period = spec.filters.period
        if period is None:
            return
        loc = ("filters", "period", "dataset")
        if period.dataset in self.failed:
            return
        if period.dataset not in sources:
            self.issues.append(
                doc.issue(
                    loc,
                    f"jeu de données `{period.dataset}` inconnu",
                    did_you_mean(period.dataset, sources, "jeux de données")
                    or "déclarez-le dans config/datasets/<fichier>.yaml",
                )
            )
        elif sources[period.dataset].config.period is None:
            self.issues.append(
                doc.issue(
                    loc,
                    f"le jeu de données `{period.dataset}` n'a pas de période",
                    "déclarez `period: {column: …}` sur ce jeu de données",
                )
            )


def load_registry(
    root: Path, config_dir: Path | None = None, dashboards_dir: Path | None = None, instance_dir: Path | None = None
) -> Registry:
    """Load everything; raise :class:`ConfigError` listing every problem of every file.

    ``instance_dir`` holds files derived from sources (converted CSV), shared by the workers.
    """
    loader = _Loader(root, config_dir or root / "config", dashboards_dir or root / "dashboards")
    loader.duck.work_dir = (instance_dir or root / "instance") / "sources"
    portal = loader.portal()
    departments = loader.departments()
    sources = loader.datasets()
    loader.indicator_files(sources, departments)
    dashboards = loader.dashboards(sources)
    loader.check_departments(dashboards, departments)
    shown_on = check_usage(loader, dashboards)  # which dashboards show which indicators
    seances = loader.seances(dashboards, sources, portal)
    if portal is not None:
        loader.check_maps(portal, dashboards)
    if portal is not None and loader.portal_doc is not None:
        for key in ("communes_dataset", "epci_dataset"):
            name = getattr(portal, key)
            if name not in sources and name not in loader.failed:
                written = key in loader.portal_doc.data
                hint = (
                    (
                        did_you_mean(name, sources, "jeux de données")
                        or "déclarez-le dans config/datasets/<fichier>.yaml"
                    )
                    if written
                    else f"déclarez le jeu de données `{name}` dans config/datasets/, ou écrivez `{key}: …`"
                )
                loader.issues.append(loader.portal_doc.issue((key,), f"{key} : jeu de données `{name}` inconnu", hint))
    if loader.issues or portal is None:
        raise ConfigError(loader.staged())
    registry = Registry(
        root=root,
        portal=portal,
        datasets=sources,
        dashboards=dashboards,
        duck=loader.duck,
        departments=departments,
        indicators=loader.indicators,
        indicator_dashboards=shown_on,
    )
    registry.seances = {key: build(key, spec, registry) for key, spec in seances.items()}
    return registry


def load_departments(config_dir: Path) -> dict[str, str]:
    """Only the org chart (`config/departments.yaml`), e.g. for the command line; raises ConfigError."""
    loader = _Loader(config_dir.parent, config_dir, config_dir.parent / "dashboards")
    departments = loader.departments()
    if loader.issues:
        raise ConfigError(loader.issues)
    return departments
