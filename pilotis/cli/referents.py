"""``python -m pilotis referents import FILE [--dry-run] [--output PATH]``: the referents
directory from a CSV file (:mod:`pilotis.core.referents_csv`). The file is checked line by line,
then the directory it gives is checked against the whole configuration (subjects, services) before
``config/referents.yaml`` is written; the holders' history is then brought up to date in the
database and the import is written to the audit log."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

from pilotis.accounts import audit, referent_history
from pilotis.accounts.db import Database
from pilotis.cli.common import actor, with_db
from pilotis.core.errors import ConfigError
from pilotis.core.loader import load_registry
from pilotis.core.referents_csv import CsvProblems, read_referents_csv
from pilotis.core.settings import Settings
from pilotis.plugins import register_builtins

HEADER = (
    "# Annuaire des référents, importé d'un fichier CSV (python -m pilotis referents import).\n"
    "# Voir docs/catalogue.md ; un nouvel import remplace ce fichier.\n"
)


@with_db
def cmd_import(args: argparse.Namespace, db: Database) -> int:
    """Check the CSV file and the directory it gives, write it, update the history."""
    source = Path(args.file)
    try:
        content = read_referents_csv(source.read_text(encoding="utf-8"), str(source))
    except OSError as exc:
        print(f"{source}: lecture impossible ({exc.strerror})", file=sys.stderr)
        return 1
    except UnicodeDecodeError:
        print(f"{source}: le fichier n'est pas en UTF-8 (enregistrez-le « CSV UTF-8 »)", file=sys.stderr)
        return 1
    except CsvProblems as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 1
    text = HEADER + yaml.safe_dump(content, allow_unicode=True, sort_keys=True, width=120)
    settings = Settings.from_env()
    register_builtins()
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config"
        shutil.copytree(settings.config_dir, config)
        (config / "referents.yaml").write_text(text, encoding="utf-8")
        try:  # the whole configuration with this directory: unknown subjects or services are errors
            registry = load_registry(settings.root, config, settings.dashboards_dir, instance_dir=settings.instance_dir)
        except ConfigError as exc:  # named after the CSV file: the YAML is not written yet
            generated = str(config / "referents.yaml")
            print(exc.report().replace(generated, f"{source} (annuaire généré depuis le CSV)"), file=sys.stderr)
            return 1
    roles = len(registry.referents.entries())
    if args.dry_run:
        print(f"{roles} rôle(s) valides ; rien n'est écrit (--dry-run).")
        return 0
    output = Path(args.output) if args.output else settings.config_dir / "referents.yaml"
    output.write_text(text, encoding="utf-8")
    changes = referent_history.sync(db, registry.referents)
    audit.record(
        "referents_import",
        username=actor(),
        ip=None,
        target=str(output),
        detail=f"{roles} rôles, {changes} changements",
        db=db,
    )
    print(f"{roles} rôle(s) écrits dans {output} ; {changes} changement(s) de titulaire ou de suppléant enregistrés.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``referents`` and its sub-command ``import``."""
    parser = sub.add_parser("referents", help="annuaire des référents")
    own = parser.add_subparsers(dest="referents_command", required=True)
    command = own.add_parser("import", help="importer l'annuaire depuis un fichier CSV")
    command.add_argument("file", help="fichier CSV (type,id,position,name,service,email,phone,account)")
    command.add_argument("--dry-run", action="store_true", help="vérifier sans rien écrire")
    command.add_argument("--output", help="fichier YAML à écrire (défaut : config/referents.yaml)")
    command.set_defaults(func=cmd_import)
