"""Indicator cards (« fiche indicateur », ``/indicateurs/<id>``) and their catalogue.

A card says what an indicator is, how it is computed, where its data comes from, how fresh it
is and whom to ask. It is a page (linkable, accessible, no modal to trap focus), reached from the
ⓘ link of every KPI showing the indicator. Access: :func:`pilotis.core.access.can_view_indicator` —
the indicator is visible to whoever may open a thematic dashboard showing it; otherwise HTTP 403
(the page route) or the « Accès refusé » content (in-app navigation). Unknown ids: 404.
"""

from __future__ import annotations

from typing import Any

import flask
from dash import html
from werkzeug.wrappers import Response as WerkzeugResponse

from pilotis.core.access import Principal, can_view, can_view_indicator
from pilotis.core.data import as_date
from pilotis.core.formatting import format_period, format_value
from pilotis.core.i18n import t
from pilotis.core.indicators import FREQUENCIES, Indicator, Ref
from pilotis.core.measures import BinOp, Num
from pilotis.core.sources import SourceError
from pilotis.ui import pages
from pilotis.ui.components import aria, scroll_region
from pilotis.ui.portal import Portal
from pilotis.ui.referent_links import referent_parts
from pilotis.web.enforce import audit, denied_page
from pilotis.web.referent_state import departed_accounts

PREFIX = "/indicateurs"
BETTER = {
    "up": ("une hausse est favorable", "an increase is favourable"),
    "down": ("une baisse est favorable", "a decrease is favourable"),
    "neutral": (
        "ni hausse ni baisse n'est en soi favorable",
        "neither direction is favourable in itself",
    ),
}


def indicator_id(path: str | None) -> str | None:
    """The id in ``/indicateurs/<id>`` (None for another path; ``""`` for the catalogue)."""
    if not path:
        return None
    clean = path.rstrip("/")
    if clean == PREFIX:
        return ""
    if clean.startswith(PREFIX + "/"):
        return clean[len(PREFIX) + 1 :]
    return None


def page_known(portal: Portal, path: str) -> bool:
    """True for the catalogue and the card of a declared indicator (HTTP 200 or 403, not 404)."""
    found = indicator_id(path)
    return found == "" or (found is not None and found in portal.registry.indicators)


def guard(portal: Portal, principal: Principal | None) -> WerkzeugResponse | None:
    """HTTP guard of ``/indicateurs/<id>`` (a signed-in user; anonymous ones go to /login first)."""
    found = indicator_id(flask.request.path)
    if not found or principal is None or found not in portal.registry.indicators:
        return None
    if can_view_indicator(principal, portal.registry, found):
        return None
    audit("access_denied", principal, f"page {flask.request.path}", f"indicateur {found}")
    return denied_page(portal)


def route(portal: Portal, pathname: str, principal: Principal | None, lang: str) -> tuple[Any, str]:
    """Page content and title for a path under ``/indicateurs``."""
    title = portal.registry.portal.title
    found = indicator_id(pathname)
    if found == "":
        return catalogue(portal, principal, lang), f"{t('indicators', lang)} — {title}"
    indicator = portal.registry.indicators.get(found or "")
    if indicator is None:
        return pages.not_found(lang), f"{t('not_found', lang)} — {title}"
    if not can_view_indicator(principal, portal.registry, indicator.id):
        audit("access_denied", principal, f"page {pathname}", f"indicateur {indicator.id}")
        return pages.denied(lang), f"{t('denied', lang)} — {title}"
    audit("page_view", principal, f"page {pathname}", f"indicateur {indicator.id}")
    return card(portal, indicator, principal, lang), f"{indicator.label} — {title}"


# --------------------------------------------------------------------------- the card


def _formula_parts(expr: Any, portal: Portal, principal: Principal | None) -> list[Any]:
    """A formula as text with a link to each indicator the reader may see."""
    if isinstance(expr, Num):
        value = expr.value
        return [format_value(value, decimals=0 if value == int(value) else 2)]
    if isinstance(expr, Ref):
        other = portal.registry.indicators.get(expr.id)
        if other is not None and can_view_indicator(principal, portal.registry, expr.id):
            return [html.A(other.label, href=f"{PREFIX}/{expr.id}")]
        return [other.label if other else expr.id]
    assert isinstance(expr, BinOp)
    symbol = {"*": "×", "/": "÷", "+": "+", "-": "−"}[expr.op]
    left, right = (
        _formula_parts(expr.left, portal, principal),
        _formula_parts(expr.right, portal, principal),
    )
    if isinstance(expr.right, BinOp) and expr.op in "-/":
        right = ["(", *right, ")"]
    return [*left, f" {symbol} ", *right]


