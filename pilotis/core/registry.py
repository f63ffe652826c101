"""The loaded, validated configuration: what the app serves. Hangs off the app, never global."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from pilotis.core.alert_rules import AlertRule
from pilotis.core.indicators import Indicator
from pilotis.core.referents import Directory
from pilotis.core.report_config import ReportSpec
from pilotis.core.schema import DashboardSpec, PortalConfig, WidgetBase
from pilotis.core.seances import IMPLICIT, PREFIX, Seance, implicit
from pilotis.core.sensors import SensorSourceSpec
from pilotis.core.sources import DataSource, DuckRuntime
from pilotis.core.sso_config import SsoConfig


@dataclass
class Dashboard:
    """A validated dashboard: its spec, its typed widgets and its optional callbacks module."""

    spec: DashboardSpec
    widgets: list[WidgetBase]
    module: ModuleType | None
    source_file: Path
    widget_indicators: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Indicator ids each widget shows (``kpi:``, compared indicators), by widget id."""

    @property
    def id(self) -> str:
        """The dashboard id (also the prefix of every component id of its page)."""
        return self.spec.id

    def dom_id(self, name: str) -> str:
        """The component id of ``name`` on this dashboard's page."""
        return f"{self.spec.id}--{name}"

    def widget(self, widget_id: str) -> WidgetBase:
        """A widget by id."""
        return next(w for w in self.widgets if w.id == widget_id)


@dataclass
class Registry:
    """Everything loaded from ``config/`` and ``dashboards/``."""

    root: Path
    portal: PortalConfig
    datasets: dict[str, DataSource]
    dashboards: dict[str, Dashboard] = field(default_factory=dict)
    duck: DuckRuntime = field(default_factory=DuckRuntime)
    departments: dict[str, str] = field(default_factory=dict)
    """The org chart (`config/departments.yaml`): direction id -> label."""
    indicators: dict[str, Indicator] = field(default_factory=dict)
    """Indicators declared in `config/indicators/` (id -> indicator)."""
    indicator_dashboards: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Thematic (non-`overview`) dashboards showing each indicator, directly or in a formula."""
    seances: dict[str, Seance] = field(default_factory=dict)
    """Séances declared in `config/seances/` (id -> séance); see :meth:`seance` for the implicit ones."""
    sso: SsoConfig | None = None
    """Single sign-on (`config/sso.yaml`); None: local accounts only."""
    sensors: dict[str, SensorSourceSpec] = field(default_factory=dict)
    """Sensor sources declared in `config/sensors/` (id -> devices), fed by ``POST /capteurs/<id>/releves``."""
    referents: Directory = field(default_factory=lambda: Directory.of(None))
    """The referents directory (`config/referents.yaml`)."""
    alerts: dict[str, AlertRule] = field(default_factory=dict)
    """Alert rules declared in `config/alerts/` (id -> rule)."""
    reports: dict[str, ReportSpec] = field(default_factory=dict)
    """Commission reports declared in `config/reports/` (id -> report, :mod:`pilotis.core.report_config`)."""
    _implicit: dict[str, Seance] = field(default_factory=dict, repr=False)

    def ordered(self) -> list[Dashboard]:
        """Dashboards in navigation order."""
        return sorted(self.dashboards.values(), key=lambda d: (d.spec.order, d.spec.title))

    def by_path(self, path: str) -> Dashboard | None:
        """The dashboard served at ``path`` (trailing slash ignored)."""
        clean = path.rstrip("/") or "/"
        return next((d for d in self.dashboards.values() if d.spec.url == clean), None)

    def owner_of(self, component_id: str) -> Dashboard | None:
        """The dashboard that declared a component id (``<dashboard>--<name>``)."""
        prefix, sep, _ = component_id.partition("--")
        return self.dashboards.get(prefix) if sep else None

    def seance(self, key: str) -> Seance | None:
        """A declared séance by id, or the implicit séance of a dashboard (key ``@<dashboard>``)."""
        if key.startswith(IMPLICIT):
            dashboard = self.dashboards.get(key[len(IMPLICIT) :])
            if dashboard is None:
                return None
            if key not in self._implicit:
                self._implicit[key] = implicit(dashboard, self)
            return self._implicit[key]
        return self.seances.get(key)

    def seance_of(self, component_id: str) -> Seance | None:
        """The séance whose page declares a component id (``_seance-<key>--<name>``)."""
        if not component_id.startswith(PREFIX):
            return None
        key, sep, _ = component_id[len(PREFIX) :].partition("--")
        return self.seance(key) if sep else None

    def seance_by_path(self, path: str) -> tuple[Seance, str | None] | None:
        """The séance of a page path and the snapshot id it names, if any.

        ``/seance/<id>``, ``/seance/d/<dashboard>``, each optionally followed by
        ``/instantane/<snapshot id>``.
        """
        parts = [p for p in path.split("/") if p]
        if len(parts) < 2 or parts[0] != "seance":
            return None
        rest = parts[1:]
        if rest[0] == "d":
            if len(rest) < 2:
                return None
            key, rest = IMPLICIT + rest[1], rest[2:]
        else:
            key, rest = rest[0], rest[1:]
        snapshot: str | None = None
        if rest:
            if len(rest) != 2 or rest[0] != "instantane" or not rest[1]:
                return None
            snapshot = rest[1]
        seance = self.seance(key)
        return (seance, snapshot) if seance is not None else None
