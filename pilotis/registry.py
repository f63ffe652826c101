"""The loaded, validated configuration: what the app serves. Hangs off the app, never global."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from pilotis.schema import DashboardSpec, PortalConfig, WidgetBase
from pilotis.sources import DataSource, DuckRuntime


@dataclass
class Dashboard:
    """A validated dashboard: its spec, its typed widgets and its optional callbacks module."""

    spec: DashboardSpec
    widgets: list[WidgetBase]
    module: ModuleType | None
    source_file: Path

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
