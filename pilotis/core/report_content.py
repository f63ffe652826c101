"""What a report says, computed without drawing: each section's figures for one principal, one
territory and one year, through the same scope as the pages (:class:`pilotis.core.scope.Scope`:
territory clamped to the principal's restriction, their row rules in every query).

Widgets give their data through ``WidgetType.data(widget, ctx)`` (the exports' and the API's
path), indicators through :class:`pilotis.core.evaluator.Evaluator` (the KPI cards' engine). The
caller decided first that the principal may see the report (:func:`pilotis.core.access.can_view_report`)
or, for a dashboard's PDF, each widget (:func:`~pilotis.core.access.can_view_widget`).
:mod:`pilotis.core.report_pdf` turns the result into a PDF.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from markdown_it import MarkdownIt

from pilotis.core.access import Principal, RowsDenied
from pilotis.core.evaluator import Evaluator
from pilotis.core.exports import BadExportRequest, table, widget_datasets
from pilotis.core.formatting import format_number, format_period, format_value
from pilotis.core.i18n import TEXTS, t
from pilotis.core.registry import Dashboard, Registry
from pilotis.core.report_config import ReportSection, ReportSpec
from pilotis.core.report_svg import bar_chart, line_chart
from pilotis.core.schema import AccessRule, DataWidgetBase
from pilotis.core.scope import Scope
from pilotis.core.secrecy import SECRET, as_text
from pilotis.core.sources import SourceError
from pilotis.core.territory import Territory, TerritoryIndex
from pilotis.core.widgets import WIDGET_TYPES, RenderContext

CHARTS = {"line": "line", "area": "line", "bar": "bar", "stacked_bar": "bar", "pie": "bar"}
"""Widget types drawn as a chart (then their table); every other type is a table."""
_MARKDOWN = MarkdownIt("commonmark", {"html": False})


@dataclass
class SectionContent:
    """One section as the PDF shows it."""

    title: str
    html: str = ""
    """Free text, as HTML (from Markdown; raw HTML is not allowed in it)."""
    svg: str = ""
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    numeric: list[bool] = field(default_factory=list)
    """Which columns hold numbers (right-aligned)."""
    notes: list[str] = field(default_factory=list)


@dataclass
class ReportContent:
    """Everything the PDF prints."""

    title: str
    description: str
    territory: str
    period: str
    user: str
    generated: dt.datetime
    sections: list[SectionContent]
    data_date: dt.date | None = None
    sources: list[str] = field(default_factory=list)
    simulated: bool = False


@dataclass(frozen=True)
class Filters:
    """The territory and year a report is computed for (checked by :func:`read_filters`)."""

    territory: Territory
    year: int | None


def report_years(spec: ReportSpec, registry: Registry, data: Any) -> list[int]:
    """The years the report may be asked for, latest first: those of its first dashboard's period
    filter, else of its first indicator's dataset."""
    candidates = [
        d.spec.filters.period.dataset
        for d in (registry.dashboards[i] for i in spec.dashboards() if i in registry.dashboards)
        if d.spec.filters.period is not None
    ]
    candidates += [registry.indicators[i].spec.dataset or "" for i in spec.indicator_ids() if i in registry.indicators]
    for dataset in candidates:
        if dataset in registry.datasets and registry.datasets[dataset].config.period is not None:
            try:
                return sorted(data.years(dataset), reverse=True)
            except SourceError:
                return []
    return []


def read_filters(
    spec: ReportSpec, registry: Registry, data: Any, index: TerritoryIndex, territory: str | None, period: str | None
) -> Filters:
    """The report's filters from ``territoire`` and ``periode`` (defaults: the report's), or
    :class:`~pilotis.core.exports.BadExportRequest` naming the parameter in French."""
    dep = registry.portal.collectivite.code_departement
    written = territory or spec.filters.territory or f"departement:{dep}"
    chosen = Territory.parse(written, dep)
    if chosen.value != written or not index.is_known(chosen):
        raise BadExportRequest("territoire", t("reports_bad_territory", value=written[:60]))
    years = report_years(spec, registry, data)
    wanted = period or str(spec.filters.period)
    if wanted == "latest":
        return Filters(chosen, years[0] if years else None)
    if wanted.isdigit() and int(wanted) in years:
        return Filters(chosen, int(wanted))
    listed = ", ".join(str(y) for y in years) or "—"
    raise BadExportRequest("periode", t("reports_bad_period", value=wanted[:60], years=listed))


