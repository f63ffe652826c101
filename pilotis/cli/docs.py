"""The YAML reference (Markdown), generated from the pydantic models and the registered types.

``python -m pilotis docs -o docs/yaml-reference.md`` rewrites it; a test fails when the committed
file differs from what the models say, so the reference never goes stale.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

import data_sources
import layouts
import pilotis
from pilotis.core import schema
from pilotis.core.alert_rules import AlertRule
from pilotis.core.field_docs import field_descriptions
from pilotis.core.indicators import IndicatorSpec
from pilotis.core.jsonschema import source_models, widget_models
from pilotis.core.report_config import ReportSpec
from pilotis.core.schema import (
    DashboardSpec,
    DatasetBase,
    DataWidgetBase,
    PortalConfig,
    Strict,
    WidgetBase,
)
from pilotis.core.sensors import SensorSourceSpec
from pilotis.core.validation import annotation_leaves, is_model

_SCALARS = {
    str: "texte",
    int: "entier",
    float: "nombre",
    bool: "booléen",
    dict: "bloc",
    list: "liste",
}


def anchor(model: type[BaseModel]) -> str:
    """The HTML anchor of a model's section (module and class name: unique and stable)."""
    name = f"{model.__module__.split('.')[-1]}-{model.__qualname__}"
    return name.lower().replace("_", "-").replace(".", "-")


def _examples(annotation: Any) -> list[Any]:
    """The ``examples`` of an ``Annotated[…, Field(json_schema_extra=…)]`` type (durations)."""
    found: list[Any] = []
    for meta in getattr(annotation, "__metadata__", ()):
        extra = getattr(meta, "json_schema_extra", None)
        if isinstance(extra, dict) and isinstance(extra.get("examples"), list):
            found += extra["examples"]
    return found


def _grouped(text: str) -> str:
    return f"({text})" if " ou " in text else text


