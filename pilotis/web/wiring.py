"""Wiring of the Dash app: index page, routing, widget callbacks, language switch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flask
from dash import Dash, Input, Output, callback_context, html, no_update
from werkzeug.wrappers import Response as WerkzeugResponse

from pilotis.core.access import Principal, can_view, can_view_widget, territory_scope
from pilotis.core.i18n import LANGUAGES, t
from pilotis.core.registry import Dashboard
from pilotis.core.widgets import WIDGET_TYPES
from pilotis.ui import pages
from pilotis.ui.portal import Portal
from pilotis.ui.referent_links import referent_line
from pilotis.web import data_catalogue, dataset_page, first_paint, indicator_pages, seance_view
from pilotis.web.access_links import request_link
from pilotis.web.account import account_menu
from pilotis.web.context import current_lang
from pilotis.web.enforce import audit, current_principal
from pilotis.web.referent_state import departed_accounts

INDEX = """<!DOCTYPE html>
<html lang="{lang}">
<head>
{%metas%}
<title>{%title%}</title>
{%favicon%}
{%css%}
</head>
<body>
<noscript>{noscript}</noscript>
{%app_entry%}
{%config%}
{%scripts%}
{%renderer%}
</body>
</html>"""


def visible_dashboards(portal: Portal) -> list[Dashboard]:
    """Dashboards the current user may open, in navigation order (``access.can_view``)."""
    principal = current_principal()
    return [d for d in portal.registry.ordered() if can_view(principal, d.spec)]


def install(app: Dash, portal: Portal) -> None:
    """Register the layout, the router and every widget callback on ``app``."""
    default = portal.settings.lang

    assets = Path(app.config.assets_folder)
    plotly_meta = first_paint.plotly_meta(assets)

    def interpolate_index(**kwargs: str) -> str:
        lang = current_lang(default)
        kwargs["scripts"] = first_paint.deferred(kwargs["scripts"])  # requested once the HTML is painted
        kwargs["metas"] += plotly_meta  # plotly.js, loaded when a chart comes into view
        page = Dash.interpolate_index(app, **kwargs).replace("{lang}", lang, 1)
        page = page.replace("{noscript}", t("noscript", lang), 1)
        if seance_view.bare_request():  # séance: no header from the first paint (assets/seance.css)
            return page.replace("<body>", '<body class="pilotis-bare">', 1)
        copy = static_copy(lang)  # the page as HTML until React has drawn it (pilotis/web/first_paint.py)
        if copy:
            page = page.replace("<body>", f'<body class="{first_paint.BODY_CLASS}">', 1)
            page = page.replace('<div id="react-entry-point">', copy + '<div id="react-entry-point">', 1)
        return page

    def static_copy(lang: str) -> str | None:
        """The home page or a dashboard the user may see, as static HTML; None for other pages."""
        path = flask.request.path
        principal = current_principal()
        if principal is None or principal.seance:
            return None
        dashboards = visible_dashboards(portal)
        if path == "/":
            content = pages.home(portal, dashboards, lang)
        else:
            dashboard = portal.registry.by_path(path)
            if dashboard is None or not can_view(principal, dashboard.spec):
                return None
            content = dashboard_page(portal, dashboard, principal, lang)
        shell = pages.shell(portal, dashboards, lang, account=account_menu(lang))
        return first_paint.document(first_paint.with_page(shell, content), path, assets)

    app.index_string = INDEX
    app.renderer = first_paint.RENDERER  # loads the bundles after the first paint (its hash goes in the CSP)
    app.interpolate_index = interpolate_index  # type: ignore[method-assign, assignment]  # Dash's own hook

    def layout() -> Any:
        lang = current_lang(default)
        bare = seance_view.bare_request()  # a séance screen: no header, hence no account corner
        account = [] if bare else account_menu(lang)
        return pages.shell(portal, visible_dashboards(portal), lang, bare=bare, account=account)

    app.layout = layout

    @app.callback(Output("page", "children"), Output("page-title", "children"), Input("url", "pathname"))
    def route(pathname: str | None):
        lang = current_lang(default)
        title = portal.registry.portal.title
        principal = current_principal()
        if seance_view.is_seance_path(pathname) or (principal is not None and principal.seance):
            return seance_view.route(portal, pathname or "/", lang)  # séances; wall screens
        if not pathname or pathname == "/":
            return pages.home(portal, visible_dashboards(portal), lang), title
        if indicator_pages.indicator_id(pathname) is not None:  # indicator cards and catalogue
            return indicator_pages.route(portal, pathname, principal, lang)
        if data_catalogue.is_catalogue(pathname):  # the datasets behind what this user may see
            return data_catalogue.route(portal, principal, lang)
        if dataset_page.dataset_id(pathname) is not None:  # a dataset's page of the catalogue
            return dataset_page.route(portal, pathname or "", principal, lang)
        dashboard = portal.registry.by_path(pathname)
        if dashboard is None:
            return pages.not_found(lang), f"{t('not_found', lang)} — {title}"
        if not can_view(principal, dashboard.spec):
            audit("access_denied", principal, f"page {pathname}", f"tableau de bord {dashboard.id}")
            ask = request_link(portal.registry, principal, pathname)
            return pages.denied(lang, ask), f"{t('denied', lang)} — {title}"
        audit("page_view", principal, f"page {pathname}", f"tableau de bord {dashboard.id}")
        return dashboard_page(portal, dashboard, principal, lang), f"{dashboard.spec.title} — {title}"

    app.clientside_callback(  # on this app: dash.clientside_callback would go to a global list
        "function(title) { if (title) { document.title = title; } return window.dash_clientside.no_update; }",
        Output("page-title", "title"),
        Input("page-title", "children"),
    )

    seance_view.install(app, portal)  # /seance/…: live séances, snapshots, display links

    @app.server.before_request
    def indicator_guard():
        if dataset_page.dataset_id(flask.request.path):
            return dataset_page.guard(portal, current_principal())  # /donnees/<id>: 403
        if not indicator_pages.indicator_id(flask.request.path):
            return None
        return indicator_pages.guard(portal, current_principal())  # /indicateurs/<id>: 403

    for dashboard in portal.registry.ordered():
        widget_ids, _ = page_callback_ids(dashboard)
        if not widget_ids:
            continue
        if dashboard.spec.overview:  # each user has their own grid: a callback per widget
            for widget_id in widget_ids:
                _widget_callback(app, portal, dashboard, widget_id)
        else:
            _page_callback(app, portal, dashboard)

    server = app.server

    @server.route("/lang/<lang>")
    def switch_language(lang: str) -> WerkzeugResponse:
        target = flask.request.referrer or "/"
        if not target.startswith(flask.request.host_url):
            target = "/"
        response = flask.redirect(target)
        if lang in LANGUAGES:
            response.set_cookie("pilotis_lang", lang, max_age=365 * 86400, samesite="Lax", httponly=True)
        return response


def dashboard_page(portal: Portal, dashboard: Dashboard, principal: Principal | None, lang: str) -> html.Div:
    """A dashboard's page for ``principal`` (who may see it): their territory, the referent line."""
    scope = territory_scope(principal, portal.territories)
    referent = referent_line(portal.registry.referents, departed_accounts(portal), "dashboard", dashboard.id, lang)
    return pages.dashboard_page(portal, dashboard, lang, scope=scope, principal=principal, referent=referent)