def dashboard_report(dashboard: Dashboard) -> ReportSpec:
    """A dashboard as a report: one section per widget with data, texts as free text."""
    sections = []
    for widget in dashboard.widgets:
        text = getattr(widget, "text", None)
        if widget.type == "markdown" and isinstance(text, str):
            sections.append(ReportSection(title=widget.title or widget.id, text=text))
        elif widget.type in WIDGET_TYPES and not WIDGET_TYPES[widget.type].is_static(widget):
            sections.append(ReportSection(title=widget.title, dashboard=dashboard.id, widget=widget.id))
    return ReportSpec(
        id=dashboard.id,
        title=dashboard.spec.title,
        description=dashboard.spec.description or "",
        audience=AccessRule(),
        sections=sections or [ReportSection(text=dashboard.spec.title)],
    )


def compute(
    spec: ReportSpec,
    registry: Registry,
    data: Any,
    index: TerritoryIndex,
    principal: Principal | None,
    filters: Filters,
    *,
    lang: str = "fr",
    now: dt.datetime | None = None,
    controls: dict[str, dict[str, str]] | None = None,
) -> ReportContent:
    """Every section of ``spec`` for ``principal`` (see the module docstring). ``controls``: the
    values of widgets' own controls (a dashboard's PDF: what its page shows), by widget id."""
    scope = Scope.for_principal(registry, data, index, principal, filters.territory, filters.year, lang=lang)
    datasets: dict[str, Any] = {}
    sections: list[SectionContent] = []
    for number, section in enumerate(spec.sections):
        if section.kind == "text":
            sections.append(SectionContent(section.title or "", html=_MARKDOWN.render(section.text or "")))
        elif section.kind == "indicators":
            sections.append(_indicators(section, scope, datasets))
        else:
            own = (controls or {}).get(section.widget or "", {})
            sections.append(_widget(section, scope, datasets, f"chart{number}", own))
    dates = []
    for dataset_id in datasets:
        try:
            bounds = data.period_bounds(dataset_id)
        except SourceError:
            bounds = None
        if bounds is not None:
            dates.append(bounds[1])
    configs = [registry.datasets[d].config for d in datasets if d in registry.datasets]
    return ReportContent(
        title=spec.title,
        description=spec.description,
        territory=scope.territory_name(),
        period=str(filters.year) if filters.year else t("report_latest", lang),
        user=principal.username if principal else "",
        generated=now or dt.datetime.now(dt.UTC),
        sections=sections,
        data_date=max(dates) if dates else None,
        sources=list(dict.fromkeys(c.title for c in configs if c.title)),
        simulated=any(c.simulated for c in configs),
    )


def _indicators(section: ReportSection, scope: Scope, datasets: dict[str, Any]) -> SectionContent:
    lang = scope.lang
    content = SectionContent(
        section.title or t("report_key_figures", lang),
        headers=[
            t(k, lang) for k in ("report_indicator", "report_value", "report_at", "report_year_before", "report_change")
        ],
        numeric=[False, True, False, True, True],
    )
    for indicator_id in section.indicators or []:
        indicator = scope.registry.indicators[indicator_id]
        spec = indicator.spec
        for part in sorted(indicator.requires):
            dataset = scope.registry.indicators[part].spec.dataset if part in scope.registry.indicators else None
            if dataset:
                datasets[dataset] = True
        try:
            result = Evaluator(scope, indicator).result(("previous_year",))
        except RowsDenied:
            content.rows.append([spec.label, "–", "", "", ""])
            content.notes.append(f"{spec.label} : {t('report_out_of_scope', lang)}")
            continue
        except SourceError:
            content.rows.append([spec.label, "–", "", "", ""])
            content.notes.append(f"{spec.label} : {t('report_source_failed', lang)}")
            continue
        shown = result.secret or format_value(result.value, spec.format, spec.decimals, spec.unit, lang)
        if result.secret:  # statistical secrecy: « < 5 », never the value
            content.notes.append(f"{spec.label} : {t('secret_note', lang, label=result.secret)}")
        previous = next((c for c in result.comparisons if c.kind == "previous_year"), None)
        before, change = "", ""
        if previous is not None and previous.reference is not None:
            before = format_value(previous.reference, spec.format, spec.decimals, spec.unit, lang)
            if result.value is not None and previous.reference:
                ratio = (result.value - previous.reference) / abs(previous.reference) * 100
                change = ("+" if ratio > 0 else "") + format_number(ratio, 1, lang) + "\u202f%"
        at = format_period(result.end, result.grain, lang) if result.end else ""
        content.rows.append([spec.label, shown, at, before, change])
        if not result.exact:
            content.notes.append(f"{spec.label} : {t('report_not_exact', lang)}")
    return content


