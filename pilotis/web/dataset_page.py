"""A dataset's page in the catalogue (``/donnees/<id>``): its field dictionary, producer, licence,
update rhythm promised and observed (late data flagged), coverage, sensitivity, referent, the
dashboards and indicators that use it, and a preview of its first rows.

Access: the dataset must be in the user's catalogue (:func:`pilotis.web.data_catalogue.visible_datasets`,
itself built on :mod:`pilotis.core.access`); otherwise HTTP 403 (the page route) or the « Accès
refusé » content (in-app navigation); an unknown id: 404. The preview is read through the
viewer's :class:`~pilotis.core.scope.Scope` (``Scope.for_principal``: their row rules), is
refused for a dataset whose rows cannot be restricted to their territory, and is kept for
administrators when the dataset holds personal data.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import flask
from dash import html
from dash.development.base_component import Component
from werkzeug.wrappers import Response as WerkzeugResponse

from pilotis.core.access import Principal, RowsDenied, can_view_indicator
from pilotis.core.data import as_date
from pilotis.core.formatting import format_period
from pilotis.core.i18n import t
from pilotis.core.schema import DatasetBase
from pilotis.core.secrecy import as_text, rule_of
from pilotis.core.sources import SourceError
from pilotis.ui import pages
from pilotis.ui.components import aria, scroll_region
from pilotis.ui.portal import Portal
from pilotis.ui.referent_links import referent_parts
from pilotis.web.data_catalogue import (
    PATH,
    SOURCE_KINDS,
    coverage_text,
    late_badge,
    refresh_text,
    state_badge,
    visible_datasets,
)
from pilotis.web.enforce import audit, denied_page
from pilotis.web.indicator_pages import datasets_of
from pilotis.web.referent_state import departed_accounts

PREVIEW_ROWS = 10


def dataset_id(path: str | None) -> str | None:
    """The id in ``/donnees/<id>`` (None for any other path)."""
    clean = (path or "").rstrip("/")
    return clean[len(PATH) + 1 :] or None if clean.startswith(PATH + "/") else None


def page_known(portal: Portal, path: str) -> bool:
    """True for the page of a declared dataset (HTTP 200 or 403, not 404)."""
    return dataset_id(path) in portal.registry.datasets


def guard(portal: Portal, principal: Principal | None) -> WerkzeugResponse | None:
    """HTTP guard of ``/donnees/<id>`` (anonymous users go to /login first)."""
    found = dataset_id(flask.request.path)
    if not found or principal is None or found not in portal.registry.datasets:
        return None
    if found in visible_datasets(portal, principal):
        return None
    audit("access_denied", principal, f"page {flask.request.path}", f"jeu de données {found}")
    return denied_page(portal)


def route(portal: Portal, pathname: str, principal: Principal | None, lang: str) -> tuple[Any, str]:
    """Page content and title for ``/donnees/<id>``."""
    title = portal.registry.portal.title
    found = dataset_id(pathname) or ""
    if found not in portal.registry.datasets:
        return pages.not_found(lang), f"{t('not_found', lang)} — {title}"
    shown = visible_datasets(portal, principal)
    if found not in shown:
        audit("access_denied", principal, f"page {pathname}", f"jeu de données {found}")
        return pages.denied(lang), f"{t('denied', lang)} — {title}"
    audit("page_view", principal, f"page {pathname}", f"jeu de données {found}")
    config = portal.registry.datasets[found].config
    return dataset_card(portal, found, shown[found], principal, lang), f"{config.title} — {title}"


def _colon(lang: str) -> str:
    return " : " if lang == "fr" else ": "


def rhythm(portal: Portal, dataset: str, config: DatasetBase, lang: str, today: date | None = None) -> list[Any]:
    """« promise : mensuelle, sous 60 j — observée : dernière période 12/2020 — en retard »."""
    parts: list[Any] = [refresh_text(config, lang)]
    promise = config.update
    if promise is not None:
        words = t(f"frequency_{promise.frequency}", lang)
        if promise.delay:
            words += ", " + t("promised_delay", lang, delay=f"{promise.delay // 86400}\u00a0j")
        parts += [" — ", t("promised", lang, rhythm=words)]
    if config.period is not None:
        try:
            bounds = portal.data.period_bounds(dataset)
        except SourceError:
            bounds = None
        if bounds:
            last = format_period(as_date(bounds[1]), config.period.grain, lang)
            parts += [" — ", t("observed_last", lang, period=last)]
    badge = late_badge(portal, dataset, lang, today)
    if badge is not None:
        parts += [" ", badge]
    return parts


def _fields(portal: Portal, dataset: str, config: DatasetBase, lang: str) -> html.Div:
    """The field dictionary: declared columns first, then the other columns of the source."""
    try:
        stored = portal.registry.datasets[dataset].schema()
    except SourceError:
        stored = {}
    names = list(config.columns) + [c for c in stored if c not in config.columns]
    rows = []
    for name in names:
        spec = config.columns.get(name)
        rows.append(
            html.Tr(
                [
                    html.Th(html.Code(name), scope="row", id=f"champ-{name}"),
                    html.Td(config.label(name), lang="fr" if lang != "fr" else None),
                    html.Td((spec.type if spec and spec.type else stored.get(name)) or "—"),
                    html.Td((spec.unit if spec else None) or "—"),
                    html.Td((spec.description if spec else "") or "—", lang="fr" if lang != "fr" else None),
                ]
            )
        )
    headers = ("field_name", "field_label", "field_type", "field_unit", "field_meaning")
    table = html.Table(
        [
            html.Caption(t("dataset_fields", lang)),
            html.Thead(html.Tr([html.Th(t(k, lang), scope="col") for k in headers])),
            html.Tbody(rows),
        ],
        className="table table-sm align-top pilotis-fields",
    )
    return scroll_region(table, t("dataset_fields", lang))


def _cell(value: Any) -> str:
    """A stored value as text: a date without its midnight time, nothing for a missing value."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if hasattr(value, "hour") and hasattr(value, "date") and not (value.hour or value.minute or value.second):
        return str(value.date())
    return str(value)


