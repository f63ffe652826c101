"""JSON Schemas of the YAML files, built from the pydantic models and the registered types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from pilotis.core.alert_rules import AlertRule
from pilotis.core.field_docs import field_descriptions
from pilotis.core.indicators import IndicatorSpec
from pilotis.core.schema import DashboardSpec
from pilotis.core.sensors import SensorSourceSpec
from pilotis.core.sources import SOURCE_TYPES
from pilotis.core.widgets import WIDGET_TYPES


class DocumentedSchema(GenerateJsonSchema):
    """pydantic's JSON Schema, each field described by its docstring (:mod:`pilotis.core.field_docs`).

    The description goes where pydantic put it when the models read their docstrings themselves:
    on the field's schema, before a ``Field(description=…)``, its ``json_schema_extra``, the
    title and the removal of keys that repeat a ``$ref``'d model's.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per model being generated (nested ones on top): a field's core schema (id) → its description.
        self._described: list[dict[int, str]] = []

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        fields = _model_fields(schema["schema"])
        descriptions = field_descriptions(schema["cls"])
        self._described.append({id(f): d for name, f in fields.items() if (d := descriptions.get(name)) is not None})
        try:
            return super().model_schema(schema)
        finally:
            self._described.pop()

    def model_field_schema(self, schema: core_schema.ModelField) -> JsonSchemaValue:
        json_schema = super().model_field_schema(schema)
        description = self._described[-1].get(id(schema)) if self._described else None
        return json_schema if description is None else {**json_schema, "description": description}


def _model_fields(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """The fields of a model's core schema, under its ``before`` model validators if any."""
    while schema.get("type") != "model-fields" and isinstance(schema.get("schema"), Mapping):
        schema = schema["schema"]
    return schema.get("fields", {}) if schema.get("type") == "model-fields" else {}


def _schemas(models: list[type[BaseModel]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A ``$ref`` per model and the shared ``$defs``, generated together.

    One generation for all models lets pydantic give distinct names to same-named classes
    (every source type's model is called ``Config``): merging separate schemas would let the
    last one overwrite the others.
    """
    keys, top = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/$defs/{model}", schema_generator=DocumentedSchema
    )
    return [dict(keys[(m, "validation")]) for m in models], dict(top.get("$defs", {}))


def _one_of(models: list[type[BaseModel]], title: str) -> dict[str, Any]:
    refs, defs = _schemas(models)
    return {"title": title, "oneOf": refs, "$defs": defs}


def widget_models() -> list[type[BaseModel]]:
    """One model per registered widget class (several `type:` names may share one).

    The caller registers the types first (:func:`pilotis.plugins.register_builtins`)."""
    return list(dict.fromkeys(w.Config for w in WIDGET_TYPES.values()))


def source_models() -> list[type[BaseModel]]:
    """One model per registered data-source type."""
    return [s.Config for s in SOURCE_TYPES.values()]


def dashboard_schema() -> dict[str, Any]:
    """JSON Schema of a `dashboards/*.yaml` file, widgets included."""
    refs, defs = _schemas([DashboardSpec, *widget_models()])
    schema = defs.pop(refs[0]["$ref"].rsplit("/", 1)[1])
    schema["$defs"] = defs
    schema["properties"]["widgets"]["items"] = {"title": "Widget", "oneOf": refs[1:]}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Tableau de bord Pilotis"
    return schema


def datasets_schema() -> dict[str, Any]:
    """JSON Schema of a `config/datasets/*.yaml` file (identifier → dataset)."""
    sources = _one_of(source_models(), "Jeu de données")
    defs = sources.pop("$defs")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Jeux de données Pilotis",
        "type": "object",
        "propertyNames": {"pattern": "^[a-z][a-z0-9_-]*$"},
        "additionalProperties": sources,
        "$defs": defs,
    }


def indicators_schema() -> dict[str, Any]:
    """JSON Schema of a `config/indicators/*.yaml` file (name → indicator)."""
    schema = IndicatorSpec.model_json_schema(ref_template="#/$defs/{model}", schema_generator=DocumentedSchema)
    defs = schema.pop("$defs", {})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Indicateurs Pilotis",
        "type": "object",
        "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
        "additionalProperties": schema,
        "$defs": defs,
    }


def sensors_schema() -> dict[str, Any]:
    """JSON Schema of a `config/sensors/*.yaml` file (one sensor source and its devices)."""
    schema = SensorSourceSpec.model_json_schema(ref_template="#/$defs/{model}", schema_generator=DocumentedSchema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Source de capteurs Pilotis"
    return schema


def alerts_schema() -> dict[str, Any]:
    """JSON Schema of a `config/alerts/<id>.yaml` file (one rule)."""
    schema = AlertRule.model_json_schema(
        ref_template="#/$defs/{model}", by_alias=True, schema_generator=DocumentedSchema
    )
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Règle d'alerte Pilotis", **schema}
