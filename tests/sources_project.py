"""A small project in a temporary folder whose datasets use every source type, for app tests.

One dashboard (`sources`, open to every signed-in agent) shows one total per dataset; the remote
datasets point to a :class:`tests.fake_api.FakeApi` server.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

from dash import Dash

from app import create_app
from pilotis.core.settings import ROOT, Settings

DATASETS = """
ods_indicateurs:
  type: opendatasoft
  url: {url}
  dataset_id: indicateurs
  title: Indicateurs départementaux
  timeout: 1s
  retry: {retry}
  {ttl}
  columns: {{code_insee: {{type: string}}, valeur: {{type: number}}}}
api_metier:
  type: rest
  url: {url}/rest/items
  records: data.items
  pagination: {{type: page, size: 5000}}
  title: Application métier
  timeout: 1s
  retry: {retry}
  {ttl}
  columns: {{valeur: {{type: number}}}}
depots:
  type: csv
  path: {root}/depots/*.csv
  decimal: ","
  title: Dépôts de l'application comptable
  retry: {retry}
base_sql:
  type: sql
  url: sqlite:///{root}/base.sqlite
  table: depenses
  title: Base des dépenses
  retry: {retry}
ods_jamais:
  type: opendatasoft
  url: http://127.0.0.1:{closed_port}
  dataset_id: absent
  title: Portail jamais joint
  timeout: 1s
  retry: {retry}
  columns: {{valeur: {{type: number}}}}
"""

DASHBOARD = """
id: sources
title: Sources de données
access: public-internal
widgets:
  - {{id: ods, type: custom, function: valeur, dataset: ods_indicateurs, territory: all, period: all}}
  - {{id: rest, type: custom, function: valeur, dataset: api_metier, territory: all, period: all}}
  - {{id: csv, type: custom, function: montant, dataset: depots, territory: all, period: all}}
  - {{id: sql, type: custom, function: montant, dataset: base_sql, territory: all, period: all}}
  - {{id: jamais, type: custom, function: valeur, dataset: ods_jamais, territory: all, period: all}}
"""

MODULE = """
from dash import html

from pilotis.core.formatting import format_value


def _total(widget, ctx, column):
    frame, _ = ctx.query(widget, {"v": f"sum({column})"})
    return [html.P(format_value(float(frame.iloc[0]["v"]), "number", 2), className="total")]


def valeur(widget, ctx):
    return _total(widget, ctx, "valeur")


def montant(widget, ctx):
    return _total(widget, ctx, "montant")
"""


def write_project(root: Path, api_url: str, closed_port: int, *, retry: str = "0s", ttl: str | None = None) -> Path:
    """Write config/, dashboards/ and the local data files under ``root``."""
    (root / "config" / "datasets").mkdir(parents=True, exist_ok=True)
    (root / "dashboards").mkdir(exist_ok=True)
    shutil.copy(ROOT / "config" / "portal.yaml", root / "config" / "portal.yaml")
    if (ROOT / "config" / "departments.yaml").exists():
        shutil.copy(ROOT / "config" / "departments.yaml", root / "config" / "departments.yaml")
    (root / "config" / "datasets" / "ref.yaml").write_text(
        f"""
communes:
  type: csv
  path: {ROOT}/data/communes.csv
  title: Communes
  columns: {{code_insee: {{type: string}}, epci_siren: {{type: string}}, population: {{type: integer}}}}
epci:
  type: csv
  path: {ROOT}/data/epci.csv
  title: EPCI
  columns: {{epci_siren: {{type: string}}, population: {{type: integer}}}}
""",
        encoding="utf-8",
    )
    (root / "config" / "datasets" / "sources.yaml").write_text(
        DATASETS.format(
            url=api_url,
            root=root,
            retry=retry,
            closed_port=closed_port,
            ttl=f"ttl: {ttl}" if ttl else "",
        ),
        encoding="utf-8",
    )
    (root / "dashboards" / "sources.yaml").write_text(DASHBOARD.format(), encoding="utf-8")
    (root / "dashboards" / "sources.py").write_text(MODULE, encoding="utf-8")
    (root / "depots").mkdir(exist_ok=True)
    (root / "depots" / "2024-01.csv").write_bytes("agence;montant\nNord;1 000,5\nSud;2,5\n".encode("cp1252"))
    with sqlite3.connect(root / "base.sqlite") as con:
        con.execute("CREATE TABLE IF NOT EXISTS depenses (jour DATE, montant REAL)")
        con.execute("DELETE FROM depenses")
        con.executemany(
            "INSERT INTO depenses VALUES (?, ?)",
            [(dt.date(2024, 1, 1).isoformat(), 40.0), (dt.date(2024, 2, 1).isoformat(), 2.0)],
        )
    return root


def make_app(root: Path, instance: Path, **settings: object) -> Dash:
    """The real app on the project at ``root`` (demo accounts), clients that send CSRF headers."""
    from tests.conftest import DashClient

    values: dict[str, object] = {
        "root": root,
        "config_dir": root / "config",
        "dashboards_dir": root / "dashboards",
        "instance_dir": instance,
        "mode": "demo",
        "secure_cookies": False,
        "proxies": 0,
        "database_url": f"sqlite:///{instance / 'pilotis.accounts.db'}",
    }
    values.update(settings)
    app = create_app(Settings.from_env(**values))
    app.server.test_client_class = DashClient
    return app
