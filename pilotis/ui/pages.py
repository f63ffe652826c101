"""Page layouts: the shell (header, navigation), the home page, dashboard pages, error pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component

from pilotis.core.access import Principal
from pilotis.core.formatting import french_sort_key
from pilotis.core.i18n import t
from pilotis.core.registry import Dashboard
from pilotis.core.routes import FOOTER_LINKS
from pilotis.core.schema import DataWidgetBase
from pilotis.core.sources import SourceError
from pilotis.core.territory import Territory
from pilotis.core.widgets import WIDGET_TYPES
from pilotis.ui.components import aria, data_attributes
from pilotis.ui.downloads import pdf_button
from pilotis.ui.overview import widget_cards
from pilotis.ui.portal import Portal
from pilotis.ui.report_link import widget_actions
from pilotis.ui.static_html import static


def yaml_text(lang: str) -> dict[str, Any]:
    """Attributes of an element showing text written in YAML (French) on a page in ``lang``:
    ``lang="fr"`` inside an English page, so that a screen reader reads it with French rules."""
    return {"lang": "fr"} if lang != "fr" else {}


def live_region(template: str) -> dict[str, Any]:
    """Attributes of the polite live region that says which page was just shown."""
    return {"aria-live": "polite", "aria-atomic": "true", "data-template": template}


def shell(
    portal: Portal, dashboards: list[Dashboard], lang: str, *, bare: bool = False, account: list | None = None
) -> html.Div:
    """The frame of every page: skip link, header with navigation, main region, footer.

    ``bare``: a séance page (projection, wall screen): the main region only, no navigation.
    ``account``: the signed-in user's corner of the header (built by the web floor).
    """
    if bare:
        return html.Div(
            [
                dcc.Location(id="url", refresh="callback-nav"),
                html.Main(html.Div(id="page"), id="contenu", tabIndex="-1", className="pilotis-bare-main"),
                html.Div(id="page-title", hidden=True),
            ]
        )
    collectivite = portal.registry.portal.collectivite
    brand: list = []
    if collectivite.logo:
        brand.append(html.Img(src=f"/assets/{collectivite.logo}", alt="", height="36", className="me-2"))
    brand.append(
        html.Span(
            [
                html.Span(collectivite.nom, className="pilotis-brand-name"),
                html.Span(portal.registry.portal.title, className="pilotis-brand-product"),
            ],
            **yaml_text(lang),
        )
    )
    links = [dbc.NavItem(dbc.NavLink(t("home", lang), href="/", active="exact"))]
    links += [
        dbc.NavItem(
            dbc.NavLink(
                [
                    html.I(className=f"bi bi-{d.spec.icon} me-1", **aria(hidden="true")),
                    html.Span(d.spec.title, **yaml_text(lang)),
                ],
                href=d.spec.url,
                active="exact",
            )
        )
        for d in dashboards
    ]
    other = "en" if lang == "fr" else "fr"
    header = html.Header(
        html.Nav(
            dbc.Container(
                [
                    html.A(brand, href="/", className="navbar-brand d-flex align-items-center"),
                    dbc.Nav(links, className="me-auto flex-wrap", navbar=True),
                    html.A(
                        t("language", lang),
                        href=f"/lang/{other}",
                        lang=other,
                        hrefLang=other,
                        className="btn btn-sm btn-outline-light",
                    ),
                    *(account or []),
                ],
                fluid=True,
                className="d-flex flex-wrap align-items-center gap-2",
            ),
            className="navbar navbar-dark pilotis-navbar",
            **aria(label=t("main_nav", lang)),
        ),
    )
    return html.Div(
        [
            html.A(t("skip", lang), href="#contenu", className="visually-hidden-focusable pilotis-skip"),
            dcc.Location(id="url", refresh="callback-nav"),
            header,
            html.Main(dbc.Container(html.Div(id="page"), fluid=True, className="py-3"), id="contenu", tabIndex="-1"),
            html.Div(id="page-title", hidden=True),
            html.Div(
                id="pilotis-announce",  # said after a dashboard is chosen in the menu (pilotis-a11y.js)
                className="visually-hidden",
                role="status",
                **live_region(t("page_loaded", lang)),
            ),
            html.Footer(
                dbc.Container(
                    [
                        html.Nav(
                            [html.A(t(key, lang), href=href, className="me-3") for key, href in FOOTER_LINKS],
                            className="small mb-1",
                            **aria(label=t("catalogues", lang)),
                        ),
                        html.P(
                            f"{portal.registry.portal.title} — {t('footer', lang)}",
                            className="small mb-0",
                        ),
                    ],
                    fluid=True,
                ),
                className="pilotis-footer py-2",
            ),
        ]
    )


def home(portal: Portal, dashboards: list[Dashboard], lang: str) -> html.Div:
    """The home page: one card per dashboard the user may open."""
    cards = [
        dbc.Col(
            html.Article(
                dbc.Card(
                    dbc.CardBody(
                        [
                            html.H2(
                                [
                                    html.I(className=f"bi bi-{d.spec.icon} me-2", **aria(hidden="true")),
                                    d.spec.title,
                                ],
                                className="h5 card-title",
                                **yaml_text(lang),
                            ),
                            html.P(d.spec.description, className="card-text", **yaml_text(lang)),
                            html.A(
                                [
                                    t("open", lang),
                                    html.Span(" : " if lang == "fr" else ": ", className="visually-hidden"),
                                    html.Span(d.spec.title, className="visually-hidden", **yaml_text(lang)),
                                ],
                                href=d.spec.url,
                                className="btn btn-primary btn-sm",
                            ),
                        ]
                    ),
                    className="h-100 pilotis-home-card",
                )
            ),
            xs=12,
            md=6,
            xl=3,
            className="mb-3",
        )
        for d in dashboards
    ]
    return html.Div(
        [
            html.H1(portal.registry.portal.collectivite.nom, className="h3", tabIndex="-1", **yaml_text(lang)),
            html.P(t("home_intro", lang), className="lead"),
            html.H2(t("dashboards", lang), className="h5 mt-4"),
            dbc.Row(cards),
        ]
    )


def not_found(lang: str) -> html.Div:
    """The 404 page content."""
    return html.Div(
        [
            html.H1(t("not_found", lang), className="h3", tabIndex="-1"),
            html.P(t("not_found_text", lang)),
            html.A(t("back_home", lang), href="/", className="btn btn-primary"),
        ]
    )


def denied(lang: str, ask: str | None = None) -> html.Div:
    """The "access denied" page content (names nothing of the refused dashboard); with ``ask``
    (the address of the « Demander l'accès » form for this page), a button leading there."""
    buttons = [html.A(t("back_home", lang), href="/", className="btn btn-primary")]
    if ask:
        buttons.insert(0, html.A(t("access_request", lang), href=ask, className="btn btn-primary me-2"))
    heading = html.H1(t("denied", lang), className="h3", tabIndex="-1")
    return html.Div([heading, html.P(t("denied_text", lang)), *buttons])


def _scoped_options(portal: Portal, scope: Territory, lang: str) -> list[dict]:
    """Territory choices of a user restricted to ``scope``: it, and its communes for an EPCI."""
    index = portal.territories
    options: list[dict[str, Any]] = [
        {"label": index.name(scope) if index.is_known(scope) else "—", "value": scope.value}
    ]
    if scope.level == "epci":
        communes = sorted(index.communes_of(scope.code), key=lambda c: french_sort_key(index.communes.get(c, c)))
        options.append({"label": f"── {t('communes', lang)} ──", "value": "sep:communes", "disabled": True})
        options += [{"label": index.communes[c], "value": f"commune:{c}"} for c in communes]
    return options


def _territory_options(portal: Portal, levels: Sequence[str], lang: str) -> list[dict]:
    index = portal.territories
    options: list[dict] = []
    if "departement" in levels:
        options.append(
            {
                "label": f"{index.departement_name} ({t('departement', lang).lower()})",
                "value": f"departement:{index.departement_code}",
            }
        )
    if "epci" in levels:
        options.append({"label": f"── {t('epci', lang)} ──", "value": "sep:epci", "disabled": True})
        epcis = sorted(index.epcis.items(), key=lambda item: french_sort_key(item[1]))
        options += [{"label": name, "value": f"epci:{code}"} for code, name in epcis]
    if "commune" in levels:
        options.append({"label": f"── {t('communes', lang)} ──", "value": "sep:communes", "disabled": True})
        communes = sorted(index.communes.items(), key=lambda item: french_sort_key(item[1]))  # « Mée », « Moulay »
        options += [{"label": name, "value": f"commune:{code}"} for code, name in communes]
    return options


def filters(portal: Portal, dashboard: Dashboard, lang: str, scope: Territory | None = None) -> html.Section:
    """The filter bar. Absent filters still exist, hidden, so callbacks keep the same inputs.

    ``scope`` (``access.territory_scope``): the only territory a restricted user may choose;
    the server clamps any other value anyway (``Portal.parse_filters``).
    """
    spec = dashboard.spec.filters
    dep = f"departement:{portal.registry.portal.collectivite.code_departement}"
    territory_options = _territory_options(portal, spec.territory.levels, lang) if spec.territory else []
    if scope is not None:
        dep = scope.value
        territory_options = _scoped_options(portal, scope, lang)
    try:
        years = portal.data.years(spec.period.dataset) if spec.period else []
    except SourceError:  # the period source is down and never answered: the page still renders
        years = []
    period_options = [{"label": str(y), "value": str(y)} for y in years]
    period_options.append({"label": t("all_period", lang), "value": "all"})
    period_default = str(years[0]) if years and spec.period and spec.period.default == "latest" else "all"
    territory_id, period_id = dashboard.dom_id("territory"), dashboard.dom_id("period")
    return html.Section(
        [
            html.H2(t("filters", lang), className="visually-hidden"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label(t("territory", lang), html_for=territory_id),
                            dbc.Select(
                                id=territory_id,
                                options=territory_options or [{"label": "-", "value": dep}],
                                value=dep,
                                persistence=True,
                                persistence_type="session",
                            ),
                        ],
                        xs=12,
                        md=6,
                        lg=4,
                        style=None if spec.territory else {"display": "none"},
                    ),
                    dbc.Col(
                        [
                            dbc.Label(t("period", lang), html_for=period_id),
                            dbc.Select(
                                id=period_id,
                                options=period_options,
                                value=period_default,
                                persistence=True,
                                persistence_type="session",
                            ),
                        ],
                        xs=12,
                        md=4,
                        lg=2,
                        style=None if spec.period else {"display": "none"},
                    ),
                    pdf_button(dashboard, lang),  # « PDF »: the dashboard as filtered (/exports/<id>.pdf)
                ],
                className="g-2",
            ),
        ],
        className="pilotis-filters mb-3",
        **aria(label=t("filters", lang)),
    )