def _colon(lang: str) -> str:
    """« : » with its space before in French only (French spacing rules apply to French only)."""
    return " : " if lang == "fr" else ": "


def _semicolon(lang: str) -> str:
    return " ; " if lang == "fr" else "; "


def _freshness(portal: Portal, indicator: Indicator, lang: str) -> str:
    """The last period with data, per source dataset."""
    parts = []
    for dataset_id in datasets_of(portal, indicator):
        config = portal.registry.datasets[dataset_id].config
        if config.period is None:
            continue
        try:
            bounds = portal.data.period_bounds(dataset_id)
        except SourceError:
            parts.append(f"{config.title}{_colon(lang)}{t('unavailable', lang)}")
            continue
        if bounds:
            last = format_period(as_date(bounds[1]), config.period.grain, lang)
            parts.append(f"{last} ({config.title})")
    return _semicolon(lang).join(parts) or "—"


def datasets_of(portal: Portal, indicator: Indicator) -> list[str]:
    """The datasets an indicator reads (its own first, then those of its formula)."""
    found: list[str] = []
    for ref in sorted(indicator.requires, key=lambda r: (r != indicator.id, r)):
        spec = portal.registry.indicators[ref].spec
        if spec.dataset and spec.dataset not in found:
            found.append(spec.dataset)
    return found


def _french(lang: str) -> dict[str, Any]:
    """``lang="fr"`` for content written in YAML (French) inside a page shown in another language."""
    return {"lang": "fr"} if lang != "fr" else {}


def card(portal: Portal, indicator: Indicator, principal: Principal | None, lang: str) -> html.Article:
    """The indicator's card."""
    fr = _french(lang)
    spec = indicator.spec
    registry = portal.registry
    rows: list[tuple[str, Any]] = []
    if indicator.formula is not None:
        rows.append((t("formula", lang), html.Span(_formula_parts(indicator.formula, portal, principal))))
    else:
        dataset = registry.datasets[spec.dataset].config  # type: ignore[index]
        where = ", ".join(f"{k} = {v}" for k, v in spec.where.items())
        text = f"{spec.measure} — « {dataset.title} »" + (f" ({t('where', lang)} {where})" if where else "")
        rows.append((t("measure", lang), html.Code(text)))
    unit = {"euro": "€", "percent": "%"}.get(spec.format, spec.unit) or "—"
    rows.append((t("unit", lang), unit))
    rows.append((t("better", lang), BETTER[spec.better][0 if lang == "fr" else 1]))
    sources: list[Any] = []
    for dataset_id in datasets_of(portal, indicator):
        config = registry.datasets[dataset_id].config
        item: list[Any] = [
            html.Strong(config.title, **fr),
            html.Span(f" — {config.producer}", **fr) if config.producer else "",
        ]
        if config.simulated:
            item.append(html.Span(t("simulated", lang), className="badge pilotis-simulated ms-2"))
        sources.append(html.Li(item))
    rows.append((t("source", lang), html.Ul(sources, className="list-unstyled mb-0")))
    if spec.department:
        rows.append(
            (
                t("producer_department", lang),
                html.Span(registry.departments.get(spec.department, spec.department), **fr),
            )
        )
    # The most specific contact: the indicator's role in the directory (config/referents.yaml),
    # its own `referent:`, then its theme's role.
    directory, departed = registry.referents, departed_accounts(portal)
    listed = referent_parts(directory, departed, "indicator", indicator.id, lang)
    if listed is None and spec.referent is None:
        listed = referent_parts(directory, departed, "theme", indicator.theme, lang)
    if listed is not None:
        rows.append((t("referent", lang), html.Span(listed)))
    elif spec.referent is not None:
        contact: list[Any] = [spec.referent.name]
        if spec.referent.email:
            contact += [" — ", html.A(spec.referent.email, href=f"mailto:{spec.referent.email}")]
        if spec.referent.phone:
            contact.append(f" — {spec.referent.phone}")
        rows.append((t("referent", lang), html.Span(contact)))
    if spec.frequency:
        rows.append((t("frequency", lang), FREQUENCIES[spec.frequency][0 if lang == "fr" else 1]))
    rows.append((t("last_period", lang), _freshness(portal, indicator, lang)))
    if spec.target is not None:
        target = spec.target
        if target.value is not None:
            text = format_value(target.value, spec.format, spec.decimals, spec.unit, lang)
            text += f" ({target.year})" if target.year else ""
        else:
            text = t("target_by_year", lang, dataset=registry.datasets[target.dataset].config.title)  # type: ignore[index]
        rows.append((t("target", lang), [text, html.Span(f" — {target.label}", **fr) if target.label else ""]))
    if spec.thresholds is not None:
        parts = []
        for key in ("warning", "alert"):
            value = getattr(spec.thresholds, key)
            if value is not None:
                parts.append(
                    f"{t('status_' + key, lang)}{_colon(lang)}"
                    f"{format_value(value, spec.format, spec.decimals, spec.unit, lang)}"
                )
        rows.append((t("thresholds", lang), _semicolon(lang).join(parts)))
    shown = [
        registry.dashboards[d]
        for d in registry.indicator_dashboards.get(indicator.id, ())
        if d in registry.dashboards and can_view(principal, registry.dashboards[d].spec)
    ]
    if shown:
        rows.append(
            (
                t("shown_on", lang),
                html.Ul(
                    [html.Li(html.A(d.spec.title, href=d.spec.url, **fr)) for d in shown],
                    className="list-unstyled mb-0",
                ),
            )
        )
    used_by = [
        i
        for i in registry.indicators.values()
        if i.id != indicator.id and indicator.id in i.requires and can_view_indicator(principal, registry, i.id)
    ]
    if used_by:
        rows.append(
            (
                t("used_by", lang),
                html.Ul(
                    [html.Li(html.A(i.label, href=f"{PREFIX}/{i.id}", **fr)) for i in used_by],
                    className="list-unstyled mb-0",
                ),
            )
        )
    details = html.Dl(
        [part for label, value in rows for part in (html.Dt(label), html.Dd(value))],
        className="pilotis-indicator-card",
    )
    return html.Article(
        [
            html.Nav(
                html.A(
                    [
                        html.I(className="bi bi-arrow-left me-1", **aria(hidden="true")),
                        t("all_indicators", lang),
                    ],
                    href=PREFIX,
                ),
                className="small mb-2",
                **aria(label=t("breadcrumb", lang)),
            ),
            html.H1(
                [
                    html.I(className="bi bi-info-circle me-2", **aria(hidden="true")),
                    indicator.label,
                ],
                className="h3 mb-1",
                **fr,
            ),
            html.P(
                [t("indicator_id", lang), " ", html.Code(indicator.id)],
                className="text-muted small",
            ),
            html.H2(t("definition", lang), className="h5"),
            html.P(spec.definition, className="pilotis-indicator-definition", **fr),
            html.H2(t("how_computed", lang), className="h5"),
            details,
        ],
        className="pilotis-indicator-page",
    )


