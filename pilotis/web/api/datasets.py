"""Datasets through the API: which ones a caller sees, their description, an aggregate query.

A caller sees the datasets of the data catalogue (``/donnees``:
:func:`pilotis.web.data_catalogue.visible_datasets`, the widgets they may see) whose rows can be
restricted to their territory (:func:`pilotis.core.access.row_filters` does not refuse). Every
other id — forbidden or missing — is the same 404. A query is one aggregate ``SELECT`` run where
the data is (:meth:`pilotis.core.scope.Scope.query`, the one filter builder: row rules, territory,
year, stocks read at their last period), never a dataset loaded in pandas.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pilotis.core.access import Principal, RowsDenied, row_filters
from pilotis.core.expressions import walk
from pilotis.core.measures import Agg, MeasureError, columns_of, parse_measure
from pilotis.core.query import PERIOD
from pilotis.core.schema import DatasetBase, DataWidgetBase
from pilotis.core.scope import Scope
from pilotis.core.territory import Territory
from pilotis.ui.portal import Portal
from pilotis.web.api import params
from pilotis.web.api.errors import NOT_FOUND, invalid
from pilotis.web.data_catalogue import visible_datasets


def visible(portal: Portal, principal: Principal) -> list[str]:
    """Ids of the datasets ``principal`` may query, in the catalogue's order."""
    found = []
    for dataset_id in visible_datasets(portal, principal):
        try:
            row_filters(principal, portal.registry.datasets[dataset_id].config, portal.territories, dataset_id)
        except RowsDenied:
            continue
        found.append(dataset_id)
    return found


def checked(portal: Portal, principal: Principal, dataset_id: str) -> DatasetBase:
    """The dataset's configuration, or the one 404 (forbidden and missing alike)."""
    if dataset_id not in visible(portal, principal):
        raise NOT_FOUND
    return portal.registry.datasets[dataset_id].config


def describe(dataset_id: str, config: DatasetBase) -> dict[str, Any]:
    """What the API says of a dataset (no source location: paths and URLs stay private)."""
    territory = config.territory
    return {
        "id": dataset_id,
        "title": config.title,
        "description": config.description,
        "producer": config.producer,
        "simulated": config.simulated,
        "columns": [
            {"name": name, "label": config.label(name), "type": spec.type, "unit": spec.unit}
            for name, spec in config.columns.items()
        ],
        "measures": dict(config.measures),
        "period": config.period.model_dump() if config.period else None,
        "territory_levels": [level for level, column in territory.model_dump().items() if column] if territory else [],
    }


def queryable_columns(portal: Portal, dataset_id: str, config: DatasetBase) -> dict[str, str]:
    """Columns a query may name → their type: the declared ones (all of the source when none is
    declared), as the source has them."""
    schema = portal.data.sources[dataset_id].schema()
    declared = set(config.columns) | {
        c for c in (config.territory.model_dump().values() if config.territory else ()) if c
    }
    if config.period:
        declared.add(config.period.column)
    names = [name for name in schema if not config.columns or name in declared]
    return {
        name: str(config.columns[name].type or schema[name]) if name in config.columns else str(schema[name])
        for name in names
    }


def _check_measures(measures: dict[str, str], config: DatasetBase, columns: dict[str, str]) -> None:
    """Known columns, and ``sum`` / ``avg`` of numeric ones only: checked here, because a query the
    database refuses would count as a failure of the source for every user (stale data for its
    ``retry`` delay), not as the caller's mistake."""
    for alias, text in measures.items():
        try:
            node = parse_measure(config.measures.get(text) or text)
        except MeasureError as exc:
            raise invalid("measure", f"mesure `{alias}` : {exc}") from None
        unknown = sorted(columns_of(node) - set(columns) - {"*"})
        if unknown:
            raise invalid("measure", f"mesure `{alias}` : colonne `{unknown[0][:60]}` inconnue de ce jeu de données")
        for agg in (n for n in walk(node) if isinstance(n, Agg)):
            if agg.func in ("sum", "avg") and not params.numeric(columns[agg.column]):
                raise invalid(
                    "measure", f"mesure `{alias}` : `{agg.func}` d'une colonne non numérique (`{agg.column}`)"
                )


def run_query(
    portal: Portal, principal: Principal, dataset_id: str, config: DatasetBase
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The dataset query of the current request: one page of rows and what it was computed for."""
    columns = queryable_columns(portal, dataset_id, config)
    measures = params.measures(config.measures)
    _check_measures(measures, config, columns)
    group_by = params.group_by(set(columns), config.period is not None)
    grain = params.grain()
    if grain is not None and PERIOD not in group_by:
        raise invalid("grain", "`grain` s'emploie avec `periode` dans `group_by`")
    extra = params.filters(columns) + params.dates(config.period.column if config.period else None)
    year = params.year()
    if year is not None and config.period is None:
        raise invalid("year", "ce jeu de données n'a pas de période")
    territory = params.territory(portal)
    limit, offset = params.page()
    if territory is not None and config.territory is None:
        raise invalid("territory", "ce jeu de données n'a pas de colonne de territoire")
    scope = portal_scope(portal, principal, territory, year)
    widget = DataWidgetBase(
        id="api", type="api", dataset=dataset_id, territory="filter" if territory is not None else "all"
    )
    options: dict[str, Any] = {"limit": limit + 1, "offset": offset or None}
    if grain is not None:
        options["grain"] = grain
    frame, exact = scope.query(widget, measures, group_by, extra=extra, **options)
    more = len(frame) > limit
    frame = frame.iloc[:limit]
    labels = {name: config.label(name) for name in group_by if name != PERIOD}
    labels.update({alias: alias for alias in measures})
    if PERIOD in group_by and config.period:
        labels[PERIOD] = config.label(config.period.column)
    frame.attrs["labels"] = labels
    meta = {
        "territory": scope.territory.value if territory is not None else (scope.scope.value if scope.scope else None),
        "year": year,
        "exact": exact,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if more else None,
    }
    return frame, meta


def portal_scope(
    portal: Portal, principal: Principal, territory: Territory | None, year: int | None, *, all_years: bool = True
) -> Scope:
    """The caller's scope (:meth:`Scope.for_principal`: territory clamped to their restriction,
    their row rules on every query); ``territory`` None: the département; ``year`` None: every
    period (``all_years``) or the latest."""
    chosen = territory or Territory("departement", portal.territories.departement_code)
    return Scope.for_principal(
        portal.registry, portal.data, portal.territories, principal, chosen, year, all_years=all_years
    )
