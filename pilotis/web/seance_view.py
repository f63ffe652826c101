"""The séance pages: live view, snapshots (« instantanés »), their callbacks and routes.

Routes (served by the portal's router, in the shell's bare mode: no header, no navigation):

- ``/seance/<id>`` — a séance of `config/seances/`; ``/seance/d/<dashboard>`` — a dashboard
  presented alone (the « Présenter » button; ``?territoire=…&periode=…`` preset its filters);
  ``?rafraichissement=30s`` chooses the refresh period when starting;
- ``/seance/…/instantane/<snapshot>`` (or ``?snapshot=<id>``) — a frozen séance.

The page holds every slide at once; ``assets/seance.js`` shows one at a time (rotation, keyboard,
clicker, full screen, progress bar) without any server round trip. One server callback per séance
refreshes every slot on a ``dcc.Interval``: it sends only the slots whose content changed, a
figure as the ``figure`` of an existing ``dcc.Graph`` (redrawn in place: no flicker), and a
heartbeat the script watches to show a stale indicator when refreshes stop arriving.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import flask
from dash import Dash, Input, Output, State, dcc, html, no_update

from pilotis.accounts import snapshots
from pilotis.accounts.db import get_db
from pilotis.core.access import Principal, recorded_scope
from pilotis.core.data import time_bucket
from pilotis.core.i18n import t
from pilotis.core.seances import Seance, Slide, parse_refresh
from pilotis.core.widgets import seance_graph
from pilotis.ui import pages
from pilotis.ui.portal import Portal
from pilotis.ui.seance_render import (
    Rendered,
    clock_text,
    describe_filters,
    moment_text,
    render,
    stale_since,
    stamp,
    visible_slots,
)
from pilotis.ui.seance_texts import script_texts
from pilotis.web.context import current_lang
from pilotis.web.display_guard import guard as display_links_guard
from pilotis.web.enforce import audit, current_principal, denied_page, seance_allowed

MIN_TEXT_PX = 28
"""Smallest text of a séance page at 1920×1080 (declared here and in assets/seance.css)."""
KPI_TEXT_PX = 72
"""Smallest size of a KPI value on a séance page."""
OVERRIDES = ("territoire", "periode")
"""Query parameters of ``/seance/d/<dashboard>`` presetting its filters."""
REFRESH_PARAM = "rafraichissement"
SNAPSHOT_PARAMS = ("snapshot", "instantane")
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


def _attrs(values: dict[str, Any]) -> dict[str, Any]:
    """``aria-*`` / ``data-*`` props for ``**`` (typed for mypy)."""
    return values


def is_seance_path(path: str | None) -> bool:
    """True for the séance pages (``/seance/…``)."""
    return bool(path) and str(path).startswith("/seance/")


def bare_request() -> bool:
    """True when the page being built is a séance page (no header: full-screen projection).

    The shell is fetched by ``/_dash-layout`` from the page, whose address is the referrer
    (the portal sends ``Referrer-Policy: same-origin``); the index page itself also marks its
    ``<body>`` (see :func:`pilotis.web.wiring.install`), so nothing flashes even without a referrer.
    """
    if not flask.has_request_context():
        return False
    request = flask.request
    if is_seance_path(request.path):
        return True
    referrer = request.referrer
    return bool(referrer) and is_seance_path(urlsplit(referrer).path)


def _lang() -> str:
    portal = flask.current_app.extensions["pilotis"]
    return current_lang(portal.settings.lang)


def _yaml_lang(lang: str) -> str | None:
    """``lang="fr"`` on a title written in YAML (French) inside a page shown in another language."""
    return "fr" if lang != "fr" else None


def _params(search: str | None) -> dict[str, str]:
    values = parse_qs((search or "").lstrip("?"))
    return {key: items[0] for key, items in values.items() if items}


# --------------------------------------------------------------------------- routing


def route(portal: Portal, pathname: str, lang: str) -> tuple[Any, str]:
    """The router's answer for ``pathname`` when it is a séance page, or when the visitor is a
    wall screen (display link): its séance only, every other page is refused."""
    principal = current_principal()
    registry = portal.registry
    title = registry.portal.title
    denied = (
        pages.denied(lang),
        f"{t('denied', lang)} — {title}",
    )
    found = registry.seance_by_path(pathname) if is_seance_path(pathname) else None
    if principal is not None and principal.seance is not None:
        if found is None or found[0].key != principal.seance:
            audit(
                "access_denied",
                principal,
                f"page {pathname[:200]}",
                "lien d'affichage hors de sa séance",
            )
            return denied
    if found is None:
        if not is_seance_path(pathname):
            return denied
        return pages.not_found(lang), f"{t('not_found', lang)} — {title}"
    seance, snapshot_id = found
    if not seance_allowed(principal, registry, seance):
        audit("access_denied", principal, f"page {pathname[:200]}", f"séance {seance.key}")
        return denied
    if snapshot_id is None:
        audit("page_view", principal, f"page {pathname[:200]}", f"séance {seance.key}")
        return live_page(portal, seance, lang, principal), f"{seance.spec.title} — {t('seance', lang)} — {title}"
    snapshot = snapshots.load(get_db(), snapshot_id)
    if snapshot is None or snapshot.seance != seance.key:
        return pages.not_found(lang), f"{t('not_found', lang)} — {title}"
    reason = snapshots.refusal(principal, registry, portal.territories, snapshot)
    if reason is not None:
        audit("access_denied", principal, f"page {pathname[:200]}", f"instantané {snapshot.id} : {reason}")
        return denied
    audit("page_view", principal, f"page {pathname[:200]}", f"instantané {snapshot.id}")
    return snapshot_page(
        portal, seance, snapshot, lang, principal
    ), f"{seance.spec.title} — {t('seance_snapshot_of', lang, when=moment_text(snapshot.timestamp, lang))} — {title}"


# --------------------------------------------------------------------------- layout


def _exit_url(seance: Seance, principal: Principal | None, portal: Portal) -> str:
    if principal is not None and principal.seance is not None:
        return ""  # a wall screen has nowhere else to go
    if seance.implicit:
        dashboard = portal.registry.dashboards.get(seance.key[1:])
        return dashboard.spec.url if dashboard else "/"
    return "/"


def _button(icon: str, label: str, action: str, text: str = "", **extra: Any) -> html.Button:
    children: list[Any] = [html.I(className=f"bi bi-{icon}", **_attrs({"aria-hidden": "true"}))]
    if text:
        children.append(html.Span(text, className="ms-2"))
    return html.Button(
        children,
        type="button",
        className="pilotis-seance-button",
        title=label,
        **_attrs({"aria-label": label, "data-action": action}),
        **extra,
    )


def _head(portal: Portal, title: str, status: Any, lang: str) -> html.Header:
    collectivite = portal.registry.portal.collectivite
    brand: list[Any] = []
    if collectivite.logo:
        brand.append(
            html.Img(
                src=f"/assets/{collectivite.logo}",
                alt=collectivite.nom,
                className="pilotis-seance-logo",
            )
        )
    else:
        brand.append(html.Span(collectivite.nom, className="pilotis-seance-collectivite"))
    return html.Header(
        [
            html.Div(brand, className="pilotis-seance-brand"),
            html.H1(title, className="pilotis-seance-title", lang=_yaml_lang(lang)),
            status,
        ],
        className="pilotis-seance-head",
    )


def _foot(seance: Seance, slides: int, lang: str, *, frozen: bool, exit_url: str, can_freeze: bool) -> html.Footer:
    controls = [
        _button("chevron-left", t("seance_previous", lang), "prev"),
        _button("pause-fill", t("seance_pause", lang), "pause"),
        _button("chevron-right", t("seance_next", lang), "next"),
        _button("arrows-fullscreen", t("seance_fullscreen", lang), "fullscreen"),
    ]
    if can_freeze:
        controls.append(
            html.Button(
                [
                    html.I(className="bi bi-snow", **_attrs({"aria-hidden": "true"})),
                    html.Span(t("seance_freeze", lang), className="ms-2"),
                ],
                id=seance.dom_id("freeze"),
                type="button",
                className="pilotis-seance-button",
                title=t("seance_freeze_title", lang),
            )
        )
    if exit_url:
        controls.append(_button("box-arrow-left", t("seance_leave", lang), "leave", t("seance_leave_short", lang)))
    segments = [
        html.Div(html.Div(className="pilotis-seance-fill"), className="pilotis-seance-segment") for _ in range(slides)
    ]
    children: list[Any] = [
        html.Div(
            controls,
            className="pilotis-seance-controls",
            role="toolbar",
            **_attrs({"aria-label": t("seance_controls", lang)}),
        ),
        html.Span(f"1 / {slides}", className="pilotis-seance-counter"),
        html.Span(t("seance_paused_badge", lang), className="pilotis-seance-paused", hidden=True),
    ]
    if can_freeze:
        children.append(html.Div(id=seance.dom_id("frozen"), className="pilotis-seance-frozen", role="status"))
    children.append(html.Div(segments, className="pilotis-seance-progress", **_attrs({"aria-hidden": "true"})))
    return html.Footer(children, className="pilotis-seance-foot" + (" is-snapshot" if frozen else ""))


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
        "config": {
            "locale": "fr",
            "displaylogo": False,
            "displayModeBar": False,
            "responsive": True,
            "showSendToCloud": False,
            "topojsonURL": "/assets/vendor/plotly-topojson/",
        },
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
        children.append(html.H3(title, className="pilotis-seance-widget-title", lang=_yaml_lang(lang)))
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
                    html.H2(title, className="pilotis-seance-slide-title", lang=_yaml_lang(lang)),
                    html.P(subtitle, className="pilotis-seance-subtitle", **sub_props),
                ],
                className="pilotis-seance-slide-head",
            ),
            html.Div(widgets, className="pilotis-seance-row"),
            html.P(stamp_text, className="pilotis-seance-stamp", **stamp_props),
        ],
        className="pilotis-seance-slide" + (" is-current" if index == 0 else ""),
        **_attrs(
            {
                "data-duration": str(duration),
                "aria-roledescription": t("seance_slide", lang),
                "aria-label": t("seance_slide_label", lang, number=index + 1, total=total, title=title),
                "data-title": title,
            }
        ),
    )


def _item_title(portal: Portal, seance: Seance, item: int) -> str:
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
                _item_title(portal, seance, slide.item),
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
    exit_url = _exit_url(seance, principal, portal)
    can_freeze = principal is not None and principal.seance is None
    return html.Div(
        [
            _head(portal, seance.spec.title, status, lang),
            html.Div(slides, className="pilotis-seance-slides"),
            _withheld(seance, visible, shown),
            _foot(seance, total, lang, frozen=False, exit_url=exit_url, can_freeze=can_freeze),
            html.Div(
                className="pilotis-seance-announce visually-hidden",
                **_attrs({"aria-live": "polite"}),
            ),
            dcc.Interval(id=seance.dom_id("tick"), interval=seance.refresh * 1000),
            dcc.Store(id=seance.dom_id("hashes"), data={}),
        ],
        id=seance.dom_id("root"),
        className="pilotis-seance",
        **_attrs(
            {
                "data-exit": exit_url,
                "data-seance": seance.key,
                "data-mode": "live",
                "data-refresh": str(seance.refresh),
                **script_texts(lang),
            }
        ),
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
    return html.Div(children, className="pilotis-seance-withheld", hidden=True, **_attrs({"aria-hidden": "true"}))


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
    exit_url = _exit_url(seance, principal, portal)
    return html.Div(
        [
            _head(portal, content.get("title") or seance.spec.title, status, lang),
            banner,
            html.Div(slides, className="pilotis-seance-slides"),
            _foot(seance, total, lang, frozen=True, exit_url=exit_url, can_freeze=False),
            html.Div(
                className="pilotis-seance-announce visually-hidden",
                **_attrs({"aria-live": "polite"}),
            ),
        ],
        id=seance.dom_id("snapshot"),
        className="pilotis-seance is-snapshot",
        **_attrs(
            {
                "data-exit": exit_url,
                "data-seance": seance.key,
                "data-mode": "snapshot",
                "data-snapshot": snapshot.id,
                "data-sha256": snapshot.sha256,
                **script_texts(lang),
            }
        ),
    )


# --------------------------------------------------------------------------- callbacks


def _status(rendered: Rendered, lang: str) -> tuple[str, str]:
    since = stale_since(rendered, lang)
    if since is None:
        return t("seance_refreshed_at", lang, time=clock_text(rendered.at)), "pilotis-seance-status is-fresh"
    if since:
        return t("seance_stale_since", lang, since=since), "pilotis-seance-status is-stale"
    return t("seance_stale_unknown", lang), "pilotis-seance-status is-stale"


def snapshot_content(
    portal: Portal, seance: Seance, rendered: Rendered, lang: str, principal: Principal | None
) -> dict[str, Any]:
    """What a snapshot stores: the slides as shown (titles, filters, stamps, bodies, figures)."""
    registry = portal.registry
    subtitles = [
        describe_filters(portal, item, *rendered.filters[i], principal, lang)
        for i, item in enumerate(seance.spec.items)
    ]
    slides = []
    for slide in seance.slides:
        slots = []
        for slot in slide.slots:
            if slot.index not in rendered.visible:  # what this viewer was not shown is not kept
                continue
            widget = registry.dashboards[slot.dashboard].widget(slot.widget)
            content = rendered.slots[slot.index]
            slots.append(
                {
                    "dashboard": slot.dashboard,
                    "widget": slot.widget,
                    "title": widget.title,
                    "type": widget.type,
                    "width": slot.width,
                    "body": content.body,
                    "figure": content.figure,
                }
            )
        if not slots:
            continue
        slides.append(
            {
                "title": _item_title(portal, seance, slide.item),
                "subtitle": subtitles[slide.item],
                "stamp": stamp(portal, seance, rendered, slide.index, lang),
                "duration": slide.duration,
                "slots": slots,
            }
        )
    return {
        "seance": seance.key,
        "title": seance.spec.title,
        "rendered_at": rendered.at,
        "filters": [list(f) for f in rendered.filters],
        "slides": slides,
    }


def _install_seance(app: Dash, portal: Portal, seance: Seance) -> None:
    registry = portal.registry
    slots, slides = seance.slots, seance.slides
    outputs = []
    for slot in slots:
        outputs += [
            Output(seance.dom_id(f"s{slot.index}-body"), "children"),
            Output(seance.dom_id(f"s{slot.index}-figure"), "hidden"),
            Output(seance.dom_id(f"s{slot.index}-graph"), "figure"),
        ]
    for slide in slides:
        outputs += [
            Output(seance.dom_id(f"stamp-{slide.index}"), "children"),
            Output(seance.dom_id(f"sub-{slide.index}"), "children"),
        ]
    outputs += [
        Output(seance.dom_id("status"), "children"),
        Output(seance.dom_id("status"), "className"),
        Output(seance.dom_id("beat"), "children"),
        Output(seance.dom_id("hashes"), "data"),
        Output(seance.dom_id("tick"), "interval"),
    ]

    def allowed() -> Principal | None:
        principal = current_principal()
        if not seance_allowed(principal, registry, seance):  # also refused by enforce.guard_dash
            flask.abort(403)
        return principal

    @app.callback(
        *outputs,
        Input(seance.dom_id("tick"), "n_intervals"),
        Input("url", "search"),
        State(seance.dom_id("hashes"), "data"),
    )
    def refresh(_ticks: int | None, search: str | None, hashes: dict[str, str] | None) -> list[Any]:
        principal = allowed()
        lang = _lang()
        params = _params(search)
        period = parse_refresh(params.get(REFRESH_PARAM), seance.refresh)
        overrides = {k: params[k] for k in OVERRIDES if params.get(k)}
        rendered = render(portal, seance, principal, lang, period, overrides)
        known = dict(hashes or {})
        values: list[Any] = []
        for slot, content in zip(slots, rendered.slots, strict=True):
            key = str(slot.index)
            if slot.index not in rendered.visible:  # not for this viewer: never sent
                values += [no_update, no_update, no_update]
                continue
            digest = content.digest()
            if (content.failed and key in known) or known.get(key) == digest:
                values += [no_update, no_update, no_update]  # the screen keeps what it shows
                continue
            known[key] = digest
            values += [content.body, content.figure is None, content.figure or no_update]
        with time_bucket(period):
            subtitles = [
                describe_filters(portal, item, *rendered.filters[i], principal, lang)
                for i, item in enumerate(seance.spec.items)
            ]
        for slide in slides:
            if not any(slot.index in rendered.visible for slot in slide.slots):
                values += [no_update, no_update]
                continue
            values += [stamp(portal, seance, rendered, slide.index, lang), subtitles[slide.item]]
        text, classes = _status(rendered, lang)
        values += [text, classes, str(time.time_ns()), known, period * 1000]
        return values

    refresh.__name__ = f"seance_refresh_{seance.key.replace('@', 'd_').replace('-', '_')}"

    @app.callback(
        Output(seance.dom_id("frozen"), "children"),
        Input(seance.dom_id("freeze"), "n_clicks"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def freeze(_clicks: int | None, search: str | None) -> Any:
        principal = allowed()
        lang = _lang()
        if principal is None or principal.seance is not None:
            return t("seance_display_cannot_freeze", lang)
        params = _params(search)
        period = parse_refresh(params.get(REFRESH_PARAM), seance.refresh)
        overrides = {k: params[k] for k in OVERRIDES if params.get(k)}
        rendered = render(portal, seance, principal, lang, period, overrides)
        with time_bucket(period):
            content = snapshot_content(portal, seance, rendered, lang, principal)
        scope = recorded_scope(principal, portal.territories)
        snapshot = snapshots.save(get_db(), seance.key, seance.dashboards, principal.username, content, scope)
        url = f"{seance.url}/instantane/{snapshot.id}"
        audit("seance_snapshot", principal, url, f"empreinte sha256 {snapshot.sha256}")
        return [
            html.A(
                t("seance_snapshot_of", lang, when=moment_text(snapshot.timestamp, lang)),
                href=url,
                target="_blank",
                rel="noopener",
                className="pilotis-seance-snapshot-link",
            ),
            html.Span(t("seance_hash_short", lang, hash=snapshot.sha256[:12]), className="pilotis-seance-hash"),
        ]

    freeze.__name__ = f"seance_freeze_{seance.key.replace('@', 'd_').replace('-', '_')}"


def install(app: Dash, portal: Portal) -> None:
    """Register the callbacks of every séance (declared, and each dashboard's implicit one), and
    the request hooks: display links confined to their séance, ``?snapshot=`` addresses."""
    registry = portal.registry
    keys = list(registry.seances) + [f"@{d.id}" for d in registry.ordered()]
    for key in keys:
        seance = registry.seance(key)
        if seance is not None:
            _install_seance(app, portal, seance)
    server = app.server

    @server.before_request
    def display_guard() -> Any:
        return display_links_guard(portal)

    @server.before_request
    def snapshot_address() -> Any:
        request = flask.request
        if request.method != "GET" or not is_seance_path(request.path):
            return None
        wanted = next((request.args[p] for p in SNAPSHOT_PARAMS if request.args.get(p)), None)
        found = registry.seance_by_path(request.path) if wanted else None
        if found is None or found[1] is not None:
            return None
        return flask.redirect(f"{found[0].url}/instantane/{quote(wanted or '', safe='')}", code=302)

    @server.before_request
    def snapshot_guard() -> Any:
        return _guard_snapshot(portal)


def _guard_snapshot(portal: Portal) -> Any:
    """``GET /seance/…/instantane/<id>``: 403 (audited) when the visitor may watch the séance
    but not this snapshot (:func:`pilotis.snapshots.refusal`: widgets, rows); the signed-out and
    those refused the séance itself are answered by ``pilotis.enforce``; the router callback
    asks the same question (:func:`route`)."""
    request = flask.request
    if request.method != "GET" or not is_seance_path(request.path):
        return None
    found = portal.registry.seance_by_path(request.path)
    principal = current_principal()
    if found is None or found[1] is None or principal is None:
        return None
    if not seance_allowed(principal, portal.registry, found[0]):
        return None  # refused (and audited) by enforce's page guard
    snapshot = snapshots.load(get_db(), found[1])
    if snapshot is None or snapshot.seance != found[0].key:
        return None  # 404
    reason = snapshots.refusal(principal, portal.registry, portal.territories, snapshot)
    if reason is None:
        return None
    audit("access_denied", principal, f"page {request.path[:200]}", f"instantané {snapshot.id} : {reason}")
    return denied_page(portal)


def page_known(portal: Portal, path: str) -> bool:
    """True for an existing séance page (live or snapshot address)."""
    found = portal.registry.seance_by_path(path) if is_seance_path(path) else None
    if found is None:
        return False
    return found[1] is None or snapshots.load(get_db(), found[1]) is not None
