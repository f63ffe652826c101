"""The words of a séance page: sources and update time of a slide (« stamp »), staleness,
moments and the clock, in French or English; the texts assets/seance.js writes or says."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from pilotis.core.formatting import format_date
from pilotis.core.freshness import PARIS, format_moment
from pilotis.core.i18n import t
from pilotis.core.schema import DataWidgetBase
from pilotis.core.seances import Seance
from pilotis.ui.portal import Portal
from pilotis.ui.seance_render import Rendered


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


_SCRIPT_TEXTS = {
    "slide": ("seance_slide_announce", {"number": "{number}", "total": "{total}", "title": "{title}"}),
    "pause": ("seance_pause", {}),
    "resume": ("seance_resume", {}),
    "paused": ("seance_rotation_paused", {}),
    "resumed": ("seance_rotation_resumed", {}),
    "hidden-one": ("seance_hidden_one", {"count": "{count}"}),
    "hidden-many": ("seance_hidden_many", {"count": "{count}"}),
    "see-card": ("seance_see_card", {}),
    "see-dashboard": ("seance_see_dashboard", {}),
    "late": ("seance_late", {}),
    "late-since": ("seance_late_since", {"time": "{time}"}),
}


def script_texts(lang: str) -> dict[str, Any]:
    """The texts seance.js writes or says (slide announcements, pause button, « 2 éléments
    masqués », late data) as ``data-text-<name>`` attributes of the séance's root, in ``lang``,
    ``{placeholders}`` kept: the script holds no text of its own."""
    return {f"data-text-{name}": t(key, lang, **values) for name, (key, values) in _SCRIPT_TEXTS.items()}
