"""Which indicators each widget shows, which thematic dashboards show each indicator, and the
rules of a synthesis dashboard (``overview: true``), checked at load time; which widgets of a
synthesis dashboard a user may see, and where an indicator drills down to.

At load time, :func:`check_usage` records which indicators each widget shows and which
*thematic* dashboards show each indicator (what :func:`pilotis.core.access.can_view_indicator`
decides on), and checks the rules of a synthesis dashboard:

- its data widgets show declared indicators (``kpi:``), so that each one can be gated;
- each of its indicators is shown by at least one thematic dashboard (otherwise nobody but an
  administrator could see it, and there would be no page to drill down to).

The page itself is drawn by :mod:`pilotis.ui.overview`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pilotis.core.access import Principal, can_view, can_view_widget
from pilotis.core.schema import DataWidgetBase
from pilotis.core.widgets import WIDGET_TYPES

if TYPE_CHECKING:
    from pilotis.core.load_files import ConfigReader
    from pilotis.core.registry import Dashboard, Registry


def check_usage(loader: ConfigReader, dashboards: dict[str, Dashboard]) -> dict[str, tuple[str, ...]]:
    """Fill ``Dashboard.widget_indicators``; the thematic dashboards showing each indicator."""
    indicators = loader.indicators
    shown_on: dict[str, list[str]] = {}
    for dashboard in dashboards.values():
        for widget in dashboard.widgets:
            used = WIDGET_TYPES[widget.type].indicators_used(widget)
            if used:
                dashboard.widget_indicators[widget.id] = tuple(used)
            if dashboard.spec.overview:
                continue
            for indicator_id in used:
                if indicator_id in indicators:
                    for required in sorted(indicators[indicator_id].requires):
                        shown_on.setdefault(required, [])
                        if dashboard.id not in shown_on[required]:
                            shown_on[required].append(dashboard.id)
    for dashboard in dashboards.values():
        if not dashboard.spec.overview:
            continue
        doc = loader.read(dashboard.source_file)
        if doc is None:  # not reachable: a dashboard loaded from its file, which was read
            continue
        raws = doc.data.get("widgets", []) if isinstance(doc.data, dict) else []
        index = {raw.get("id"): i for i, raw in enumerate(raws) if isinstance(raw, dict)}
        for widget in dashboard.widgets:
            loc = ("widgets", index.get(widget.id, 0))
            used = dashboard.widget_indicators.get(widget.id, ())
            if isinstance(widget, DataWidgetBase) and not used:
                loader.issues.append(
                    doc.issue(
                        loc,
                        f"widget `{widget.id}` : un tableau de synthèse ne montre que des indicateurs déclarés",
                        "écrivez `kpi: <thème>.<nom>` (config/indicators/) au lieu de `dataset` et `measure`",
                    )
                )
            for indicator_id in used:
                if indicator_id in indicators and not shown_on.get(indicator_id):
                    key = "kpi" if getattr(widget, "kpi", None) == indicator_id else "indicators"
                    loader.issues.append(
                        doc.issue(
                            (*loc, key),
                            f"indicateur `{indicator_id}` affiché par aucun tableau de bord "
                            "thématique : personne d'autre qu'un administrateur ne le verrait",
                            "ajoutez-le à un tableau de bord de sa direction (`kpi: …`)",
                        )
                    )
    return {k: tuple(v) for k, v in shown_on.items()}


def drill_targets(principal: Principal | None, registry: Registry, indicator: str) -> list[Dashboard]:
    """Thematic dashboards showing ``indicator`` that ``principal`` may open (navigation order)."""
    names = registry.indicator_dashboards.get(indicator, ())
    return [d for d in registry.ordered() if d.id in names and can_view(principal, d.spec)]


def visible_widgets(principal: Principal | None, registry: Registry, dashboard: Dashboard) -> list[Any]:
    """The widgets of ``dashboard`` that ``principal`` may see, without empty sections."""
    shown = [w for w in dashboard.widgets if can_view_widget(principal, registry, dashboard, w.id)]
    result: list[Any] = []
    for position, widget in enumerate(shown):
        if widget.type == "section":
            following = next((w for w in shown[position + 1 :]), None)
            if following is None or following.type == "section":
                continue  # every widget of this section is hidden from this user
        result.append(widget)
    return result
