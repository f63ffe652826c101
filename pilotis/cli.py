"""``python -m pilotis``: check the configuration, write the JSON Schema, and the commands of
each concern (``users``, ``audit``, ``db``, ``display-link``).

A command imports only what it needs, because every run of the CLI (a cron job, a deployment
script, a test) pays its imports: ``check`` needs the loader (pandas, the widgets), ``schema`` the
JSON Schema builder, ``docs`` the reference writer, and the commands of the other concerns live in
the modules named in :data:`COMMANDS`, imported only when their command runs (all of them for
``--help`` or an unknown command, so that argparse lists every choice).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pilotis.errors import ConfigError
from pilotis.settings import Settings

COMMANDS: dict[str, str] = {
    "users": "pilotis.users_cli",
    "audit": "pilotis.audit_cli",
    "db": "pilotis.db_cli",
    "display-link": "pilotis.display_links",
}
"""Commands added by another module's ``register(sub)``, by command name → module (imported on
use; tests/test_cli.py checks that each module registers exactly its command)."""
OWN_COMMANDS = ("check", "schema", "docs")


def cmd_check(args: argparse.Namespace) -> int:
    """Validate every dashboard and config file; print all errors, exit 1 if any."""
    from pilotis.loader import load_registry  # here, not at the top: the other commands never need it

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
    from pilotis.jsonschema import dashboard_schema, datasets_schema, indicators_schema  # only this command needs it

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
    from pilotis.docs import yaml_reference_markdown

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


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser (sub-commands are added by each concern).

    With ``argv``, only the module of the command it names is imported and registered (all of
    them when it names none or an unknown one); without, every command is there.
    """
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
    chosen = next((a for a in argv if not a.startswith("-")), None) if argv is not None else None
    known = chosen in COMMANDS or chosen in OWN_COMMANDS
    for name, module in COMMANDS.items():
        if not known or chosen == name:
            importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    return int(args.func(args))
