"""The per-app state object: settings, loaded registry, data service, territory reference."""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable
from dataclasses import dataclass, field

from dash.development.base_component import Component

from pilotis.core.access import Principal, RowsDenied, clamp_territory, territory_scope, widget_indicators_visible
from pilotis.core.data import DataService
from pilotis.core.freshness import Observation, observing
from pilotis.core.i18n import t
from pilotis.core.registry import Dashboard, Registry
from pilotis.core.schema import DataWidgetBase, WidgetBase
from pilotis.core.scope import Scope
from pilotis.core.settings import Settings
from pilotis.core.sources import SourceError
from pilotis.core.territory import Territory, TerritoryIndex
from pilotis.core.widgets import WIDGET_TYPES, RenderContext
from pilotis.ui.components import notice
from pilotis.ui.notices import with_freshness
from pilotis.ui.render_cache import RenderCache, code_version

log = logging.getLogger(__name__)


@dataclass
class Portal:
    """Everything one app instance serves. Stored on the Flask app (``extensions['pilotis']``)."""

    settings: Settings
    registry: Registry
    data: DataService
    _territories: TerritoryIndex | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    rendered: RenderCache = field(init=False, repr=False)
    """Widgets already rendered, in this worker's memory (:mod:`pilotis.ui.render_cache`)."""

    def __post_init__(self) -> None:
        self.rendered = RenderCache(self.data, code_version())

    @property
    def territories(self) -> TerritoryIndex:
        """The commune/EPCI reference, read once per process from the lookup dataset."""
        with self._lock:
            if self._territories is None:
                portal = self.registry.portal
                self._territories = TerritoryIndex.of_portal(self.data, portal)
            return self._territories

    def parse_filters(
        self, dashboard: Dashboard, territory: str | None, period: str | None, scope: Territory | None = None
    ) -> tuple[Territory, int | None]:
        """Validated filter values: unknown territories or years fall back to the defaults.

        ``scope`` (``access.territory_scope``): a territory outside it becomes the scope itself,
        so a crafted request never widens a restricted user's view.
        """
        chosen = clamp_territory(scope, self.known_territory(territory), self.territories)
        year: int | None = None
        spec = dashboard.spec.filters.period
        if spec is not None:
            try:
                years = self.data.years(spec.dataset)
            except SourceError:  # the period source is down: widgets still render, all years
                years = []
            if period == "all":
                year = None
            elif period and period.isdigit() and int(period) in years:
                year = int(period)
            elif spec.default == "latest" and years and period is None:
                year = years[0]
        return chosen, year

    def render_context(
        self,
        dashboard: Dashboard,
        territory: str | None,
        period: str | None,
        lang: str = "fr",
        *,
        principal: Principal | None,
        controls: dict[str, object] | None = None,
    ) -> RenderContext:
        """What a widget (or an export, or the API) of ``dashboard`` reads through, for
        ``principal``: the territory clamped to their scope, and the row-level rules of
        :func:`pilotis.core.access.row_filters` added to every query before aggregation (so they are
        part of every cache key). Rendering raises :class:`~pilotis.core.access.RowsDenied` when a
        dataset cannot be restricted to their territory. The caller checks ``can_view`` first.
        """
        index = self.territories
        chosen, year = self.parse_filters(dashboard, territory, period, territory_scope(principal, index))
        return RenderContext.for_principal(
            self.registry,
            self.data,
            index,
            principal,
            chosen,
            year,
            lang=lang,
            controls=dict(controls or {}),
            dashboard=dashboard,
        )

    def scope(self, territory: str | None, year: int | None, lang: str = "fr", *, principal: Principal | None) -> Scope:
        """What an indicator or a widget's data is computed for, without a dashboard (alerts, the
        JSON API): ``territory`` (``epci:200083392``; unknown: the département) clamped to the
        principal's restriction, their row rules on every query, ``year`` (None: latest)."""
        chosen = self.known_territory(territory)
        return Scope.for_principal(self.registry, self.data, self.territories, principal, chosen, year, lang=lang)

    def known_territory(self, territory: str | None) -> Territory:
        """``territory`` parsed (``commune:53130``), or the département when unknown."""
        dep = self.registry.portal.collectivite.code_departement
        chosen = Territory.parse(territory, dep)
        return chosen if self.territories.is_known(chosen) else Territory("departement", dep)

    def render_widget(
        self,
        dashboard: Dashboard,
        widget: WidgetBase,
        territory: str | None,
        period: str | None,
        lang: str = "fr",
        *,
        principal: Principal | None,
        observed: list[Observation] | None = None,
        controls: dict[str, object] | None = None,
    ) -> Component | list[Component]:
        """A widget's content for these filters, as ``principal`` may see it (row-level rules of
        ``access.row_filters`` go into every query, hence into the cache key); failures become
        French messages, never tracebacks. ``observed`` receives what the rendering read (the
        séance view uses it for its « données au … » stamp and its stale indicator).
        ``controls``: values of the widget's own controls (``WidgetType.inputs``)."""
        if not widget_indicators_visible(principal, self.registry, dashboard, widget.id):
            return notice(t("out_of_scope", lang), "info")  # an indicator of another direction
        seen: list[Observation] = []
        try:
            ctx = self.render_context(dashboard, territory, period, lang, principal=principal, controls=controls)
            key = None if observed is not None else render_key(dashboard, widget, ctx, principal)
            if key is not None:
                found, content = self.rendered.get(key)
                if found:
                    return content
            with observing() as seen:
                content = WIDGET_TYPES[widget.type].render(widget, ctx)
            framed = with_freshness(content, seen, self.registry, lang)
            return framed if key is None else self.rendered.put(key, framed, seen)
        except RowsDenied:
            return notice(t("out_of_scope", lang), "info")
        except SourceError as exc:
            name = widget.dataset if isinstance(widget, DataWidgetBase) else widget.id
            title = self.registry.datasets[name].config.title if name in self.registry.datasets else name
            return notice(t("source_failed", lang, source=title, reason=str(exc)), "danger")
        except Exception:  # noqa: BLE001 - a widget never takes the page down
            log.exception("widget %s/%s en erreur", dashboard.id, widget.id)
            return notice(t("internal_error", lang), "danger")
        finally:
            if observed is not None:
                observed.extend(seen)


