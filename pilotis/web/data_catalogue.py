"""The data catalogue (``/donnees``): every dataset behind what the user may see, how and when
its data is refreshed, the period it covers, whether its source answers, and where it is used.

Access: a signed-in user sees the datasets read by the widgets they may see
(:func:`pilotis.core.access.can_view_widget`: the widget's own dataset and those of the indicators it
shows), plus the territorial reference tables behind the territory filter; an administrator
sees every dataset. Source locations (paths, URLs, tables) and failure messages are not shown
here (they are on the administrators' « État des sources » page): only the kind of failure.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from dash import html

from pilotis.core.access import Principal, can_view, can_view_widget
from pilotis.core.catalogue import is_late
from pilotis.core.data import as_date
from pilotis.core.formatting import format_period
from pilotis.core.freshness import format_moment
from pilotis.core.i18n import t
from pilotis.core.measures import Agg
from pilotis.core.query import Query
from pilotis.core.registry import Dashboard
from pilotis.core.schema import DatasetBase
from pilotis.core.sources import ERROR_KINDS, SourceError
from pilotis.ui.components import scroll_region
from pilotis.ui.portal import Portal
from pilotis.web.enforce import audit
from pilotis.web.indicator_pages import datasets_of

PATH = "/donnees"
SOURCE_KINDS = {
    "csv": ("Fichier CSV", "CSV file"),
    "excel": ("Classeur Excel", "Excel workbook"),
    "parquet": ("Fichier Parquet", "Parquet file"),
    "sql": ("Base de données SQL", "SQL database"),
    "rest": ("API REST", "REST API"),
    "opendatasoft": ("Portail Opendatasoft (API Explore v2.1)", "Opendatasoft portal (Explore API v2.1)"),
}
"""How each source type is named to users (French, English)."""


def is_catalogue(path: str | None) -> bool:
    """True for ``/donnees`` (with or without a final slash)."""
    return bool(path) and path.rstrip("/") == PATH  # type: ignore[union-attr]


def datasets_read_by(portal: Portal, dashboard: Dashboard, principal: Principal | None) -> set[str]:
    """The datasets read by the widgets of ``dashboard`` that ``principal`` may see."""
    registry = portal.registry
    found: set[str] = set()
    for widget in dashboard.widgets:
        if not can_view_widget(principal, registry, dashboard, widget.id):
            continue
        dataset = getattr(widget, "dataset", None)
        if dataset:
            found.add(dataset)
        for indicator_id in dashboard.widget_indicators.get(widget.id, ()):
            if indicator_id in registry.indicators:
                found.update(datasets_of(portal, registry.indicators[indicator_id]))
    period = getattr(dashboard.spec.filters, "period", None)
    if period is not None and getattr(period, "dataset", None):
        found.add(period.dataset)
    return found & set(registry.datasets)


def visible_datasets(portal: Portal, principal: Principal | None) -> dict[str, list[Dashboard]]:
    """Dataset id → the dashboards (that ``principal`` may open) reading it, for the catalogue."""
    registry = portal.registry
    if principal is None or principal.seance is not None:
        return {}
    used: dict[str, list[Dashboard]] = {}
    for dashboard in registry.ordered():
        if not can_view(principal, dashboard.spec):
            continue
        for dataset in sorted(datasets_read_by(portal, dashboard, principal)):
            used.setdefault(dataset, []).append(dashboard)
    if used:  # the territory filter reads the reference tables for everyone who sees a dashboard
        for key in (registry.portal.communes_dataset, registry.portal.epci_dataset):
            if key in registry.datasets:
                used.setdefault(key, [])
    if "admin" in principal.roles:
        for dataset in registry.datasets:
            used.setdefault(dataset, [])
    return dict(sorted(used.items(), key=lambda item: registry.datasets[item[0]].config.title.lower()))


def _duration(seconds: float, lang: str) -> str:
    """``15 min``, ``1 h``, ``2 j`` (``d`` in English), ``30 s``."""
    for size, fr, en in ((86400, "j", "d"), (3600, "h", "h"), (60, "min", "min")):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}\u00a0{fr if lang == 'fr' else en}"
    return f"{int(seconds)}\u00a0s"


def refresh_text(config: DatasetBase, lang: str) -> str:
    """The dataset's refresh policy in words."""
    policy = config.refresh
    if policy is not None and policy.every:
        single = {3600: "refresh_hourly", 86400: "refresh_daily"}.get(int(policy.every))
        return t(single, lang) if single else t("refresh_every", lang, every=_duration(policy.every, lang))
    if policy is not None and policy.at:
        return t("refresh_at", lang, times=", ".join(policy.at))
    if policy is not None and policy.cron:
        return t("refresh_cron", lang, cron=policy.cron)
    return t("refresh_ttl", lang, ttl=_duration(float(config.ttl), lang))


