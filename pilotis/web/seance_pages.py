"""The séance pages as Dash components: the live page (every slide at once, see
:mod:`pilotis.web.seance_view`), a frozen snapshot's page, and their header, footer and slides.

On the web floor rather than ``pilotis/ui``: a snapshot page shows the short id of its
snapshot (:mod:`pilotis.accounts.snapshots`). What the request says (principal, language) is
passed in.
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from pilotis.accounts import snapshots
from pilotis.core.access import Principal
from pilotis.core.i18n import t
from pilotis.core.seances import Seance, Slide
from pilotis.core.widgets import seance_graph
from pilotis.ui.components import aria, data_attributes, graph_config
from pilotis.ui.portal import Portal
from pilotis.ui.seance_scope import visible_slots
from pilotis.ui.seance_text import moment_text, script_texts
from pilotis.web.seance_controls import exit_url_of, seance_foot, seance_head, yaml_lang

MIN_TEXT_PX = 28
"""Smallest text of a séance page at 1920×1080 (declared here and in assets/seance.css)."""
KPI_TEXT_PX = 72
"""Smallest size of a KPI value on a séance page."""
EMPTY_FIGURE: dict[str, Any] = {
    "data": [],
    "layout": {
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "autosize": True,
    },
}


def _slot_view(
    portal: Portal,
    seance: Seance,
    slot: Any,
    *,
    live: bool,
    body: Any = None,
    figure: dict[str, Any] | None = None,
    title: str | None = None,
    kind: str | None = None,
    lang: str = "fr",
) -> html.Section:
    widget = None
    dashboard = portal.registry.dashboards.get(slot["dashboard"] if isinstance(slot, dict) else slot.dashboard)
    if dashboard is not None and not isinstance(slot, dict):
        widget = dashboard.widget(slot.widget)
    kind = kind or (widget.type if widget is not None else "widget")
    title = title if title is not None else (widget.title if widget is not None else "")
    width = slot["width"] if isinstance(slot, dict) else slot.width
    label = t("seance_chart_named", lang, title=title) if title else t("seance_chart", lang)
    graph_props: dict[str, Any] = {
        "figure": figure or EMPTY_FIGURE,
        "config": graph_config(lang),  # the page's locale: English months on an English séance
        "style": {"height": "100%", "width": "100%"},
        "responsive": True,
    }
    body_props: dict[str, Any] = {"className": "pilotis-seance-body"}
    figure_props: dict[str, Any] = {
        "className": "pilotis-seance-figure",
        "role": "figure",
        "aria-label": label,
    }
    if live:
        index = slot.index
        graph_props["id"] = seance.dom_id(f"s{index}-graph")
        body_props["id"] = seance.dom_id(f"s{index}-body")
        figure_props["id"] = seance.dom_id(f"s{index}-figure")
        figure_props["hidden"] = not seance_graph(kind)  # the type says (``WidgetType.graph``)
    else:
        figure_props["hidden"] = figure is None
    children: list[Any] = []
    if title:
        children.append(html.H3(title, className="pilotis-seance-widget-title", lang=yaml_lang(lang)))
    children.append(html.Div(body if body is not None else [], **body_props))
    children.append(html.Div(dcc.Graph(**graph_props), **figure_props))
    return html.Section(
        children,
        className=f"pilotis-seance-widget pilotis-seance-{kind}",
        style={"flex": f"{width} 1 0"},
    )


def _slide(
    index: int,
    total: int,
    title: str,
    duration: int,
    widgets: list[Any],
    *,
    subtitle: Any,
    stamp_text: Any,
    ids: tuple[str | None, str | None],
    lang: str = "fr",
) -> html.Section:
    sub_props: dict[str, Any] = {"id": ids[0]} if ids[0] else {}
    stamp_props: dict[str, Any] = {"id": ids[1]} if ids[1] else {}
    return html.Section(
        [
            html.Div(
                [
                    html.H2(title, className="pilotis-seance-slide-title", lang=yaml_lang(lang)),
                    html.P(subtitle, className="pilotis-seance-subtitle", **sub_props),
                ],
                className="pilotis-seance-slide-head",
            ),
            html.Div(widgets, className="pilotis-seance-row"),
            html.P(stamp_text, className="pilotis-seance-stamp", **stamp_props),
        ],
        className="pilotis-seance-slide" + (" is-current" if index == 0 else ""),
        **data_attributes(duration=str(duration), title=title),
        **aria(
            roledescription=t("seance_slide", lang),
            label=t("seance_slide_label", lang, number=index + 1, total=total, title=title),
        ),
    )


def item_title(portal: Portal, seance: Seance, item: int) -> str:
    spec = seance.spec.items[item]
    return spec.title or portal.registry.dashboards[spec.dashboard].spec.title


def live_page(portal: Portal, seance: Seance, lang: str, principal: Principal | None) -> html.Div:
    """The live séance: every slide the viewer may see (filled by the refresh callback),
    controls, progress. A slot the viewer may not see (:func:`visible_slots`) is not in the
    slides: only its empty, unnamed callback targets are, in a hidden block; a slide left
    without any slot is not shown."""
    visible = visible_slots(portal, seance, principal)
    shown = [slide for slide in seance.slides if any(slot.index in visible for slot in slide.slots)]
    total = max(1, len(shown))
    slides = []
    for position, slide in enumerate(shown):
        widgets = [
            _slot_view(portal, seance, slot, live=True, lang=lang) for slot in slide.slots if slot.index in visible
        ]
        slides.append(
            _slide(
                position,
                total,
                item_title(portal, seance, slide.item),
                slide.duration,
                widgets,
                subtitle="",
                stamp_text="",
                ids=(seance.dom_id(f"sub-{slide.index}"), seance.dom_id(f"stamp-{slide.index}")),
                lang=lang,
            )
        )
    if not shown:  # nothing of this séance is for this viewer (a direction without indicators)
        notice = html.P(t("out_of_scope", lang), className="pilotis-seance-empty")
        slides.append(
            _slide(
                0,
                1,
                seance.spec.title,
                seance.refresh,
                [notice],
                subtitle="",
                stamp_text="",
                ids=(None, None),
                lang=lang,
            )
        )
    status = html.Div(
        [
            html.Span(t("seance_connecting", lang), id=seance.dom_id("status"), className="pilotis-seance-status"),
            html.Span(id=seance.dom_id("beat"), className="pilotis-seance-beat", hidden=True),
        ],
        className="pilotis-seance-live",
        role="status",
    )
    exit_url = exit_url_of(seance, principal, portal)
    can_freeze = principal is not None and principal.seance is None
    return html.Div(
        [
            seance_head(portal, seance.spec.title, status, lang),
            html.Div(slides, className="pilotis-seance-slides"),
            _withheld(seance, visible, shown),
            seance_foot(seance, total, lang, frozen=False, exit_url=exit_url, can_freeze=can_freeze),
            html.Div(
                className="pilotis-seance-announce visually-hidden",
                **aria(live="polite"),
            ),
            dcc.Interval(id=seance.dom_id("tick"), interval=seance.refresh * 1000),
            dcc.Store(id=seance.dom_id("hashes"), data={}),
        ],
        id=seance.dom_id("root"),
        className="pilotis-seance",
        **data_attributes(exit=exit_url, seance=seance.key, mode="live", refresh=str(seance.refresh)),
        **script_texts(lang),
    )


def _withheld(seance: Seance, visible: frozenset[int], shown: list[Slide]) -> html.Div:
    """Hidden, empty and unnamed targets of the refresh callback (one callback serves every
    viewer of the séance) for the slots and slides this viewer does not see; the callback never
    fills them (``no_update``)."""
    children: list[Any] = []
    for slot in seance.slots:
        if slot.index not in visible:
            children += [
                html.Div(id=seance.dom_id(f"s{slot.index}-body")),
                html.Div(
                    dcc.Graph(id=seance.dom_id(f"s{slot.index}-graph"), figure=EMPTY_FIGURE),
                    id=seance.dom_id(f"s{slot.index}-figure"),
                    hidden=True,
                ),
            ]
    for slide in seance.slides:
        if slide not in shown:
            children += [
                html.P(id=seance.dom_id(f"sub-{slide.index}")),
                html.P(id=seance.dom_id(f"stamp-{slide.index}")),
            ]
    return html.Div(children, className="pilotis-seance-withheld", hidden=True, **aria(hidden="true"))


def snapshot_page(
    portal: Portal,
    seance: Seance,
    snapshot: snapshots.Snapshot,
    lang: str,
    principal: Principal | None,
) -> html.Div:
    """A frozen séance, rendered from its stored JSON only (never from the data sources)."""
    content = snapshot.content
    stored = content.get("slides", [])
    total = len(stored)
    slides = []
    for index, slide in enumerate(stored):
        widgets = [
            _slot_view(
                portal,
                seance,
                slot,
                live=False,
                body=slot.get("body"),
                figure=slot.get("figure"),
                title=slot.get("title", ""),
                kind=slot.get("type"),
                lang=lang,
            )
            for slot in slide.get("slots", [])
        ]
        slides.append(
            _slide(
                index,
                total,
                slide.get("title", ""),
                int(slide.get("duration", 30)),
                widgets,
                subtitle=slide.get("subtitle", ""),
                stamp_text=slide.get("stamp", ""),
                ids=(None, None),
                lang=lang,
            )
        )
    when = moment_text(snapshot.timestamp, lang)
    intact = snapshot.intact()
    banner = html.Div(
        [
            html.Strong(t("seance_snapshot_of", lang, when=when)),
            html.Span(t("seance_frozen_by", lang, author=snapshot.author) if snapshot.author else ""),
            html.Span(t("seance_frozen_intact" if intact else "seance_frozen_broken", lang)),
            html.Br(),
            html.Span(t("seance_hash_label", lang), className="pilotis-seance-hash-label"),
            html.Code(snapshots.short(snapshot.sha256), className="pilotis-seance-hash"),
        ],
        className="pilotis-seance-snapshot" + ("" if intact else " is-broken"),
        role="note",
    )
    status = html.Div(
        html.Span(t("seance_snapshot_of", lang, when=when), className="pilotis-seance-status is-frozen"),
        className="pilotis-seance-live",
    )
    exit_url = exit_url_of(seance, principal, portal)
    return html.Div(
        [
            seance_head(portal, content.get("title") or seance.spec.title, status, lang),
            banner,
            html.Div(slides, className="pilotis-seance-slides"),
            seance_foot(seance, total, lang, frozen=True, exit_url=exit_url, can_freeze=False),
            html.Div(
                className="pilotis-seance-announce visually-hidden",
                **aria(live="polite"),
            ),
        ],
        id=seance.dom_id("snapshot"),
        className="pilotis-seance is-snapshot",
        **data_attributes(
            exit=exit_url, seance=seance.key, mode="snapshot", snapshot=snapshot.id, sha256=snapshot.sha256
        ),
        **script_texts(lang),
    )