def catalogue(portal: Portal, principal: Principal | None, lang: str) -> html.Div:
    """Every indicator the user may see, by theme, with its referent (a referents directory)."""
    registry = portal.registry
    fr = _french(lang)
    visible = [i for i in registry.indicators.values() if can_view_indicator(principal, registry, i.id)]
    themes: dict[str, list[Indicator]] = {}
    for indicator in sorted(visible, key=lambda i: (i.theme, i.label)):
        themes.setdefault(indicator.theme, []).append(indicator)
    sections: list[Any] = []
    for theme, items in themes.items():
        rows = []
        for indicator in items:
            referent = indicator.spec.referent
            rows.append(
                html.Tr(
                    [
                        html.Th(html.A(indicator.label, href=f"{PREFIX}/{indicator.id}", **fr), scope="row"),
                        html.Td(indicator.spec.definition, **fr),
                        html.Td(
                            registry.departments.get(indicator.spec.department or "", indicator.spec.department or "—"),
                            **fr,
                        ),
                        html.Td(
                            (
                                [referent.name]
                                + (
                                    [
                                        html.Br(),
                                        html.A(referent.email, href=f"mailto:{referent.email}"),
                                    ]
                                    if referent.email
                                    else []
                                )
                            )
                            if referent
                            else "—"
                        ),
                    ]
                )
            )
        table = html.Table(
            [
                html.Caption(t("theme_caption", lang, theme=theme)),
                html.Thead(
                    html.Tr(
                        [
                            html.Th(t(k, lang), scope="col")
                            for k in (
                                "indicator_col",
                                "definition",
                                "producer_department",
                                "referent",
                            )
                        ]
                    )
                ),
                html.Tbody(rows),
            ],
            className="table table-sm align-top",
        )
        scroller = scroll_region(table, t("theme_caption", lang, theme=theme))
        sections.append(
            html.Section(
                [html.H2(theme.capitalize(), className="h5 mt-3", **fr), scroller],
                **aria(label=theme),
            )
        )
    if not sections:
        sections.append(html.P(t("no_indicator", lang)))
    return html.Div(
        [
            html.H1(t("indicators", lang), className="h3"),
            html.P(t("indicators_intro", lang), className="lead"),
            *sections,
        ],
        className="pilotis-indicator-catalogue",
    )
