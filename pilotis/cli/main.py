"""``python -m pilotis``: check the configuration, write the JSON Schema."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pilotis.cli import audit as audit_cli
from pilotis.cli import db as db_cli
from pilotis.cli import display_links
from pilotis.cli import users as users_cli
from pilotis.cli.docs import yaml_reference_markdown
from pilotis.core.errors import ConfigError
from pilotis.core.jsonschema import dashboard_schema, datasets_schema, indicators_schema
from pilotis.core.loader import load_registry
from pilotis.core.settings import Settings
from pilotis.plugins import register_builtins


def cmd_check(args: argparse.Namespace) -> int:
    """Validate every dashboard and config file; print all errors, exit 1 if any."""
    settings = Settings.from_env()
    root = Path(args.path).resolve() if args.path else settings.root
    config_dir = root / "config" if args.path else settings.config_dir
    dashboards_dir = root / "dashboards" if args.path else settings.dashboards_dir
    try:
        registry = load_registry(root, config_dir, dashboards_dir)
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    widgets = sum(len(d.widgets) for d in registry.dashboards.values())
    print(
        f"OK : {len(registry.dashboards)} tableaux de bord, {widgets} widgets, "
        f"{len(registry.datasets)} jeux de données, {len(registry.indicators)} indicateurs valides."
    )
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Write the JSON Schemas of dashboards and datasets (for editor completion)."""
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    for name, schema in (
        ("dashboard", dashboard_schema()),
        ("datasets", datasets_schema()),
        ("indicators", indicators_schema()),
    ):
        path = out / f"{name}.schema.json"
        path.write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"écrit : {path}")
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (sub-commands are added by each concern)."""
    parser = argparse.ArgumentParser(prog="python -m pilotis", description="Pilotis, portail de données")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="valider les tableaux de bord et la configuration")
    check.add_argument("path", nargs="?", help="racine du projet (contient config/ et dashboards/)")
    check.set_defaults(func=cmd_check)
    schema = sub.add_parser("schema", help="écrire le JSON Schema du format YAML")
    schema.add_argument("-o", "--output", default="schemas", help="dossier de sortie (défaut : schemas/)")
    schema.set_defaults(func=cmd_schema)
    docs = sub.add_parser("docs", help="afficher la référence YAML (Markdown) tirée du code")
    docs.add_argument("-o", "--output", help="fichier à écrire (ex. docs/yaml-reference.md)")
    docs.set_defaults(func=cmd_docs)
    for module in (users_cli, audit_cli, db_cli, display_links):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    register_builtins()  # the shipped widget and source types, as app.py does
    args = build_parser().parse_args(argv)
    return int(args.func(args))