def _cell(value: Any, grain: str, lang: str) -> tuple[str, bool]:
    """A cell as text, and whether it is a number."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return "–", False
    if isinstance(value, bool):
        return str(value), False
    if isinstance(value, int | float):
        return format_number(value, 0 if float(value).is_integer() else 1, lang), True
    if isinstance(value, dt.date):
        return format_period(value if not isinstance(value, pd.Timestamp) else value.date(), grain, lang), False
    return str(value), False


def _widget(
    section: ReportSection, scope: Scope, datasets: dict[str, Any], ident: str, controls: dict[str, str]
) -> SectionContent:
    lang = scope.lang
    dashboard = scope.registry.dashboards[section.dashboard or ""]
    widget = dashboard.widget(section.widget or "")
    content = SectionContent(section.title or widget.title or widget.id)
    for dataset_id in widget_datasets(scope.registry, widget):
        datasets[dataset_id] = True
    ctx = RenderContext.of(scope, dashboard)
    ctx.all_years = False  # a report is computed for one year (the latest when none is chosen)
    ctx.controls = dict(controls)  # this widget's own (the scope's dict is shared by every section)
    try:
        frame = WIDGET_TYPES[widget.type].data(widget, ctx)
    except RowsDenied:
        content.notes.append(t("report_out_of_scope", lang))
        return content
    except SourceError:
        content.notes.append(t("report_source_failed", lang))
        return content
    if frame.empty:
        content.notes.append(t("report_no_data", lang))
        return content
    if not frame.attrs.get("exact", True):
        content.notes.append(t("report_not_exact", lang))
    grain = "month"
    if isinstance(widget, DataWidgetBase) and widget.dataset in scope.registry.datasets:
        period = scope.registry.datasets[widget.dataset].config.period
        grain = period.grain if period else "day"
    if "element" in frame.columns:  # a KPI: its comparison lines, named in words
        frame = frame.assign(
            element=[t(f"report_el_{v}", lang) if f"report_el_{v}" in TEXTS else v for v in frame["element"]]
        )
    numbers = frame.drop(columns=[SECRET], errors="ignore")  # the chart: masked cells are gaps
    frame, secret = as_text(frame)  # the table: masked cells « < 5 », the mask column dropped
    if secret:
        content.notes.append(t("secret_note", lang, label=secret))
    shaped = table(frame, [])
    content.headers = list(shaped.headers)
    cells = [[_cell(v, grain, lang) for v in row] for row in frame.itertuples(index=False)]
    content.rows = [[text for text, _ in row] for row in cells]
    content.numeric = [any(row[i][1] for row in cells) for i in range(len(content.headers))]
    kind = CHARTS.get(widget.type)
    if kind and numbers.shape[1] == 2 and pd.api.types.is_numeric_dtype(numbers.iloc[:, 1]):
        labels = [row[0] for row in content.rows]
        values = [float(v) if v == v else float("nan") for v in numbers.iloc[:, 1]]
        present = [v for v in values if v == v]
        desc = t(
            "report_chart_desc",
            lang,
            kind=t("report_line" if kind == "line" else "report_bars", lang),
            count=len(values),
            low=format_number(min(present, default=0), 0, lang),
            high=format_number(max(present, default=0), 0, lang),
        )
        draw = line_chart if kind == "line" else bar_chart
        content.svg = draw(labels, values, title=content.title, desc=desc, ident=ident, lang=lang)
    return content