def preview(portal: Portal, dataset: str, principal: Principal | None, lang: str) -> Any:
    """The first rows the viewer may read (their row rules applied), or why there are none."""
    config = portal.registry.datasets[dataset].config
    if config.sensitivity.personal_data and (principal is None or "admin" not in principal.roles):
        return html.P(t("preview_personal", lang), className="pilotis-preview-refused")
    scope = portal.scope(None, None, lang, principal=principal)
    columns = list(config.columns)
    try:
        columns = columns or list(portal.registry.datasets[dataset].schema())
        frame = scope.rows(dataset, columns, PREVIEW_ROWS)
    except RowsDenied:
        return html.P(t("preview_denied", lang), className="pilotis-preview-refused")
    except SourceError:
        return html.P(t("unavailable", lang))
    frame, secret = as_text(frame)  # statistical secrecy: small counts of a row shown « < 5 »
    table = html.Table(
        [
            html.Caption(t("preview_caption", lang, title=config.title)),
            html.Thead(html.Tr([html.Th(config.label(c), scope="col") for c in frame.columns])),
            html.Tbody(
                [html.Tr([html.Td("" if v is None else str(v)) for v in row]) for row in frame.itertuples(False)]
            ),
        ],
        className="table table-sm table-striped pilotis-preview",
    )
    region = scroll_region(table, t("preview_caption", lang, title=config.title))
    if secret:
        return [region, html.P(t("secret_note", lang, label=secret), className="pilotis-secret-note small text-muted")]
    return region


def dataset_card(portal: Portal, dataset: str, dashboards: list[Any], principal: Principal | None, lang: str) -> Any:
    """The dataset's page."""
    registry = portal.registry
    config = registry.datasets[dataset].config
    fr: dict[str, Any] = {"lang": "fr"} if lang != "fr" else {}
    rows: list[tuple[str, Any]] = []
    if config.producer:
        rows.append((t("producer", lang), html.Span(config.producer, **fr)))
    if config.licence:
        licence = html.A(config.licence, href=config.licence_url) if config.licence_url else config.licence
        rows.append((t("licence", lang), html.Span(licence, **fr)))
    rows.append((t("source_kind", lang), SOURCE_KINDS.get(config.type, (config.type, config.type))[lang != "fr"]))
    rows.append((t("update_rhythm", lang), html.Span(rhythm(portal, dataset, config, lang))))
    rows.append((t("state_col", lang), state_badge(portal, dataset, lang)))
    observed = coverage_text(portal, dataset, lang)
    declared = [x for x in (config.coverage.territory, config.coverage.period) if x] if config.coverage else []
    rows.append((t("declared_coverage", lang), html.Span(" — ".join([*declared, observed]), **fr)))
    sensitivity = config.sensitivity
    flags = [t(k, lang) for k in ("personal_data", "statistical_secrecy") if getattr(sensitivity, k)]
    note: list[Component | str] = [html.Br(), html.Span(sensitivity.note, **fr)] if sensitivity.note else []
    if (rule := rule_of(config)) is not None:  # the rule in words: what is masked, who sees exact counts
        roles = ", ".join(rule.exempt_roles) or "–"
        note += [html.Br(), t("secret_rule", lang, threshold=rule.threshold, label=rule.shown(), roles=roles)]
    rows.append((t("sensitivity", lang), html.Span([", ".join(flags) or t("not_sensitive", lang), *note])))
    referent = referent_parts(registry.referents, departed_accounts(portal), "dataset", dataset, lang)
    if referent is not None:
        rows.append((t("referent", lang), html.Span(referent)))
    if dashboards:
        links = [html.Li(html.A(d.spec.title, href=d.spec.url, **fr)) for d in dashboards]
        rows.append((t("used_on", lang), html.Ul(links, className="list-unstyled mb-0")))
    indicators = [
        i
        for i in registry.indicators.values()
        if dataset in datasets_of(portal, i) and can_view_indicator(principal, registry, i.id)
    ]
    if indicators:
        links = [html.Li(html.A(i.label, href=f"/indicateurs/{i.id}", **fr)) for i in indicators]
        rows.append((t("used_by_indicators", lang), html.Ul(links, className="list-unstyled mb-0")))
    title: list[Any] = [config.title]
    if config.simulated:
        title.append(html.Span(t("simulated", lang), className="badge pilotis-simulated ms-2"))
    return html.Article(
        [
            html.Nav(
                html.A(t("all_datasets", lang), href=PATH),
                className="small mb-2",
                **aria(label=t("breadcrumb", lang)),
            ),
            html.H1(title, className="h3 mb-1", **fr),
            html.P(dataset, className="small font-monospace"),
            html.P(config.description, **fr) if config.description else None,
            html.Dl(
                [part for label, value in rows for part in (html.Dt(label), html.Dd(value))],
                className="pilotis-dataset-card",
            ),
            html.H2(t("dataset_fields", lang), className="h5"),
            _fields(portal, dataset, config, lang),
            html.H2(t("preview", lang), className="h5 mt-3"),
            preview(portal, dataset, principal, lang),
        ],
        className="pilotis-dataset-page",
    )