def page_callback_ids(dashboard: Dashboard) -> tuple[list[str], list[tuple[str, str]]]:
    """The widgets a filter change redraws (every widget with a callback), and the inputs of the
    page's callback as ``(component id, property)``: the filters, then each widget's own controls."""
    widgets = [w for w in dashboard.widgets if not WIDGET_TYPES[w.type].is_static(w)]
    inputs = [(dashboard.dom_id("territory"), "value"), (dashboard.dom_id("period"), "value")]
    if dashboard.spec.refresh:
        inputs.append((dashboard.dom_id("refresh"), "n_intervals"))
    for widget in widgets:
        own = WIDGET_TYPES[widget.type].inputs(widget)
        inputs += [(dashboard.dom_id(f"{widget.id}-{name}"), prop) for name, prop in own]
    return [w.id for w in widgets], inputs


def _page_callback(app: Dash, portal: Portal, dashboard: Dashboard) -> None:
    """ONE callback for every widget of a dashboard page: a filter change is one request, not
    one per widget (the access check, the session lookup and the Dash round trip once), and a
    widget's own control (the territories of a compare view) redraws that widget only.

    Each widget is rendered on its own (``Portal.render_widget``): one failing widget shows its
    message, the others their content.
    """
    widget_ids, inputs = page_callback_ids(dashboard)
    widgets = [dashboard.widget(w) for w in widget_ids]
    filters = {f"{i}.{p}" for i, p in inputs[: 3 if dashboard.spec.refresh else 2]}
    by_filter = {f"{inputs[0][0]}.{inputs[0][1]}": "territory", f"{inputs[1][0]}.{inputs[1][1]}": "period"}
    reads = [WIDGET_TYPES[w.type].filters_read(w) for w in widgets]
    owned = [
        [f"{dashboard.dom_id(f'{w.id}-{name}')}.{prop}" for name, prop in WIDGET_TYPES[w.type].inputs(w)]
        for w in widgets
    ]
    outputs = [Output(dashboard.dom_id(w), "children") for w in widget_ids]

    @app.callback(outputs, [Input(i, p) for i, p in inputs])
    def update(territory: str | None, period: str | None, *rest: object) -> list[object]:
        principal = current_principal()
        if not can_view(principal, dashboard.spec):  # also refused earlier by enforce.guard_dash
            flask.abort(403)
        values = dict(zip((f"{i}.{p}" for i, p in inputs), (territory, period, *rest), strict=True))
        triggered = set(callback_context.triggered_prop_ids)
        # What changed (dash-renderer says; nothing on the page's first call: every widget is
        # drawn). A widget is drawn again when one of its own controls or a filter it reads
        # changed; the others keep what they show (no work, nothing sent): another commune
        # leaves a compare view or a `territory: all` chart as they are. The auto-refresh tick
        # draws them all.
        changed = {by_filter.get(prop, "other") for prop in triggered & filters}
        lang = current_lang(portal.settings.lang)
        contents: list[object] = []
        for widget, own, read in zip(widgets, owned, reads, strict=True):
            if triggered and "other" not in changed and not (triggered & set(own) or changed & read):
                contents.append(no_update)  # neither its filters nor its controls changed
                continue
            names = [name for name, _ in WIDGET_TYPES[widget.type].inputs(widget)]
            controls = {name: values[key] for name, key in zip(names, own, strict=True)}
            contents.append(
                portal.render_widget(dashboard, widget, territory, period, lang, principal=principal, controls=controls)
            )
        return contents

    update.__name__ = f"update_{dashboard.id}"


