"""« Signaler une anomalie » under a widget: a real link to the server form
``/signalements/nouveau?tableau=<dashboard>&widget=<widget>`` (:mod:`pilotis.web.anomaly_pages`),
usable by keyboard and without any script, named after the widget for screen readers.

Like the « Télécharger » links (:mod:`pilotis.ui.downloads`), it points at the page's default
filters; ``assets/exports.js`` adds the filters chosen on the page (territory, year, the widget's
own controls) when it is followed, focused or hovered — their select ids are in ``data-*``
attributes.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from dash import html
from dash.development.base_component import Component

from pilotis.core.i18n import t
from pilotis.core.registry import Dashboard
from pilotis.core.schema import WidgetBase
from pilotis.core.widgets import WIDGET_TYPES
from pilotis.ui.components import aria, data_attributes
from pilotis.ui.downloads import download_menu

FORM = "/signalements/nouveau"


def report_url(dashboard: Dashboard, widget: WidgetBase) -> str:
    """The form's address for ``widget`` (the page's default filters)."""
    return f"{FORM}?{urlencode({'tableau': dashboard.id, 'widget': widget.id})}"


def report_link(dashboard: Dashboard, widget: WidgetBase, lang: str) -> html.P:
    """The « Signaler une anomalie » link of ``widget``."""
    title = widget.title or widget.description or widget.id
    kind = WIDGET_TYPES.get(widget.type)
    own = {name: dashboard.dom_id(f"{widget.id}-{name}") for name, _ in kind.inputs(widget)} if kind else {}
    return html.P(
        html.A(
            [
                html.I(className="bi bi-flag me-1", **aria(hidden="true")),
                t("anomaly_report", lang),
                html.Span(" " + t("anomaly_report_of", lang, title=title), className="visually-hidden"),
            ],
            href=report_url(dashboard, widget),
            className="pilotis-report",
            **data_attributes(
                base=report_url(dashboard, widget),
                territory=dashboard.dom_id("territory"),
                period=dashboard.dom_id("period"),
                controls=json.dumps(own),
            ),
        ),
        className="small mb-0 mt-1",
    )


def widget_actions(dashboard: Dashboard, widget: WidgetBase, lang: str) -> list[Component]:
    """What follows a widget's source line: « Télécharger » (a widget with data) and « Signaler
    une anomalie » (every widget)."""
    menu = download_menu(dashboard, widget, lang)
    return [*([menu] if menu is not None else []), report_link(dashboard, widget, lang)]
