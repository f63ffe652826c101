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
from dash import Dash, Input, Output, State, html, no_update

from pilotis.accounts import snapshots
from pilotis.accounts.db import get_db
from pilotis.core.access import Principal, recorded_scope
from pilotis.core.data import time_bucket
from pilotis.core.i18n import t
from pilotis.core.seances import Seance, parse_refresh
from pilotis.core.secrecy import exact_datasets
from pilotis.ui import pages
from pilotis.ui.portal import Portal
from pilotis.ui.seance_render import Rendered, render
from pilotis.ui.seance_scope import describe_filters
from pilotis.ui.seance_text import clock_text, moment_text, stale_since, stamp
from pilotis.web.context import current_lang
from pilotis.web.display_guard import guard as display_links_guard
from pilotis.web.enforce import audit, current_principal, denied_page, seance_allowed
from pilotis.web.seance_pages import item_title, live_page, snapshot_page

OVERRIDES = ("territoire", "periode")
"""Query parameters of ``/seance/d/<dashboard>`` presetting its filters."""
REFRESH_PARAM = "rafraichissement"
SNAPSHOT_PARAMS = ("snapshot", "instantane")


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
                "title": item_title(portal, seance, slide.item),
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
        exact = exact_datasets(portal.registry, seance.dashboards, principal)
        if exact:  # exact small counts (an exempt role): only those exempt too may open it
            content["exact_counts"] = exact
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
    but not this snapshot (:func:`pilotis.accounts.snapshots.refusal`: widgets, rows); the signed-out and
    those refused the séance itself are answered by ``pilotis.web.enforce``; the router callback
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
    if found[1] is None:
        return True
    snapshot = snapshots.load(get_db(), found[1])
    return snapshot is not None and snapshot.seance == found[0].key  # a snapshot lives at its séance's address only
