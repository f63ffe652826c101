"""Loading ``config/alerts/*.yaml`` (one rule per file, its id is the file name): the schema
(:class:`~pilotis.core.alert_rules.AlertRule`), then the references to datasets, columns,
measures, indicators, dashboards and directions — every problem as ``fichier:ligne:colonne`` with
a hint, together with the other configuration errors (``python -m pilotis check``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pilotis.core.alert_rules import AlertRule, Recipients
from pilotis.core.errors import did_you_mean
from pilotis.core.sources import DataSource

if TYPE_CHECKING:
    from pilotis.core.load_files import ConfigReader
    from pilotis.core.yamlmarks import MarkedDocument

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def load_alerts(
    reader: ConfigReader,
    sources: dict[str, DataSource],
    indicators: dict[str, Any],
    dashboards: dict[str, Any],
    departments: dict[str, str],
) -> dict[str, AlertRule]:
    """Every valid rule of ``config/alerts``, by id (problems go to ``reader.issues``)."""
    rules: dict[str, AlertRule] = {}
    for path, doc in reader.spec_files("alerts", "une règle d'alerte", "voir docs/alertes.md"):
        rule = _file(reader, path, doc, sources, indicators, dashboards, departments)
        if rule is not None:
            rules[rule.id] = rule
    return rules


def _file(
    reader: ConfigReader,
    path: Path,
    doc: MarkedDocument,
    sources: dict[str, DataSource],
    indicators: dict[str, Any],
    dashboards: dict[str, Any],
    departments: dict[str, str],
) -> AlertRule | None:
    if not _ID.match(path.stem):
        reader.issues.append(
            doc.issue(
                (), f"nom de fichier `{path.name}` : identifiant de règle invalide", "minuscules, chiffres, - et _"
            )
        )
        return None
    before = len(reader.issues)
    rule = reader.validate(AlertRule, doc.data, doc)
    if rule is None:
        return None
    rule = rule.model_copy(update={"id": path.stem})
    _references(reader, doc, rule, sources, indicators, dashboards, departments)
    return rule if len(reader.issues) == before else None


def _references(
    reader: ConfigReader,
    doc: MarkedDocument,
    rule: AlertRule,
    sources: dict[str, DataSource],
    indicators: dict[str, Any],
    dashboards: dict[str, Any],
    departments: dict[str, str],
) -> None:
    issue = reader.issues.append
    if rule.indicator is not None and rule.indicator not in indicators:
        if rule.indicator not in reader.failed_indicators:
            issue(
                doc.issue(
                    ("indicator",), f"indicateur `{rule.indicator}` inconnu", did_you_mean(rule.indicator, indicators)
                )
            )
    if rule.dataset is not None:
        if rule.dataset not in sources:
            if rule.dataset not in reader.failed:
                issue(
                    doc.issue(
                        ("dataset",), f"jeu de données `{rule.dataset}` inconnu", did_you_mean(rule.dataset, sources)
                    )
                )
        else:
            _columns(reader, doc, rule, sources[rule.dataset])
    if rule.dashboard is not None:
        reader.dashboard_named(doc, ("dashboard",), rule.dashboard, dashboards)
    groups: list[tuple[tuple[str, ...], Recipients]] = [(("recipients",), rule.recipients)]
    if rule.escalation is not None:
        groups.append((("escalation", "recipients"), rule.escalation.recipients))
    for loc, group in groups:
        for index, name in enumerate(group.departments):
            if departments and name not in departments:
                issue(
                    doc.issue(
                        (*loc, "departments", index), f"direction `{name}` inconnue", did_you_mean(name, departments)
                    )
                )


def _columns(reader: ConfigReader, doc: MarkedDocument, rule: AlertRule, source: DataSource) -> None:
    try:
        columns = reader.columns(source)
    except Exception:  # the dataset's own problem is reported with the dataset
        return
    named = source.config.measures
    reader.check_measure(rule.measure or "", columns, doc, ("measure",), named)
    for key in ("instance", "territory_column", "time_column"):
        column = getattr(rule, key)
        if column is not None and column not in columns:
            reader.issues.append(
                doc.issue(
                    (key,), f"colonne `{column}` absente du jeu de données", did_you_mean(column, columns, "colonnes")
                )
            )
    for column in rule.where:
        if column not in columns:
            reader.issues.append(
                doc.issue(
                    ("where", column), f"colonne `{column}` absente du jeu de données", did_you_mean(column, columns)
                )
            )
    if rule.window is not None and rule.time_column is None:
        reader.issues.append(doc.issue(("window",), "`window` sans `time_column`", "nommez la colonne horodatée"))
