"""``python -m pilotis check [PATH]``: validate every dashboard and configuration file.

Its own module so that the other commands never import the loader (pandas, the widget types).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pilotis.core.errors import ConfigError
from pilotis.core.loader import load_registry
from pilotis.core.settings import Settings
from pilotis.plugins import register_builtins


def cmd_check(args: argparse.Namespace) -> int:
    """Validate every dashboard and config file; print all errors, exit 1 if any."""
    register_builtins()  # the shipped widget and source types, as app.py does
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


def register(sub: Any) -> None:
    """Add ``check`` to the command line."""
    check = sub.add_parser("check", help="valider les tableaux de bord et la configuration")
    check.add_argument("path", nargs="?", help="racine du projet (contient config/ et dashboards/)")
    check.set_defaults(func=cmd_check)
