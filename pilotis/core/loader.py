"""Load and validate ``config/`` and ``dashboards/``; report every problem of every file at once.

The order (datasets, org chart, portal, indicators, dashboards, séances, alerts) and the cross-file checks
live here; each kind of file is read by its own part: ``load_files`` (shared plumbing),
``load_portal``, ``load_datasets``, ``load_dashboards``, ``indicators``, ``seance_config``, ``alert_config``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pilotis.core.alert_config import load_alerts
from pilotis.core.errors import ConfigError, did_you_mean
from pilotis.core.indicator_config import IndicatorLoader
from pilotis.core.load_dashboards import DashboardFiles
from pilotis.core.load_datasets import DatasetFiles
from pilotis.core.load_portal import PortalFiles
from pilotis.core.load_referents import ReferentFiles
from pilotis.core.registry import Dashboard, Registry
from pilotis.core.report_load import load_reports
from pilotis.core.schema import PortalConfig
from pilotis.core.seance_config import load_seances
from pilotis.core.seances import build
from pilotis.core.sensors import load_sensor_sources
from pilotis.core.settings import Settings
from pilotis.core.sources import DataSource
from pilotis.core.sso_config import load_sso
from pilotis.core.usage import check_usage

log = logging.getLogger(__name__)


class _Loader(PortalFiles, DatasetFiles, DashboardFiles, ReferentFiles):
    """Every part of the loader on one object (the issues of all files in one list)."""

    # ------------------------------------------------------------------ indicators
    def indicator_files(self, sources: dict[str, DataSource], departments: dict[str, str]) -> None:
        """`config/indicators/*.yaml` (:mod:`pilotis.core.indicators`), before the dashboards using them."""
        found = IndicatorLoader(self, sources, departments)
        self.indicators = found.load(self.config_dir / "indicators")
        self.failed_indicators = found.failed

    # ------------------------------------------------------------------ séances
    def seances(
        self, dashboards: dict[str, Dashboard], sources: dict[str, DataSource], portal: PortalConfig | None
    ) -> dict[str, Any]:
        """`config/seances/*.yaml` (presentation mode), checked against dashboards and data."""
        return load_seances(self, dashboards, sources, portal)


def load_registry(
    root: Path,
    config_dir: Path | None = None,
    dashboards_dir: Path | None = None,
    instance_dir: Path | None = None,
    database_url: str = "",
) -> Registry:
    """Load everything; raise :class:`ConfigError` listing every problem of every file.

    ``instance_dir`` holds files derived from sources (converted CSV), shared by the workers;
    ``database_url`` is the application database, read by the sources of sensor readings.
    """
    loader = _Loader(root, config_dir or root / "config", dashboards_dir or root / "dashboards")
    loader.duck.work_dir = (instance_dir or root / "instance") / "sources"
    loader.app_database = database_url
    sensors = load_sensor_sources(loader)
    loader.sensor_sources = set(sensors)
    portal = loader.portal()
    departments = loader.departments()
    sso = load_sso(loader, departments)  # config/sso.yaml (optional): single sign-on
    sources = loader.datasets()
    loader.indicator_files(sources, departments)
    dashboards = loader.dashboards(sources)
    loader.check_departments(dashboards, departments)
    shown_on = check_usage(loader, dashboards)  # which dashboards show which indicators
    seances = loader.seances(dashboards, sources, portal)
    known = {
        "theme": {i.split(".", 1)[0] for i in loader.indicators},
        "dashboard": dashboards,
        "indicator": loader.indicators,
        "dataset": sources,
    }
    referents = loader.referents(known, departments)  # config/referents.yaml (optional)
    alerts = load_alerts(loader, sources, loader.indicators, dashboards, departments)
    reports = load_reports(loader, dashboards, loader.indicators, departments, sources, portal)
    if portal is not None:
        loader.check_maps(portal, dashboards)
    if portal is not None and loader.portal_doc is not None:
        for key in ("communes_dataset", "epci_dataset"):
            name = getattr(portal, key)
            if name not in sources and name not in loader.failed:
                written = key in loader.portal_doc.data
                hint = (
                    (
                        did_you_mean(name, sources, "jeux de données")
                        or "déclarez-le dans config/datasets/<fichier>.yaml"
                    )
                    if written
                    else f"déclarez le jeu de données `{name}` dans config/datasets/, ou écrivez `{key}: …`"
                )
                loader.issues.append(loader.portal_doc.issue((key,), f"{key} : jeu de données `{name}` inconnu", hint))
    if loader.issues or portal is None:
        raise ConfigError(loader.staged())
    registry = Registry(
        root=root,
        portal=portal,
        datasets=sources,
        dashboards=dashboards,
        duck=loader.duck,
        departments=departments,
        indicators=loader.indicators,
        indicator_dashboards=shown_on,
        sso=sso,
        sensors=sensors,
        referents=referents,
        alerts=alerts,
    )
    registry.seances = {key: build(key, spec, registry) for key, spec in seances.items()}
    registry.reports = reports
    return registry


def registry_for(settings: Settings) -> Registry:
    """:func:`load_registry` for an instance's settings: its folders, and its application database
    (where the sensor datasets read their readings) — what the app, the worker and every command use."""
    return load_registry(
        settings.root,
        settings.config_dir,
        settings.dashboards_dir,
        instance_dir=settings.instance_dir,
        database_url=settings.database_url,
    )


def load_departments(config_dir: Path) -> dict[str, str]:
    """Only the org chart (`config/departments.yaml`), e.g. for the command line; raises ConfigError."""
    loader = _Loader(config_dir.parent, config_dir, config_dir.parent / "dashboards")
    departments = loader.departments()
    if loader.issues:
        raise ConfigError(loader.issues)
    return departments


def load_sensors(config_dir: Path) -> dict[str, Any]:
    """Only the sensor sources (`config/sensors/*.yaml`), e.g. for the command line; raises ConfigError."""
    loader = _Loader(config_dir.parent, config_dir, config_dir.parent / "dashboards")
    sensors = load_sensor_sources(loader)
    if loader.issues:
        raise ConfigError(loader.issues)
    return sensors