def widget_card(portal: Portal, dashboard: Dashboard, widget, lang: str) -> dbc.Col:
    """A widget's frame: title, description, content placeholder, source line."""
    title_id = dashboard.dom_id(f"{widget.id}-title")
    header: list = [html.H2(widget.title, id=title_id, className="h6 mb-1", **yaml_text(lang))] if widget.title else []
    if widget.description:
        header.append(html.P(widget.description, className="small text-muted mb-2", **yaml_text(lang)))
    footer: list = []
    if isinstance(widget, DataWidgetBase):
        dataset = portal.registry.datasets[widget.dataset].config
        producer = html.Span(dataset.producer or dataset.title, **yaml_text(lang))  # YAML text: French
        footer.append(html.Span([f"{t('source', lang)} : ", producer]))
        if dataset.simulated:
            footer.append(html.Span(t("simulated", lang), className="badge pilotis-simulated ms-2"))
    widget_type = WIDGET_TYPES[widget.type]
    body: Component | list[Component]
    if widget_type.is_static(widget):
        # Drawn once with the page: content that reads no data (markdown) still gets a real context
        # (the page's language, its default filters, nobody's row rules), as every render() does.
        body = widget_type.render(widget, portal.render_context(dashboard, None, None, lang, principal=None))
    else:
        body = dcc.Loading(
            html.Div(id=dashboard.dom_id(widget.id), className="pilotis-widget-body"), type="dot", delay_show=300
        )
    controls = widget_type.controls(widget, lambda name: dashboard.dom_id(f"{widget.id}-{name}"), portal, lang)
    named_by = aria(labelledby=title_id) if widget.title else {}  # the h2 (its lang too)
    # Title, source line, « Télécharger » and « Signaler une anomalie »: static HTML (pilotis.ui.static_html)
    foot = [html.P(footer, className="pilotis-source small mb-0 mt-2"), *widget_actions(dashboard, widget, lang)]
    card = html.Section(
        [
            static(header),
            *([controls] if controls is not None else []),
            *(body if isinstance(body, list) else [body]),
            static(foot, "pilotis-widget-foot mt-auto"),
        ],
        className=f"card card-body h-100 pilotis-widget pilotis-{widget.type}",
        **named_by,
    )
    return dbc.Col(card, xs=12, lg=widget.width, className="mb-3")


