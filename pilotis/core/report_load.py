"""Loading ``config/reports/*.yaml`` (:mod:`pilotis.core.report_config`): schema validation, then
the references checked against the dashboards, their widgets, the indicators, the directions and
the territories — every problem reported as ``fichier:ligne:colonne`` with a hint, together with
the other configuration errors (``python -m pilotis check``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pilotis.core.errors import did_you_mean
from pilotis.core.report_config import ReportSpec
from pilotis.core.seance_config import Territories, resolve_territory
from pilotis.core.sources import DataSource

if TYPE_CHECKING:
    from pilotis.core.load_files import ConfigReader
    from pilotis.core.registry import Dashboard
    from pilotis.core.schema import PortalConfig
    from pilotis.core.yamlmarks import MarkedDocument


def load_reports(
    loader: ConfigReader,
    dashboards: dict[str, Dashboard],
    indicators: dict[str, Any],
    departments: dict[str, str],
    sources: dict[str, DataSource],
    portal: PortalConfig | None,
) -> dict[str, ReportSpec]:
    """Valid report specs of ``<config>/reports/*.yaml`` by id (territory names resolved to codes)."""
    territories = Territories(sources, portal)
    dep = portal.collectivite.code_departement if portal else ""
    result: dict[str, ReportSpec] = {}
    files = loader.spec_files(
        "reports", "un rapport", "commencez par `id: mon-rapport`, `title: …`, `audience:` puis `sections:`"
    )
    for path, doc in files:
        spec = loader.validate(ReportSpec, doc.data, doc)
        if spec is None:
            continue
        before = len(loader.issues)
        if spec.id != path.stem:
            loader.issues.append(
                doc.issue(("id",), f"`id: {spec.id}` différent du nom du fichier", f"écrivez `id: {path.stem}`")
            )
        _check_sections(loader, doc, spec, dashboards, indicators)
        _check_departments(loader, doc, spec, departments)
        territory = spec.filters.territory
        if territory is not None:
            resolved, hint = resolve_territory(territory, territories.index(), dep)
            if resolved is None:
                loader.issues.append(doc.issue(("filters", "territory"), f"territoire `{territory}` inconnu", hint))
            territory = resolved
        if len(loader.issues) == before:
            filters = spec.filters.model_copy(update={"territory": territory})
            result[spec.id] = spec.model_copy(update={"filters": filters})
    return result


def _check_sections(
    loader: ConfigReader,
    doc: MarkedDocument,
    spec: ReportSpec,
    dashboards: dict[str, Dashboard],
    indicators: dict[str, Any],
) -> None:
    for index, section in enumerate(spec.sections):
        loc: tuple = ("sections", index)
        for position, indicator in enumerate(section.indicators or []):
            if indicator not in indicators and indicator not in loader.failed_indicators:
                loader.issues.append(
                    doc.issue(
                        (*loc, "indicators", position),
                        f"indicateur `{indicator}` inconnu",
                        did_you_mean(indicator, indicators, "indicateurs") or "voir config/indicators/",
                    )
                )
        if section.dashboard is None:
            continue
        dashboard = loader.dashboard_named(doc, (*loc, "dashboard"), section.dashboard, dashboards)
        if dashboard is None:
            continue
        known = [w.id for w in dashboard.widgets]
        if section.widget not in known and section.widget not in loader.failed_widgets.get(dashboard.id, set()):
            loader.issues.append(
                doc.issue(
                    (*loc, "widget"),
                    f"widget `{section.widget}` absent du tableau de bord `{dashboard.id}`",
                    did_you_mean(section.widget or "", known, "widgets"),
                )
            )


def _check_departments(
    loader: ConfigReader, doc: MarkedDocument, spec: ReportSpec, departments: dict[str, str]
) -> None:
    groups: list[tuple[tuple, list[str]]] = [(("audience", "departments"), spec.audience.departments)]
    if spec.schedule is not None:
        groups.append((("schedule", "recipients", "departments"), spec.schedule.recipients.departments))
    for loc, names in groups:
        for index, name in enumerate(names):
            if departments and name not in departments:
                loader.issues.append(
                    doc.issue((*loc, index), f"direction `{name}` inconnue", did_you_mean(name, departments))
                )