def render_key(
    dashboard: Dashboard, widget: WidgetBase, ctx: RenderContext, principal: Principal | None
) -> Hashable | None:
    """The key of a rendered widget in :class:`RenderCache` (None: not kept).

    Shared by the users of one worker, so keyed by everything that decides what the viewer sees:
    the widget (its id and its whole configuration: a changed YAML is another key), the code
    drawing it (``RenderCache.code``), the filters as resolved for this viewer (``ctx.territory`` is
    already clamped to their territory, ``ctx.year`` resolved), the widget's own controls, the
    language, and the viewer's rights — every field of :class:`~pilotis.core.access.Principal`
    that access.py reads (department and roles: which indicators and links they may see;
    territory: their row rules; séance: a display link) — all but the name, which decides
    nothing: two users equal on these see the same widget. Whether they may see the widget at all
    is checked before, on every request (``can_view_widget``, ``widget_indicators_visible``). The
    data it was drawn from is checked by the cache itself (dataset versions, freshness). A custom
    widget's function may read anything (the time, a file): never kept.
    """
    if not WIDGET_TYPES[widget.type].cacheable:
        return None
    # Grants (dashboards opened to this person for a period) decide what they see like a department
    # does (can_view: which dashboards a widget may link to; can_view_indicator: which indicators a
    # synthesis widget shows), so the ids granted *now* are part of the rights: two users equal on
    # everything else but one grant never share a rendering, and an ended grant is another key.
    # The roles also decide statistical secrecy (an exempt role sees exact small counts,
    # pilotis/core/secrecy.py): a masked rendering and an exact one never share an entry.
    rights = (
        None
        if principal is None
        else (
            principal.department,
            principal.roles,
            principal.territory,
            principal.seance,
            tuple(sorted(principal.granted())),
        )
    )
    controls = tuple(sorted((name, repr(value)) for name, value in ctx.controls.items()))
    config = widget.model_dump_json()
    # A filter the widget does not read (WidgetType.filters_read: `territory: all`, a compare
    # view's own territories) is left out: its renderings for every commune are one entry. Safe:
    # what the viewer may see stays in `rights` (their territory restriction, roles, grants), and
    # the widget's content reads nothing of that filter.
    read = WIDGET_TYPES[widget.type].filters_read(widget)
    territory = str(ctx.territory) if "territory" in read else "*"
    year = ctx.year if "period" in read else "*"
    return (dashboard.id, widget.id, config, territory, year, ctx.lang, controls, rights)