def type_text(annotation: Any) -> str:
    """A short French description of a field type (Markdown)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        parts = [type_text(arg) for arg in typing.get_args(annotation) if arg is not type(None)]
        return " ou ".join(dict.fromkeys(parts)) or "vide"
    if _examples(annotation):
        return "durée (" + ", ".join(f"`{e}`" for e in _examples(annotation)) + ")"
    parts = []
    for leaf in annotation_leaves(annotation):
        origin = typing.get_origin(leaf)
        args = typing.get_args(leaf)
        if leaf is type(None):
            continue
        if origin is typing.Literal:
            parts.append(" \\| ".join(f"`{a}`" for a in args))
        elif origin is list:
            parts.append(f"liste de {_grouped(type_text(args[0]))}" if args else "liste")
        elif origin is dict:
            parts.append(f"bloc `nom:` {_grouped(type_text(args[1]))}" if args else "bloc")
        elif is_model(leaf):
            parts.append(f"[{leaf.__name__}](#{anchor(leaf)})")
        else:
            parts.append(_SCALARS.get(leaf, getattr(leaf, "__name__", str(leaf))))
    return " ou ".join(dict.fromkeys(parts)) or "vide"


def default_text(info: Any) -> str:
    """The default of a field as YAML, or « obligatoire »."""
    if info.is_required():
        return "**obligatoire**"
    if info.default_factory is not None:
        value = info.default_factory()
    else:
        value = info.default
    if value is None or value is PydanticUndefined:
        return "—"
    if isinstance(value, BaseModel):
        value = value.model_dump(exclude_defaults=True)
        return "—" if not value else f"`{json.dumps(value, ensure_ascii=False)}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list | dict):
        return f"`{json.dumps(value, ensure_ascii=False)}`"
    if value == "":
        return '`""`'
    return f"`{value}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def own_fields(model: type[BaseModel], base: type[BaseModel] | None) -> list[str]:
    """Fields of ``model`` not inherited unchanged from ``base`` (redeclared ones included)."""
    if base is None:
        return [name for name, info in model.model_fields.items() if not info.exclude]
    declared = set()
    for cls in model.__mro__:
        if cls is base:
            break
        declared |= set(getattr(cls, "__annotations__", {}))
    return [name for name in model.model_fields if name in declared or name not in base.model_fields]


def model_table(model: type[BaseModel], fields: list[str]) -> str:
    """One Markdown table: key, type, default, description."""
    rows = ["| Clé | Type | Défaut | Description |", "|---|---|---|---|"]
    descriptions = field_descriptions(model)
    for name in fields:
        info = model.model_fields[name]
        kind = type_text(info.annotation)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        examples = extra.get("examples")
        if isinstance(examples, list) and examples:  # a duration: `15min` (or a number of seconds)
            kind = "durée (" + ", ".join(f"`{e}`" for e in examples) + ")"
        key = info.alias or name  # as written in YAML (`for`, a Python keyword, is the field `for_`)
        rows.append(f"| `{key}` | {kind} | {default_text(info)} | {_cell(descriptions[name] or '')} |")
    return "\n".join(rows)


def nested_models(model: type[BaseModel], fields: list[str]) -> Iterator[type[BaseModel]]:
    """Models used by ``fields`` (recursively), in order of appearance."""

    def walk(annotation: Any) -> Iterator[type[BaseModel]]:
        for leaf in annotation_leaves(annotation):
            if is_model(leaf):
                yield leaf
                for sub in leaf.model_fields.values():
                    yield from walk(sub.annotation)
            for arg in typing.get_args(leaf):
                if typing.get_origin(leaf) is not typing.Literal:
                    yield from walk(arg)

    for name in fields:
        yield from walk(model.model_fields[name].annotation)


def _doc(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or "").split())


class _Writer:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.done: set[type[BaseModel]] = set()

    def section(
        self,
        level: int,
        title: str,
        model: type[BaseModel],
        base: type[BaseModel] | None = None,
        intro: str = "",
    ) -> None:
        fields = own_fields(model, base)
        self.done.add(model)
        self.parts.append(
            f'{"#" * level} {title}\n\n<a id="{anchor(model)}"></a>\n\n{_doc(model)}'
            + (f"\n\n{intro}" if intro else "")
            + "\n\n"
            + model_table(model, fields)
        )
        for nested in nested_models(model, fields):
            if nested not in self.done:
                self.section(level + 1 if level < 4 else level, f"`{nested.__name__}`", nested)


def yaml_reference_markdown() -> str:
    """The whole YAML reference, one table per model (key, type, default, description)."""
    out = _Writer()
    out.parts.append(
        "# Référence YAML\n\n"
        "<!-- Généré par `python -m pilotis docs -o docs/yaml-reference.md` : "
        "ne pas modifier à la main. -->\n\n"
        "Toutes les clés des fichiers de `config/` et `dashboards/`, "
        "tirées du code (modèles pydantic). "
        "Une clé inconnue est une erreur signalée par `python -m pilotis check` avec sa ligne. "
        "Le JSON Schema (`python -m pilotis schema`) donne la complétion dans les éditeurs."
    )
    out.parts.append("## Portail : `config/portal.yaml`")
    out.section(3, "Clés du portail", PortalConfig)

    departments = getattr(schema, "Departments", None)
    if departments is not None:
        out.parts.append(
            "## Directions : `config/departments.yaml`\n\n"
            + _doc(departments)
            + "\n\n```yaml\nsolidarites: Direction des solidarités\n"
            "finances: Direction des finances\n```"
        )

    out.parts.append(
        "## Jeux de données : `config/datasets/*.yaml`\n\n"
        "Chaque fichier associe un identifiant (`rsa_communes:`) à un jeu de données. "
        "Les clés communes valent pour tous les types ; chaque type de source "
        "(`type:`) ajoute les siennes."
    )
    out.section(3, "Clés communes à tous les jeux de données", DatasetBase)
    for model in sorted(source_models(), key=lambda m: str(_literal_type(m))):
        out.section(3, f"Source `type: {_literal_type(model)}`", model, DatasetBase)

    out.parts.append(
        "## Indicateurs : `config/indicators/*.yaml`\n\n"
        "Le nom du fichier est le thème ; chaque clé déclare un indicateur, "
        "utilisé partout par son "
        "identifiant `<thème>.<nom>` (`kpi: rsa.foyers_allocataires`). "
        "Un indicateur est une mesure "
        "sur un jeu de données (`dataset` + `measure`) ou une formule sur d'autres indicateurs "
        "(`formula`). Sa fiche est la page `/indicateurs/<identifiant>`."
    )
    out.section(3, "Clés d'un indicateur", IndicatorSpec)

    out.parts.append(
        "## Tableaux de bord : `dashboards/*.yaml`\n\n"
        "Un fichier par tableau de bord, et un module Python optionnel du même nom "
        "(`dashboards/<id>.py`) pour les widgets `custom`."
    )
    out.section(3, "Clés du tableau de bord", DashboardSpec)
    out.parts.append("## Widgets\n\nChaque élément de `widgets:` a un `type:` qui fixe ses clés.")
    out.section(3, "Clés communes à tous les widgets", WidgetBase)
    out.section(3, "Clés communes aux widgets de données", DataWidgetBase, WidgetBase)
    for model in widget_models():
        base = DataWidgetBase if issubclass(model, DataWidgetBase) else WidgetBase
        names = ", ".join(f"`{t}`" for t in _literal_types(model))
        out.section(3, f"Widget {names}", model, base)

    seances = importlib.import_module("pilotis.core.seances")
    if hasattr(seances, "SeanceSpec"):
        out.parts.append(
            "## Séances : `config/seances/*.yaml`\n\n"
            "Une séance enchaîne en plein écran des tableaux de bord "
            "(ou certains de leurs widgets), "
            "filtres préréglés, à l'adresse `/seance/<id>`."
        )
        out.section(3, "Clés d'une séance", seances.SeanceSpec)

    out.parts.append(
        "## Capteurs : `config/sensors/*.yaml`\n\n"
        "Le nom du fichier est l'identifiant de la source (`crues-mayenne.yaml` : relevés envoyés à "
        "`POST /capteurs/crues-mayenne/releves`, voir docs/capteurs.md). Ses relevés se lisent par un jeu "
        "de données `type: capteurs`."
    )
    out.section(3, "Clés d'une source de capteurs", SensorSourceSpec)
    out.parts.append(
        "## Alertes : `config/alerts/*.yaml`\n\n"
        "Une règle d'alerte par fichier (son identifiant est le nom du fichier) : voir docs/alertes.md."
    )
    out.section(3, "Clés d'une règle d'alerte", AlertRule)
    out.parts.append(
        "## Rapports : `config/reports/*.yaml`\n\n"
        "Un rapport de commission par fichier (identifiant = nom du fichier), produit en PDF accessible à "
        "`/rapports/<id>` et par `python -m pilotis report <id>` : voir docs/reports.md."
    )
    out.section(3, "Clés d'un rapport", ReportSpec)

    # Any other YAML model (a new file format, a block of an extension) still gets its table;
    # an intermediate base class is documented through its subclasses.
    others = [m for m in yaml_models() if m not in out.done and not any(issubclass(d, m) for d in out.done)]
    if others:
        out.parts.append("## Autres blocs")
        for model in others:
            out.section(3, f"`{model.__name__}`", model)
    return "\n\n".join(out.parts) + "\n"


def yaml_models() -> list[type[BaseModel]]:
    """Every YAML model of the engine and its extensions: the subclasses of ``Strict``.

    Every module of ``pilotis``, ``layouts`` and ``data_sources`` is imported first, so that the
    list (and the reference) is the same whoever calls it.
    """
    for package in (pilotis, layouts, data_sources):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if not info.name.rpartition(".")[2].startswith("_") and ".migrations" not in info.name:
                importlib.import_module(info.name)
    found: list[type[BaseModel]] = []
    todo = list(Strict.__subclasses__())
    while todo:
        model = todo.pop(0)
        if model not in found:
            found.append(model)
            todo += model.__subclasses__()
    return sorted(found, key=lambda m: (m.__module__, m.__qualname__))


def _literal_types(model: type[BaseModel]) -> list[str]:
    info = model.model_fields.get("type")
    if info is None:
        return [model.__name__]
    values = [
        str(a)
        for leaf in annotation_leaves(info.annotation)
        if typing.get_origin(leaf) is typing.Literal
        for a in typing.get_args(leaf)
    ]
    return values or [model.__name__]


def _literal_type(model: type[BaseModel]) -> str:
    return _literal_types(model)[0]


def cmd_docs(args: argparse.Namespace) -> int:
    """Print the Markdown YAML reference, or write it (`-o docs/yaml-reference.md`)."""
    text = yaml_reference_markdown()  # computed first: a failure never leaves an empty file
    if args.output:
        path = Path(args.output)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        print(f"écrit : {path}")
    else:
        sys.stdout.write(text)
    return 0


def register(sub: Any) -> None:
    """Add ``docs`` to the command line."""
    docs = sub.add_parser("docs", help="afficher la référence YAML (Markdown) tirée du code")
    docs.add_argument("-o", "--output", help="fichier à écrire (ex. docs/yaml-reference.md)")
    docs.set_defaults(func=cmd_docs)
