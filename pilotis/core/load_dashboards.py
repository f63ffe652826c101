"""Loader part: `dashboards/*.yaml` (and their callbacks modules), each widget checked by its type."""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from pilotis.core.errors import ConfigIssue, did_you_mean
from pilotis.core.load_files import ConfigReader
from pilotis.core.registry import Dashboard
from pilotis.core.routes import reserved_route
from pilotis.core.schema import DashboardSpec, DataWidgetBase, WidgetBase
from pilotis.core.sources import DataSource
from pilotis.core.validation import shown_value
from pilotis.core.widgets import WIDGET_TYPES, CheckContext
from pilotis.core.yamlmarks import MarkedDocument


def _widget_name(raw: dict) -> str:
    """« dans le widget `carte` » when the widget has a readable id."""
    return f" dans le widget `{raw['id']}`" if isinstance(raw.get("id"), str) else ""


class DashboardFiles(ConfigReader):
    """The dashboards: ids, addresses, callbacks modules, widgets, filters."""

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
