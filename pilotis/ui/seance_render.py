"""What a séance shows: each widget rendered like on its dashboard, reshaped for a projector.

:func:`render` renders every slot of a séance for one principal, within the séance's time bucket
(:func:`pilotis.core.data.time_bucket`: all screens and workers share one query per period), and
returns plain JSON: the widget's content without its graph (``body``) and the graph's figure
restyled for a room (``figure``: large fonts, black text, size taken from the screen). The live
view sends these to existing components (``figure`` of a ``dcc.Graph``: Plotly.react redraws in
place, no flicker); a snapshot stores exactly the same JSON.

What a viewer may see of a séance is decided per slot (:func:`visible_slots`, through
:func:`pilotis.access.widget_indicators_visible`): on a synthesis dashboard a manager sees his
direction's indicators only. A slot he may not see is not rendered, not cached for him, not sent,
and the page does not name it.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from dash._utils import to_json

from pilotis.core.access import Principal, can_view, clamp_territory, territory_scope, widget_indicators_visible
from pilotis.core.canonical import canonical
from pilotis.core.data import time_bucket
from pilotis.core.formatting import format_date
from pilotis.core.freshness import PARIS, Observation, format_moment
from pilotis.core.schema import DataWidgetBase
from pilotis.core.seances import Seance, SeanceItem, Slot
from pilotis.core.sources import SourceError
from pilotis.core.territory import Territory
from pilotis.ui.portal import Portal

FIGURE_FONT_PX = 28
"""Font size of every text of a projected figure (ticks, legends, colour bars, labels)."""
TEXT = "#000000"
GRID = "#c8c8c8"
DROPPED_CLASSES = ("pilotis-freshness", "pilotis-details")
"""Parts of a widget not projected: « mis à jour le » (the slide's stamp says it) and the
« voir les données » drawer (nobody clicks on a projection)."""


@dataclass
class SlotContent:
    """One widget as the séance shows it."""

    body: Any
    figure: dict[str, Any] | None
    observations: list[Observation] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """The source failed and no earlier result exists (the screen keeps what it shows)."""
        return any(o.stale and o.refreshed_at is None for o in self.observations)

    @property
    def stale(self) -> bool:
        """Last good data shown because a source failed (« données non actualisées »)."""
        return any(o.stale for o in self.observations)

    def digest(self) -> str:
        """Hash of what is shown (an unchanged slot is not sent again)."""
        return hashlib.sha256(canonical({"b": self.body, "f": self.figure})).hexdigest()[:20]

    def to_json(self) -> dict[str, Any]:
        """JSON values (for the shared cache)."""
        return {
            "body": self.body,
            "figure": self.figure,
            "seen": [[o.dataset, o.refreshed_at, o.stale, o.message] for o in self.observations],
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> SlotContent:
        """The inverse of :meth:`to_json`."""
        return cls(
            body=value["body"],
            figure=value["figure"],
            observations=[Observation(str(d), r, bool(s), str(m)) for d, r, s, m in value["seen"]],
        )


@dataclass
class Rendered:
    """A whole séance rendered at one moment."""

    slots: list[SlotContent]
    at: float
    filters: list[tuple[str | None, str | None]]
    """Per item: the territory and period values used."""
    visible: frozenset[int] = frozenset()
    """Indexes of the slots rendered (:func:`visible_slots`); the others are empty."""

    def to_json(self) -> dict[str, Any]:
        """JSON values (for the shared cache)."""
        return {
            "slots": [slot.to_json() for slot in self.slots],
            "at": self.at,
            "filters": [list(f) for f in self.filters],
            "visible": sorted(self.visible),
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Rendered:
        """The inverse of :meth:`to_json`."""
        return cls(
            slots=[SlotContent.from_json(v) for v in value["slots"]],
            at=float(value["at"]),
            filters=[(f[0], f[1]) for f in value["filters"]],
            visible=frozenset(int(i) for i in value["visible"]),
        )

    def withheld(self, visible: frozenset[int]) -> Rendered:
        """This rendering with every slot outside ``visible`` emptied (the visibility decision
        applied again after the shared cache: nothing of a hidden slot is ever sent)."""
        kept = self.visible & visible
        slots = [slot if index in kept else SlotContent(None, None) for index, slot in enumerate(self.slots)]
        return Rendered(slots=slots, at=self.at, filters=self.filters, visible=kept)

    def slide_observations(self, seance: Seance, slide: int) -> list[Observation]:
        """What the visible widgets of one slide read."""
        return [
            o
            for slot in seance.slides[slide].slots
            if slot.index in self.visible
            for o in self.slots[slot.index].observations
        ]


def plain(component: Any) -> Any:
    """A Dash component tree (or figure) as plain JSON values, like the browser receives it."""
    return json.loads(to_json(component))


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

    The caller decided on the séance already (:func:`pilotis.access.can_view_seance`: every
    dashboard shown, or a display link of this séance); each slot then needs the widget-level
    decision :func:`pilotis.access.widget_indicators_visible` (on a synthesis dashboard, the
    indicators of the other directions are hidden). Like the synthesis page
    (:func:`pilotis.overview.visible_widgets`), a section heading of a synthesis dashboard whose
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
    open: :func:`pilotis.overview.drill_targets`). Two viewers with the same digest and the same
    row scope receive the same rendering."""
    visible = visible_slots(portal, seance, principal)
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


# --------------------------------------------------------------------------- rendering


def render(
    portal: Portal,
    seance: Seance,
    principal: Principal | None,
    lang: str,
    refresh: int,
    overrides: dict[str, str] | None = None,
) -> Rendered:
    """Every slot of ``seance`` that ``principal`` may see, in the time bucket of ``refresh``
    seconds (the others are empty: :func:`visible_slots`).

    The whole result is also kept in the shared cache until the end of the bucket, keyed by
    everything that decides what the viewer sees (:func:`_cache_key`): the first screen of a
    period renders, the others (any worker, any machine sharing the cache) read it back.
    """
    now = portal.data.clock()
    start = math.floor(now / refresh) * refresh
    overrides = clean_overrides(portal, seance, principal, overrides)
    visible, viewer = audience(portal, seance, principal)
    key = _cache_key(portal, seance, principal, viewer, lang, refresh, start, overrides)
    if key is not None:
        found, value = portal.data.cache.get(key)
        if found and isinstance(value, dict):
            try:
                return Rendered.from_json(value).withheld(visible)
            except (KeyError, TypeError, ValueError):
                pass
    with time_bucket(refresh):
        rendered = _render(portal, seance, principal, lang, overrides, visible)
    if key is not None and not any(slot.failed for slot in rendered.slots):
        portal.data.cache.set(key, rendered.to_json(), max(1.0, start + refresh - now))
    return rendered.withheld(visible)


def _cache_key(
    portal: Portal,
    seance: Seance,
    principal: Principal | None,
    viewer: str,
    lang: str,
    refresh: int,
    start: float,
    overrides: dict[str, str],
) -> str | None:
    try:
        scope = territory_scope(principal, portal.territories)
    except Exception:  # noqa: BLE001 - no reference, no shared result: render for this screen
        return None
    rows = scope.value if scope is not None else "*"
    extra = urlencode(sorted(overrides.items()))
    # Shared between viewers (all workers, all machines of the cache), so keyed by everything
    # that decides what the viewer may see: `viewer` (audience(): the slots they may see and
    # the dashboards they may open, which decide the widgets and their links), `rows` (their
    # row scope: access.row_filters), plus what the rendering shows (language, filters already
    # normalised by clean_overrides, bucket). The principal's name or roles are not needed:
    # two viewers equal on these see the same thing. render() also empties, after the cache,
    # every slot outside the viewer's own visible set (Rendered.withheld).
    return f"seance:{seance.key}|{refresh}@{start:.0f}|{rows}|{viewer}|{lang}|{extra}"


def _render(
    portal: Portal,
    seance: Seance,
    principal: Principal | None,
    lang: str,
    overrides: dict[str, str] | None,
    visible: frozenset[int],
) -> Rendered:
    registry = portal.registry
    filters = [item_filters(portal, item, overrides if seance.implicit else None) for item in seance.spec.items]
    slots: list[SlotContent] = []
    for slot in seance.slots:
        if slot.index not in visible:  # never rendered for this viewer: nothing to leak
            slots.append(SlotContent(None, None))
            continue
        territory, period = filters[slot.item]
        dashboard = registry.dashboards[slot.dashboard]
        widget = dashboard.widget(slot.widget)
        seen: list[Observation] = []
        content = portal.render_widget(dashboard, widget, territory, period, lang, principal=principal, observed=seen)
        body, figure = split(plain(content))
        slots.append(SlotContent(body=body, figure=projected(figure) if figure else None, observations=seen))
    return Rendered(slots=slots, at=portal.data.clock(), filters=filters, visible=visible)


def split(tree: Any) -> tuple[Any, dict[str, Any] | None]:
    """The widget's content without its graph block, and the graph's figure (the first one)."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            kept = [walk(child) for child in node]
            return [child for child in kept if child is not None]
        if not isinstance(node, dict) or "props" not in node:
            return node
        props = node["props"]
        classes = str(props.get("className") or "").split()
        if node.get("type") == "Graph" and not found:
            found.append(props.get("figure") or {})
            return None
        if "pilotis-graph" in classes and not found:
            graphs = _graphs(node)
            if graphs:
                found.append(graphs[0])
                return None
        if any(c in classes for c in DROPPED_CLASSES):
            return None
        if "children" in props:
            node = {**node, "props": {**props, "children": walk(props["children"])}}
        return node

    body = walk(tree)
    return body, (found[0] if found else None)


def _graphs(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [f for child in node for f in _graphs(child)]
    if isinstance(node, dict) and "props" in node:
        if node.get("type") == "Graph":
            return [node["props"].get("figure") or {}]
        return _graphs(node["props"].get("children"))
    return []


def projected(figure: dict[str, Any]) -> dict[str, Any]:
    """``figure`` restyled for a projector: large black text, white background, no fixed height."""
    figure = copy.deepcopy(figure)
    layout = figure.setdefault("layout", {})
    layout.pop("height", None)
    layout.pop("width", None)
    layout["autosize"] = True
    big = {"size": FIGURE_FONT_PX, "color": TEXT}
    layout["font"] = {**layout.get("font", {}), **big}
    layout["paper_bgcolor"] = "#ffffff"
    layout["plot_bgcolor"] = "#ffffff"
    layout["margin"] = {"l": 12, "r": 12, "t": 12, "b": 12}
    layout["legend"] = {**layout.get("legend", {}), "font": big}
    layout["hoverlabel"] = {"font": {"size": FIGURE_FONT_PX}}
    for key in list(layout):
        if key.startswith(("xaxis", "yaxis")) and isinstance(layout[key], dict):
            axis = layout[key]
            axis["tickfont"] = big
            axis["automargin"] = True
            axis["gridcolor"] = GRID
            axis["linecolor"] = TEXT
            title = axis.get("title")
            if isinstance(title, dict):
                title["font"] = big
    for trace in figure.get("data", []):
        if not isinstance(trace, dict):
            continue
        colorbar = trace.get("colorbar")
        if isinstance(colorbar, dict):
            colorbar["tickfont"] = big
            colorbar["thickness"] = 28
            if isinstance(colorbar.get("title"), dict):
                colorbar["title"]["font"] = big
        if trace.get("type") == "pie":
            trace["textfont"] = big
            trace["insidetextfont"] = {"size": FIGURE_FONT_PX, "color": "#ffffff"}
            trace["outsidetextfont"] = big
    return figure


# --------------------------------------------------------------------------- stamps


def sources(portal: Portal, seance: Seance, slide: int, visible: frozenset[int] | None = None) -> list[str]:
    """Producers of the data of one slide (« DREES, 2020 »), once each; only those of the
    ``visible`` slots when given."""
    registry = portal.registry
    found: list[str] = []
    for slot in seance.slides[slide].slots:
        if visible is not None and slot.index not in visible:
            continue
        widget = registry.dashboards[slot.dashboard].widget(slot.widget)
        if isinstance(widget, DataWidgetBase) and widget.dataset in registry.datasets:
            config = registry.datasets[widget.dataset].config
            text = config.producer or config.title
            if config.simulated:
                text += " (données simulées)"
            found.append(text)
    return list(dict.fromkeys(found))


def stamp(portal: Portal, seance: Seance, rendered: Rendered, slide: int, lang: str) -> str | list[Any]:
    """« Données au 29/11/2026 à 10:42 — Sources : DREES, 2020 » for one slide. In another
    language, the producers' names (written in YAML, in French) come in a ``lang="fr"`` span: the
    stamp is then a list (text, span as Dash JSON), stored as is in a snapshot."""
    seen = rendered.slide_observations(seance, slide)
    times = [o.refreshed_at for o in seen if o.refreshed_at is not None]
    parts = []
    if times:
        day, hour = format_moment(min(times), lang)
        parts.append(f"Données au {day} à {hour}" if lang == "fr" else f"Data as of {day} {hour}")
    names = sources(portal, seance, slide, rendered.visible)
    if names and lang == "fr":
        parts.append("Sources : " + " ; ".join(names))
    elif names:
        french = {
            "type": "Span",
            "namespace": "dash_html_components",
            "props": {"children": "; ".join(names), "lang": "fr"},
        }
        return [" — ".join([*parts, "Sources: "]), french]
    return " — ".join(parts)


def stale_since(rendered: Rendered, lang: str) -> str | None:
    """« 29/11/2026 à 10:42 » when some data shown is the last good copy, else None."""
    stale = [o.refreshed_at for s in rendered.slots for o in s.observations if o.stale and o.refreshed_at is not None]
    failed = any(s.failed for s in rendered.slots)
    if not stale and not failed:
        return None
    if not stale:
        return ""
    day, hour = format_moment(min(stale), lang)
    return f"{day} à {hour}" if lang == "fr" else f"{day} {hour}"


def moment_text(timestamp: float, lang: str = "fr") -> str:
    """« 29/11/2026 à 10:42 » (Paris time)."""
    moment = dt.datetime.fromtimestamp(timestamp, PARIS)
    return (
        f"{format_date(moment, lang)} à {moment:%H:%M}"
        if lang == "fr"
        else f"{format_date(moment, lang)} {moment:%H:%M}"
    )


def clock_text(timestamp: float | None = None) -> str:
    """« 10:42:05 » (Paris time)."""
    moment = dt.datetime.fromtimestamp(time.time() if timestamp is None else timestamp, PARIS)
    return moment.strftime("%H:%M:%S")


__all__ = [
    "render",
    "Rendered",
    "SlotContent",
    "canonical",
    "projected",
    "split",
    "stamp",
    "Slot",
    "visible_slots",
    "audience",
    "clean_overrides",
]
