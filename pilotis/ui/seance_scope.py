"""Who sees what of a séance, and under which filters: the slots a principal may see (per
indicator on a synthesis dashboard), the filters of each item (territory clamped to the viewer's
scope), the overrides of ``/seance/d/<dashboard>?territoire=…&periode=…`` made safe.
"""

from __future__ import annotations

import hashlib

from pilotis.core.access import Principal, can_view, clamp_territory, territory_scope, widget_indicators_visible
from pilotis.core.canonical import canonical
from pilotis.core.seances import Seance, SeanceItem, Slot
from pilotis.core.sources import SourceError
from pilotis.core.territory import Territory
from pilotis.ui.portal import Portal

# --------------------------------------------------------------------------- filters


def item_filters(
    portal: Portal, item: SeanceItem, overrides: dict[str, str] | None = None
) -> tuple[str | None, str | None]:
    """``(territory, period)`` values for an item, as the dashboard's filter widgets send them.

    ``overrides`` (``territoire``, ``periode``): chosen when starting the implicit séance of a
    dashboard (the « Présenter » button carries the filters of the page).
    """
    overrides = overrides or {}
    territory = overrides.get("territoire") or item.filters.territory
    period: str | int | None = overrides.get("periode") or item.filters.period
    if period == "latest":
        spec = portal.registry.dashboards[item.dashboard].spec.filters.period
        try:
            years = portal.data.years(spec.dataset) if spec else []
        except SourceError:  # the source is down: the dashboard's default applies
            years = []
        period = str(years[0]) if years else None
    return territory, (str(period) if period is not None else None)


def describe_filters(
    portal: Portal,
    item: SeanceItem,
    territory: str | None,
    period: str | None,
    principal: Principal | None,
    lang: str,
) -> str:
    """« Laval Agglomération · 2024 »: what the item shows, in words."""
    dashboard = portal.registry.dashboards[item.dashboard]
    try:
        scope = territory_scope(principal, portal.territories)
        chosen, year = portal.parse_filters(dashboard, territory, period, scope)
        name = portal.territories.name(chosen)
    except Exception:  # noqa: BLE001 - the reference is unavailable: say nothing rather than fail
        return ""
    parts = []
    if dashboard.spec.filters.territory is not None:
        parts.append(name)
    if dashboard.spec.filters.period is not None:
        parts.append(str(year) if year else ("toute la période" if lang == "fr" else "whole period"))
    return " · ".join(p for p in parts if p)


# --------------------------------------------------------------------------- who sees what


def visible_slots(portal: Portal, seance: Seance, principal: Principal | None) -> frozenset[int]:
    """Indexes of the slots of ``seance`` that ``principal`` may see.

    The caller decided on the séance already (:func:`pilotis.core.access.can_view_seance`: every
    dashboard shown, or a display link of this séance); each slot then needs the widget-level
    decision :func:`pilotis.core.access.widget_indicators_visible` (on a synthesis dashboard, the
    indicators of the other directions are hidden). Like the synthesis page
    (:func:`pilotis.core.usage.visible_widgets`), a section heading of a synthesis dashboard whose
    widgets are all hidden is hidden too.
    """
    registry = portal.registry
    shown: list[Slot] = []
    for slot in seance.slots:
        dashboard = registry.dashboards.get(slot.dashboard)
        if dashboard is not None and widget_indicators_visible(principal, registry, dashboard, slot.widget):
            shown.append(slot)
    kept: set[int] = set()
    for position, slot in enumerate(shown):
        if _is_overview_section(portal, slot):
            following = shown[position + 1] if position + 1 < len(shown) else None
            if following is None or following.item != slot.item or _is_overview_section(portal, following):
                continue
        kept.add(slot.index)
    return frozenset(kept)


def _is_overview_section(portal: Portal, slot: Slot) -> bool:
    dashboard = portal.registry.dashboards[slot.dashboard]
    return bool(dashboard.spec.overview) and dashboard.widget(slot.widget).type == "section"


def audience(portal: Portal, seance: Seance, principal: Principal | None) -> tuple[frozenset[int], str]:
    """The slots ``principal`` may see and a digest of everything that decides what they see of
    ``seance`` besides their rows: those slots, and the dashboards they may open (a KPI of a
    synthesis dashboard links to the thematic dashboard of its indicator that the viewer may
    open: :func:`pilotis.core.usage.drill_targets`). Two viewers with the same digest and the same
    row scope receive the same rendering."""
    visible = visible_slots(portal, seance, principal)
    # can_view reads the principal's grants too: a dashboard granted for a period is in `opens`
    # (and out again once the grant ended), so the séance cache key follows grants without more.
    opens = sorted(d.id for d in portal.registry.dashboards.values() if can_view(principal, d.spec))
    digest = hashlib.sha256(canonical({"slots": sorted(visible), "opens": opens})).hexdigest()[:24]
    return visible, digest


def clean_overrides(
    portal: Portal, seance: Seance, principal: Principal | None, overrides: dict[str, str] | None
) -> dict[str, str]:
    """The ``?territoire=`` / ``?periode=`` of a dashboard presented alone, as the values the
    rendering will use, before any cache key is built: a value naming no known territory or
    year of the data, the département itself, a territory outside the viewer's scope (clamped to
    it, as the rendering would), or a filter the dashboard does not have, is dropped or
    normalised. Crafted addresses thus share the renderings of real filters (no render each)."""
    if not seance.implicit or not overrides:
        return {}
    dashboard = portal.registry.dashboards[seance.spec.items[0].dashboard]
    filters = dashboard.spec.filters
    clean: dict[str, str] = {}
    territory = overrides.get("territoire")
    if territory and filters.territory is not None:
        index = portal.territories
        chosen = Territory.parse(territory, index.departement_code)
        if index.is_known(chosen):
            chosen = clamp_territory(territory_scope(principal, index), chosen, index)
            if chosen.level != "departement":
                clean["territoire"] = chosen.value
    period = (overrides.get("periode") or "").strip()
    if period and filters.period is not None:
        if period in ("all", "latest"):
            clean["periode"] = period
        elif period.isdigit():
            try:
                years = portal.data.years(filters.period.dataset)
            except SourceError:
                years = []
            if int(period) in years:
                clean["periode"] = str(int(period))
    return clean