def dashboard_page(
    portal: Portal,
    dashboard: Dashboard,
    lang: str,
    scope: Territory | None = None,
    principal: Principal | None = None,
    referent: Component | None = None,
) -> html.Div:
    """A dashboard page: title, filters, widget grid, optional refresh timer.

    ``scope``: the territory the user is restricted to (None: the whole département).
    ``principal``: on a synthesis dashboard, only the widgets they may see are in the page.
    ``referent``: the « Référent : … » line (:mod:`pilotis.ui.referent_links`), under the description.
    """
    spec = dashboard.spec
    children: list = [
        html.Div(
            [
                html.Div(
                    [
                        html.H1(
                            [html.I(className=f"bi bi-{spec.icon} me-2", **aria(hidden="true")), spec.title],
                            **yaml_text(lang),
                            className="h3 mb-1",
                            tabIndex="-1",  # the focus lands here after a menu choice (assets/pilotis-a11y.js)
                        ),
                        html.P(spec.description, className="text-muted", **yaml_text(lang)),
                        *([referent] if referent is not None else []),
                    ]
                ),
                # Séance mode (full screen, projection); assets/seance.js adds the chosen filters.
                html.A(
                    [
                        html.I(className="bi bi-easel me-1", **aria(hidden="true")),
                        t("present", lang),
                    ],
                    href=f"/seance/d/{spec.id}",
                    className="btn btn-outline-primary btn-sm pilotis-present",
                    title=t("present_title", lang),
                    **data_attributes(dashboard=spec.id),
                ),
            ],
            className="d-flex flex-wrap justify-content-between align-items-start gap-2",
        ),
        filters(portal, dashboard, lang, scope),
        dbc.Row(widget_cards(portal, dashboard, lang, principal, widget_card)),
    ]
    if spec.refresh:
        children.append(dcc.Interval(id=dashboard.dom_id("refresh"), interval=spec.refresh * 1000))
    return html.Div(children, className=f"pilotis-dashboard pilotis-dashboard-{spec.id}")
