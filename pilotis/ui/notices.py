"""What a widget says about its data's freshness: « mis à jour le … » under the content, and
« données non actualisées depuis … » above it when a source failed and the last good data is shown.
"""

from __future__ import annotations

from typing import Any

from dash import html

from pilotis.core.freshness import Observation, format_moment
from pilotis.core.i18n import t
from pilotis.core.registry import Registry
from pilotis.ui.components import notice


def with_freshness(content: Any, seen: list[Observation], registry: Registry, lang: str) -> Any:
    """``content`` framed by the freshness of the data it was computed from.

    Several queries may feed one widget: the oldest refresh time is shown, and one notice per
    stale dataset. Without any observation (a static widget), ``content`` is returned unchanged.
    """
    if not seen:
        return content
    notices = []
    for dataset in dict.fromkeys(o.dataset for o in seen if o.stale and o.refreshed_at):
        stale = [o for o in seen if o.dataset == dataset and o.stale and o.refreshed_at]
        oldest = min(o.refreshed_at for o in stale if o.refreshed_at is not None)
        day, time = format_moment(oldest, lang)
        title = registry.datasets[dataset].config.title if dataset in registry.datasets else dataset
        notices.append(
            notice(
                t("stale_since", lang, date=day, time=time, source=title, reason=stale[0].message),
                "warning",
            )
        )
    times = [o.refreshed_at for o in seen if o.refreshed_at is not None]
    children = [*notices, *(content if isinstance(content, list) else [content])]
    if times:
        day, time = format_moment(min(times), lang)
        children.append(
            html.P(
                t("updated_at", lang, date=day, time=time),
                className="pilotis-freshness small text-muted mb-0 mt-1",
            )
        )
    return html.Div(children, className="pilotis-widget-data")
