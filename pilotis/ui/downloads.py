"""« Télécharger » under a widget: its data as CSV (Excel, French), CSV « outils » or XLSX.

A native ``<details>`` menu (keyboard and screen readers without any script) of three real links
to ``/exports/<dashboard>/<widget>.<format>`` (:mod:`pilotis.web.exports`), each named after the
widget. It is drawn once with the page, as static HTML (the card's foot is one
:func:`pilotis.ui.static_html.static` block, not a Dash component per tag): the widget's
rendering does not change. The links point at the page's default filters; ``assets/exports.js``
rewrites them with the filters chosen on the page (territory, year, the widget's own controls)
when they are followed, focused or hovered — the ids of those selects are in ``data-*``
attributes, so the script knows no naming rule.
"""

from __future__ import annotations

import json
from typing import Any

from dash import html

from pilotis.core.exports import exportable
from pilotis.core.i18n import t
from pilotis.core.registry import Dashboard
from pilotis.core.schema import WidgetBase
from pilotis.core.widgets import WIDGET_TYPES
from pilotis.ui.components import aria, data_attributes

CHOICES = (("csv", "", "export_csv_fr"), ("csv", "outils", "export_csv_tools"), ("xlsx", "", "export_xlsx"))
"""(format, variant, text key) of each link, in menu order."""


def export_url(dashboard: Dashboard, widget: WidgetBase, fmt: str, variant: str = "") -> str:
    """The address of a widget's export with the page's default filters."""
    query = f"?variante={variant}" if variant else ""
    return f"/exports/{dashboard.id}/{widget.id}.{fmt}{query}"


def download_menu(dashboard: Dashboard, widget: WidgetBase, lang: str) -> html.Details | None:
    """The « Télécharger » menu of ``widget`` (None for a widget without data: a text, a heading)."""
    if not exportable(widget):
        return None
    title = widget.title or widget.description or widget.id
    own = {name: dashboard.dom_id(f"{widget.id}-{name}") for name, _ in WIDGET_TYPES[widget.type].inputs(widget)}
    filters = data_attributes(
        territory=dashboard.dom_id("territory"), period=dashboard.dom_id("period"), controls=json.dumps(own)
    )
    links: list[Any] = [
        html.Li(
            html.A(
                [t(key, lang), html.Span(f" — {title}", className="visually-hidden")],
                href=export_url(dashboard, widget, fmt, variant),
                className="pilotis-export",
                **data_attributes(base=export_url(dashboard, widget, fmt), variant=variant),
                **filters,
            )
        )
        for fmt, variant, key in CHOICES
    ]
    return html.Details(
        [
            html.Summary(
                [
                    html.I(className="bi bi-download me-1", **aria(hidden="true")),
                    t("export_download", lang),
                    html.Span(" " + t("export_of", lang, title=title), className="visually-hidden"),
                ]
            ),
            html.Ul(links, className="list-unstyled mb-0 ms-3"),
        ],
        className="pilotis-download small",
    )


def pdf_button(dashboard: Dashboard, lang: str) -> html.Div:
    """« PDF » next to the page's filters: the whole dashboard as filtered, as an accessible PDF
    (``/exports/<dashboard>.pdf``, :mod:`pilotis.web.reports_page`). ``assets/exports.js`` adds the
    territory and year chosen, and the widgets' own controls, when the link is followed, as for
    the widget downloads."""
    base = f"/exports/{dashboard.id}.pdf"
    own = {  # each widget's own controls, as `<widget>-<name>` parameters (read by pilotis.web.reports_page)
        f"{widget.id}-{name}": dashboard.dom_id(f"{widget.id}-{name}")
        for widget in dashboard.widgets
        if widget.type in WIDGET_TYPES
        for name, _ in WIDGET_TYPES[widget.type].inputs(widget)
    }
    return html.Div(
        html.A(
            [
                html.I(className="bi bi-file-earmark-pdf me-1", **aria(hidden="true")),
                t("reports_pdf_button", lang),
                html.Span(" " + t("reports_pdf_of", lang), className="visually-hidden"),
            ],
            href=base,
            className="pilotis-export pilotis-pdf btn btn-outline-secondary",
            **data_attributes(
                base=base,
                territory=dashboard.dom_id("territory"),
                period=dashboard.dom_id("period"),
                controls=json.dumps(own),
            ),
        ),
        className="col-auto align-self-end",
    )
