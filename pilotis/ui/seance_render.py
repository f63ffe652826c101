"""What a séance shows: each widget rendered like on its dashboard, reshaped for a projector.

:func:`render` renders every slot of a séance for one principal, within the séance's time bucket
(:func:`pilotis.core.data.time_bucket`: all screens and workers share one query per period), and
returns plain JSON: the widget's content without its graph (``body``) and the graph's figure
restyled for a room (``figure``: large fonts, black text, size taken from the screen). The live
view sends these to existing components (``figure`` of a ``dcc.Graph``: Plotly.react redraws in
place, no flicker); a snapshot stores exactly the same JSON.

What a viewer may see of a séance is decided per slot (:mod:`pilotis.ui.seance_scope`, through
:func:`pilotis.core.access.widget_indicators_visible`): on a synthesis dashboard a manager sees his
direction's indicators only. A slot he may not see is not rendered, not cached for him, not sent,
and the page does not name it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from dash._utils import to_json

from pilotis.core.access import Principal, territory_scope
from pilotis.core.canonical import canonical
from pilotis.core.data import time_bucket
from pilotis.core.freshness import Observation
from pilotis.core.seances import Seance, Slot
from pilotis.core.secrecy import exemptions
from pilotis.ui.portal import Portal
from pilotis.ui.seance_scope import audience, clean_overrides, item_filters, visible_slots

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
    # `exact`: the datasets whose small counts this viewer may see unmasked (statistical secrecy,
    # an exempt role): a viewer who sees « < 5 » never gets a rendering made for one who does not.
    exact = exemptions(portal.registry.datasets, principal)
    return f"seance:{seance.key}|{refresh}@{start:.0f}|{rows}|{viewer}|{lang}|{extra}|{exact}"


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


__all__ = [
    "render",
    "Rendered",
    "SlotContent",
    "canonical",
    "projected",
    "split",
    "Slot",
    "visible_slots",
    "audience",
    "clean_overrides",
]