def late_badge(portal: Portal, dataset: str, lang: str, today: date | None = None) -> html.Span | None:
    """« en retard » when the update its producer promised (`update:`) is overdue
    (:func:`pilotis.core.catalogue.is_late`), else None."""
    config = portal.registry.datasets[dataset].config
    if config.update is None or config.period is None:
        return None
    try:
        bounds = portal.data.period_bounds(dataset)
    except SourceError:
        return None
    last = as_date(bounds[1]) if bounds else None
    if not is_late(last, config.period.grain, config.update, today or date.today()):
        return None
    return html.Span(t("late", lang), className="badge text-bg-warning pilotis-late ms-1")


def coverage_text(portal: Portal, dataset: str, lang: str) -> str:
    """The first and last period with data. Reads the source when its cached answer has expired
    (a MIN/MAX query, or a row count for a dataset without period), so that its state is known."""
    config = portal.registry.datasets[dataset].config
    try:
        if config.period is None:
            portal.data.query(Query(dataset=dataset, measures=(("lignes", Agg("count", "*")),)))
            return "—"
        bounds = portal.data.period_bounds(dataset)
    except SourceError:
        return t("unavailable", lang)
    if not bounds:
        return "—"
    first, last = (format_period(b, config.period.grain, lang) for b in bounds)
    return first if first == last else f"{first} – {last}"


def state_badge(portal: Portal, dataset: str, lang: str) -> html.Span:
    """« Mis à jour le … », « Non actualisées depuis le … » or « Indisponible », with the kind of failure."""
    status = portal.data.last_status(dataset)
    reason = ERROR_KINDS.get(status.kind, ERROR_KINDS["error"])
    if status.failing and status.last_success:
        day, time = format_moment(status.last_success, lang)
        text, css = t("catalogue_stale", lang, date=day, time=time, reason=reason), "pilotis-state-stale"
    elif status.failing:
        text, css = t("catalogue_down", lang, reason=reason), "pilotis-state-down"
    elif status.last_success:
        day, time = format_moment(status.last_success, lang)
        text, css = t("updated_at", lang, date=day, time=time), "pilotis-state-ok"
    else:
        text, css = t("catalogue_not_read", lang), "pilotis-state-unknown"
    return html.Span(text, className=css)


def _row(portal: Portal, dataset: str, dashboards: list[Dashboard], lang: str) -> html.Tr:
    config = portal.registry.datasets[dataset].config
    coverage = coverage_text(portal, dataset, lang)  # reads the source when needed: the state is then known
    fr: dict[str, Any] = {"lang": "fr"} if lang != "fr" else {}  # written in YAML, in French
    about: list[Any] = [html.Strong(html.A(config.title, href=f"{PATH}/{dataset}"), **fr)]
    if config.simulated:
        about.append(html.Span(t("simulated", lang), className="badge pilotis-simulated ms-2"))
    if config.description:
        about.append(html.P(config.description, className="small mb-0", **fr))
    if config.producer:
        colon = " : " if lang == "fr" else ": "
        about.append(
            html.P([t("producer", lang), colon, html.Span(config.producer, **fr)], className="small text-muted mb-0")
        )
    kind = SOURCE_KINDS.get(config.type, (config.type, config.type))[0 if lang == "fr" else 1]
    used = (
        html.Ul(
            [html.Li(html.A(d.spec.title, href=d.spec.url, **fr)) for d in dashboards], className="list-unstyled mb-0"
        )
        if dashboards
        else "—"
    )
    return html.Tr(
        [
            html.Th(about, scope="row"),
            html.Td(kind),
            html.Td([refresh_text(config, lang), late_badge(portal, dataset, lang)]),
            html.Td(coverage),
            html.Td(state_badge(portal, dataset, lang)),
            html.Td(used),
        ],
        id=f"jeu-{dataset}",
    )


def catalogue(portal: Portal, principal: Principal | None, lang: str) -> html.Div:
    """The catalogue page content for ``principal``."""
    shown = visible_datasets(portal, principal)
    headers = ("dataset_col", "source_kind", "refresh_col", "coverage", "state_col", "used_on")
    body: Any
    if shown:
        table = html.Table(
            [
                html.Caption(t("data_catalogue_caption", lang)),
                html.Thead(html.Tr([html.Th(t(k, lang), scope="col") for k in headers])),
                html.Tbody([_row(portal, dataset, dashboards, lang) for dataset, dashboards in shown.items()]),
            ],
            className="table table-sm align-top pilotis-data-catalogue",
        )
        body = scroll_region(table, t("data_catalogue_caption", lang))
    else:
        body = html.P(t("no_dataset", lang))
    return html.Div(
        [
            html.H1(t("data_catalogue", lang), className="h3"),
            html.P(t("data_catalogue_intro", lang), className="lead"),
            body,
        ]
    )


def route(portal: Portal, principal: Principal | None, lang: str) -> tuple[Any, str]:
    """Page content and title of ``/donnees``."""
    audit("page_view", principal, f"page {PATH}", "catalogue des données")
    return catalogue(portal, principal, lang), f"{t('data_catalogue', lang)} — {portal.registry.portal.title}"
