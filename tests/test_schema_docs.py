"""Every YAML key is documented: in the models (JSON Schema descriptions) and in the reference.

Like datasette's ``tests/test_docs.py``: adding a key without a docstring, a widget type
without a schema entry, or forgetting to regenerate ``docs/yaml-reference.md`` fails here.
"""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from pilotis.cli.docs import anchor, yaml_reference_markdown
from pilotis.cli.docs import yaml_models as all_strict_models
from pilotis.core.field_docs import field_descriptions
from pilotis.core.jsonschema import source_models, widget_models
from pilotis.core.schema import DashboardSpec, DatasetBase, DataWidgetBase, PortalConfig, WidgetBase
from pilotis.core.settings import ROOT
from pilotis.core.sources import SOURCE_TYPES
from pilotis.core.widgets import WIDGET_TYPES
from tests.cli_run import run_cli

REFERENCE = ROOT / "docs" / "yaml-reference.md"


def _models_in(annotation: typing.Any) -> list[type[BaseModel]]:
    found = []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found.append(annotation)
    for arg in typing.get_args(annotation):
        found += _models_in(arg)
    return found


def yaml_models() -> list[type[BaseModel]]:
    """Every model a YAML file can contain (every ``Strict`` subclass), nested ones included."""
    from pilotis.core.indicators import IndicatorSpec

    roots = [
        PortalConfig,
        DashboardSpec,
        IndicatorSpec,
        DatasetBase,
        WidgetBase,
        DataWidgetBase,
        *source_models(),
        *widget_models(),
        *all_strict_models(),
    ]
    seen: list[type[BaseModel]] = []
    todo = list(roots)
    while todo:
        model = todo.pop(0)
        if model in seen:
            continue
        seen.append(model)
        for info in model.model_fields.values():
            todo += _models_in(info.annotation)
    return seen


MODELS = yaml_models()


def _subclasses(model: type[BaseModel]) -> list[type[BaseModel]]:
    found = []
    for sub in model.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def declaring_class(model: type[BaseModel], name: str) -> type[BaseModel]:
    """The class of ``model``'s hierarchy whose body declares field ``name``."""
    for cls in model.__mro__:
        if name in getattr(cls, "__annotations__", {}):
            return cls
    return model


def test_built_in_types_are_all_registered() -> None:
    assert {
        "kpi",
        "line",
        "bar",
        "stacked_bar",
        "area",
        "pie",
        "choropleth",
        "points",
        "table",
        "markdown",
        "custom",
    } <= set(WIDGET_TYPES)
    assert {"csv", "parquet", "excel", "sql"} <= set(SOURCE_TYPES)


@pytest.mark.parametrize("model", MODELS, ids=[f"{m.__module__}.{m.__qualname__}" for m in MODELS])
def test_every_yaml_model_and_key_has_a_description(model: type[BaseModel]) -> None:
    assert (model.__doc__ or "").strip(), f"{model.__qualname__} has no docstring"
    missing = [name for name, text in field_descriptions(model).items() if not (text or "").strip()]
    assert not missing, (
        f"{model.__module__}.{model.__qualname__}: add a docstring under "
        f"{', '.join(missing)} (it becomes the JSON Schema description and the docs)"
    )


def test_schema_command_writes_valid_json_covering_every_widget(tmp_path: Path) -> None:
    result = run_cli(["schema", "-o", str(tmp_path)], cwd=ROOT)  # in-process: see tests/cli_run.py
    assert result.returncode == 0, result.stderr
    dashboard = json.loads((tmp_path / "dashboard.schema.json").read_text(encoding="utf-8"))
    datasets = json.loads((tmp_path / "datasets.schema.json").read_text(encoding="utf-8"))
    refs = [item["$ref"] for item in dashboard["properties"]["widgets"]["items"]["oneOf"]]
    covered: set[str] = set()
    for ref in refs:
        definition = dashboard["$defs"][ref.rsplit("/", 1)[1]]
        kind = definition["properties"]["type"]
        covered |= set(kind.get("enum", [kind.get("const")]))
    assert covered == set(WIDGET_TYPES)
    source_refs = [item["$ref"] for item in datasets["additionalProperties"]["oneOf"]]
    source_types = set()
    for ref in source_refs:
        kind = datasets["$defs"][ref.rsplit("/", 1)[1]]["properties"]["type"]
        source_types |= set(kind.get("enum", [kind.get("const")]))
    assert source_types == set(SOURCE_TYPES)
    # Descriptions made it into the schema (what editors show on hover).
    assert dashboard["properties"]["title"]["description"]


def _sections(markdown: str) -> dict[str, str]:
    """Text of each model's section, keyed by its anchor."""
    parts = re.split(r'<a id="([^"]+)"></a>', markdown)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_every_key_appears_in_the_yaml_reference() -> None:
    sections = _sections(yaml_reference_markdown())
    missing = []
    for model in MODELS:
        for name, info in model.model_fields.items():
            if info.exclude:
                continue  # filled by the loader (an alert rule's id), not written in YAML
            name = info.alias or name  # the key as written (`for` is the field `for_`)
            # In the table of the model, of the class declaring the key, or of a subclass (an
            # intermediate base such as `FileDataset` is documented through each file source).
            places = [model, declaring_class(model, name), *_subclasses(model)]
            if not any(f"| `{name}` |" in sections.get(anchor(m), "") for m in places):
                missing.append(f"{model.__qualname__}.{name}")
    assert not missing, f"keys missing from the YAML reference: {missing}"


def test_committed_yaml_reference_is_up_to_date() -> None:
    expected = yaml_reference_markdown()
    current = REFERENCE.read_text(encoding="utf-8") if REFERENCE.exists() else ""
    assert current == expected, (
        "docs/yaml-reference.md is out of date: run `python -m pilotis docs -o docs/yaml-reference.md`"
    )


def test_docs_command_prints_the_reference() -> None:
    result = run_cli(["docs"], cwd=ROOT)  # in-process: see tests/cli_run.py
    assert result.returncode == 0, result.stderr
    assert result.stdout == yaml_reference_markdown()


def test_durations_accept_the_written_form_in_the_json_schema() -> None:
    from pilotis.core.jsonschema import dashboard_schema

    refresh = dashboard_schema()["properties"]["refresh"]
    kinds = {alternative.get("type") for alternative in refresh["anyOf"]}
    assert {"integer", "string", "null"} <= kinds  # `refresh: 5min` is valid in an editor too
