"""What a séance shows: each widget rendered like on its dashboard, reshaped for a projector.

:func:`render` renders every slot of a séance for one principal, within the séance's time bucket
(:func:`pilotis.core.data.time_bucket`: all screens and workers share one query per period), and
returns plain JSON: the widget's content without its graph (``body``) and the graph's figure
restyled for a room (``figure``: large fonts, black text, size taken from the screen). The live
view sends these to existing components (``figure`` of a ``dcc.Graph``: Plotly.react redraws in
place, no flicker); a snapshot stores exactly the same JSON.
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

from pilotis.core.access import Principal, territory_scope
from pilotis.core.canonical import canonical
from pilotis.core.data import time_bucket
from pilotis.core.formatting import format_date
from pilotis.core.freshness import PARIS, Observation, format_moment
from pilotis.core.schema import DataWidgetBase
from pilotis.core.seances import Seance, SeanceItem, Slot
from pilotis.core.sources import SourceError
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

    def to_json(self) -> dict[str, Any]:
        """JSON values (for the shared cache)."""
        return {
            "slots": [slot.to_json() for slot in self.slots],
            "at": self.at,
            "filters": [list(f) for f in self.filters],
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Rendered:
        """The inverse of :meth:`to_json`."""
        return cls(
            slots=[SlotContent.from_json(v) for v in value["slots"]],
            at=float(value["at"]),
            filters=[(f[0], f[1]) for f in value["filters"]],
        )

    def slide_observations(self, seance: Seance, slide: int) -> list[Observation]:
        """What the widgets of one slide read."""
        return [o for slot in seance.slides[slide].slots for o in self.slots[slot.index].observations]


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


# --------------------------------------------------------------------------- rendering


def render(
    portal: Portal,
    seance: Seance,
    principal: Principal | None,
    lang: str,
    refresh: int,
    overrides: dict[str, str] | None = None,
) -> Rendered:
    """Every slot of ``seance`` for ``principal``, in the time bucket of ``refresh`` seconds.

    The whole result is also kept in the shared cache until the end of the bucket, keyed by
    séance, bucket, the principal's row scope, language and filters: the first screen of a period
    renders, the others (any worker, any machine sharing the cache) read it back.
    """
    now = portal.data.clock()
    start = math.floor(now / refresh) * refresh
    key = _cache_key(portal, seance, principal, lang, refresh, start, overrides if seance.implicit else None)
    if key is not None:
        found, value = portal.data.cache.get(key)
        if found and isinstance(value, dict):
            try:
                return Rendered.from_json(value)
            except (KeyError, TypeError, ValueError):
                pass
    with time_bucket(refresh):
        rendered = _render(portal, seance, principal, lang, overrides)
    if key is not None and not any(slot.failed for slot in rendered.slots):
        portal.data.cache.set(key, rendered.to_json(), max(1.0, start + refresh - now))
    return rendered


def _cache_key(
    portal: Portal,
    seance: Seance,
    principal: Principal | None,
    lang: str,
    refresh: int,
    start: float,
    overrides: dict[str, str] | None,
) -> str | None:
    try:
        scope = territory_scope(principal, portal.territories)
    except Exception:  # noqa: BLE001 - no reference, no shared result: render for this screen
        return None
    rows = scope.value if scope is not None else "*"
    extra = urlencode(sorted((overrides or {}).items()))
    return f"seance:{seance.key}|{refresh}@{start:.0f}|{rows}|{lang}|{extra}"


def _render(
    portal: Portal,
    seance: Seance,
    principal: Principal | None,
    lang: str,
    overrides: dict[str, str] | None,
) -> Rendered:
    registry = portal.registry
    filters = [item_filters(portal, item, overrides if seance.implicit else None) for item in seance.spec.items]
    slots: list[SlotContent] = []
    for slot in seance.slots:
        territory, period = filters[slot.item]
        dashboard = registry.dashboards[slot.dashboard]
        widget = dashboard.widget(slot.widget)
        seen: list[Observation] = []
        content = portal.render_widget(dashboard, widget, territory, period, lang, principal=principal, observed=seen)
        body, figure = split(plain(content))
        slots.append(SlotContent(body=body, figure=projected(figure) if figure else None, observations=seen))
    return Rendered(slots=slots, at=portal.data.clock(), filters=filters)


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


def sources(portal: Portal, seance: Seance, slide: int) -> list[str]:
    """Producers of the data of one slide (« DREES, 2020 »), once each."""
    registry = portal.registry
    found: list[str] = []
    for slot in seance.slides[slide].slots:
        widget = registry.dashboards[slot.dashboard].widget(slot.widget)
        if isinstance(widget, DataWidgetBase) and widget.dataset in registry.datasets:
            config = registry.datasets[widget.dataset].config
            text = config.producer or config.title
            if config.simulated:
                text += " (données simulées)"
            found.append(text)
    return list(dict.fromkeys(found))


def stamp(portal: Portal, seance: Seance, rendered: Rendered, slide: int, lang: str) -> str:
    """« Données au 29/11/2026 à 10:42 — Sources : DREES, 2020 » for one slide."""
    seen = rendered.slide_observations(seance, slide)
    times = [o.refreshed_at for o in seen if o.refreshed_at is not None]
    parts = []
    if times:
        day, hour = format_moment(min(times), lang)
        parts.append(f"Données au {day} à {hour}" if lang == "fr" else f"Data as of {day} {hour}")
    names = sources(portal, seance, slide)
    if names:
        parts.append(("Sources : " if lang == "fr" else "Sources: ") + " ; ".join(names))
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


__all__ = ["render", "Rendered", "SlotContent", "canonical", "projected", "split", "stamp", "Slot"]
