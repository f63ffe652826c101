"""``python -m pilotis schema``: the JSON Schemas of the YAML files, for editor completion."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pilotis.core.jsonschema import (
    alerts_schema,
    dashboard_schema,
    datasets_schema,
    indicators_schema,
    sensors_schema,
)
from pilotis.plugins import register_builtins


def cmd_schema(args: argparse.Namespace) -> int:
    """Write the JSON Schemas of dashboards, datasets, indicators, sensor sources and alert rules."""
    register_builtins()  # one oneOf entry per shipped widget and source type
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    for name, schema in (
        ("dashboard", dashboard_schema()),
        ("datasets", datasets_schema()),
        ("indicators", indicators_schema()),
        ("sensors", sensors_schema()),
        ("alerts", alerts_schema()),
    ):
        path = out / f"{name}.schema.json"
        path.write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"écrit : {path}")
    return 0


def register(sub: Any) -> None:
    """Add ``schema`` to the command line."""
    schema = sub.add_parser("schema", help="écrire le JSON Schema du format YAML")
    schema.add_argument("-o", "--output", default="schemas", help="dossier de sortie (défaut : schemas/)")
    schema.set_defaults(func=cmd_schema)