def _widget_callback(app: Dash, portal: Portal, dashboard: Dashboard, widget_id: str) -> None:
    inputs = [Input(dashboard.dom_id("territory"), "value"), Input(dashboard.dom_id("period"), "value")]
    if dashboard.spec.refresh:
        inputs.append(Input(dashboard.dom_id("refresh"), "n_intervals"))
    widget = dashboard.widget(widget_id)
    own = WIDGET_TYPES[widget.type].inputs(widget)  # the widget's own controls (compare view)
    inputs += [Input(dashboard.dom_id(f"{widget_id}-{name}"), prop) for name, prop in own]

    @app.callback(Output(dashboard.dom_id(widget_id), "children"), *inputs)
    def update(territory: str | None, period: str | None, *rest: object) -> object:
        principal = current_principal()
        # also refused earlier by enforce.guard_dash (dashboard; widget of a synthesis dashboard)
        if not can_view_widget(principal, portal.registry, dashboard, widget_id):
            flask.abort(403)
        values = rest[len(rest) - len(own) :] if own else ()
        controls = dict(zip((name for name, _ in own), values, strict=True))
        return portal.render_widget(
            dashboard,
            widget,
            territory,
            period,
            current_lang(portal.settings.lang),
            principal=principal,
            controls=controls,
        )

    update.__name__ = f"update_{dashboard.id}_{widget_id}"


def page_status(portal: Portal, path: str) -> int:
    """HTTP status of a page path: 200 for home and dashboards, 404 otherwise."""
    if path in ("", "/") or portal.registry.by_path(path) is not None:
        return 200
    if seance_view.page_known(portal, path) or indicator_pages.page_known(portal, path):
        return 200
    if data_catalogue.is_catalogue(path) or dataset_page.page_known(portal, path):
        return 200
    return 404


__all__ = ["install", "current_lang", "page_status", "html"]
