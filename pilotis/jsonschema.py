"""JSON Schemas of the YAML files, built from the pydantic models and the registered types."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from pilotis.schema import DashboardSpec


def _register() -> None:
    import data_sources  # noqa: F401
    import layouts  # noqa: F401


def _one_of(models: list[type[BaseModel]], title: str) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    refs = []
    for model in models:
        schema = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        name = f"{model.__module__.split('.')[-1]}_{model.__name__}"
        defs[name] = schema
        refs.append({"$ref": f"#/$defs/{name}"})
    return {"title": title, "oneOf": refs, "$defs": defs}


def widget_models() -> list[type[BaseModel]]:
    """One model per registered widget class (several `type:` names may share one)."""
    _register()
    from pilotis.widgets import WIDGET_TYPES

    return list(dict.fromkeys(w.Config for w in WIDGET_TYPES.values()))


def source_models() -> list[type[BaseModel]]:
    """One model per registered data-source type."""
    _register()
    from pilotis.sources import SOURCE_TYPES

    return [s.Config for s in SOURCE_TYPES.values()]


def dashboard_schema() -> dict[str, Any]:
    """JSON Schema of a `dashboards/*.yaml` file, widgets included."""
    schema = DashboardSpec.model_json_schema(ref_template="#/$defs/{model}")
    widgets = _one_of(widget_models(), "Widget")
    schema.setdefault("$defs", {}).update(widgets.pop("$defs"))
    schema["properties"]["widgets"]["items"] = widgets
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
