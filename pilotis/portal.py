"""The per-app state object: settings, loaded registry, data service, territory reference."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from dash.development.base_component import Component

from pilotis.data import DataService
from pilotis.i18n import t
from pilotis.registry import Dashboard, Registry
from pilotis.schema import DataWidgetBase, WidgetBase
from pilotis.settings import Settings
from pilotis.sources import SourceError
from pilotis.territory import Territory, TerritoryIndex
from pilotis.widgets import WIDGET_TYPES, RenderContext

log = logging.getLogger(__name__)


@dataclass
class Portal:
    """Everything one app instance serves. Stored on the Flask app (``extensions['pilotis']``)."""

    settings: Settings
    registry: Registry
    data: DataService
    _territories: TerritoryIndex | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def territories(self) -> TerritoryIndex:
        """The commune/EPCI reference, read once per process from the lookup dataset."""
        with self._lock:
            if self._territories is None:
                portal = self.registry.portal
                self._territories = TerritoryIndex.load(
                    self.data, portal.communes_dataset, portal.collectivite.code_departement,
                    portal.collectivite.nom.removeprefix("Département de la ").removeprefix("Département de "),
                )
            return self._territories

    def parse_filters(self, dashboard: Dashboard, territory: str | None, period: str | None) -> tuple[Territory, int | None]:
        """Validated filter values: unknown territories or years fall back to the defaults."""
        dep = self.registry.portal.collectivite.code_departement
        chosen = Territory.parse(territory, dep)
        if not self.territories.is_known(chosen):
            chosen = Territory("departement", dep)
        year: int | None = None
        spec = dashboard.spec.filters.period
        if spec is not None:
            years = self.data.years(spec.dataset)
            if period == "all":
                year = None
            elif period and period.isdigit() and int(period) in years:
                year = int(period)
            elif spec.default == "latest" and years and period is None:
                year = years[0]
        return chosen, year

    def render_widget(self, dashboard: Dashboard, widget: WidgetBase, territory: str | None,
                      period: str | None, lang: str = "fr") -> Component | list[Component]:
        """A widget's content for these filters; failures become French messages, never tracebacks."""
        from layouts.common import notice

        try:
            chosen, year = self.parse_filters(dashboard, territory, period)
            ctx = RenderContext(registry=self.registry, dashboard=dashboard, data=self.data,
                                territories=self.territories, territory=chosen, year=year, lang=lang)
            return WIDGET_TYPES[widget.type].render(widget, ctx)
        except SourceError as exc:
            name = widget.dataset if isinstance(widget, DataWidgetBase) else widget.id
            title = self.registry.datasets[name].config.title if name in self.registry.datasets else name
            return notice(t("source_failed", lang, source=title, reason=str(exc)), "danger")
        except Exception:  # noqa: BLE001 - a widget never takes the page down
            log.exception("widget %s/%s en erreur", dashboard.id, widget.id)
            return notice(t("internal_error", lang), "danger")
