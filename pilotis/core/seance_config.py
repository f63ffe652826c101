"""Loading `config/seances/*.yaml`: schema validation, then references checked against the
dashboards, their widgets, the territories and the years of the data — every problem reported
as ``fichier:ligne:colonne`` with a hint, together with the other configuration errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from pilotis.core.cache import TTLCache
from pilotis.core.data import DataService
from pilotis.core.errors import did_you_mean
from pilotis.core.seances import SeanceItem, SeanceSpec, territory_format_ok
from pilotis.core.sources import DataSource, SourceError
from pilotis.core.territory import TerritoryIndex

if TYPE_CHECKING:
    from pilotis.core.load_files import ConfigReader
    from pilotis.core.registry import Dashboard
    from pilotis.core.schema import PortalConfig
    from pilotis.core.yamlmarks import MarkedDocument


class Territories:
    """The territory reference, read once, only when a séance names a territory."""

    def __init__(self, sources: dict[str, DataSource], portal: PortalConfig | None) -> None:
        self.sources = sources
        self.portal = portal
        self._index: TerritoryIndex | None = None
        self._failed = False
        self._data: Any = None

    @property
    def data(self) -> Any:
        if self._data is None:
            self._data = DataService(self.sources, TTLCache())
        return self._data

    def index(self) -> TerritoryIndex | None:
        if self._index is None and not self._failed:
            portal = self.portal
            if portal is None or portal.communes_dataset not in self.sources:
                self._failed = True
                return None
            try:
                self._index = TerritoryIndex.of_portal(self.data, portal)
            except (SourceError, KeyError, AttributeError, ValueError):
                self._failed = True
        return self._index

    def years(self, dataset: str) -> list[int] | None:
        try:
            return list(self.data.years(dataset))
        except (SourceError, KeyError):
            return None


def resolve_territory(value: str, index: TerritoryIndex | None, dep: str) -> tuple[str | None, str]:
    """``(level:code, "")`` for a code or an exact name; ``(None, hint)`` when unknown."""
    if territory_format_ok(value):
        level, code = value.split(":", 1)
        if index is None:
            return value, ""
        known = (
            code == dep
            if level == "departement"
            else code in index.epcis
            if level == "epci"
            else code in index.communes
        )
        if known:
            return value, ""
        names = index.epcis if level == "epci" else index.communes if level == "commune" else {dep: dep}
        return None, did_you_mean(code, names, "codes possibles")
    if index is None:
        return (
            None,
            "écrivez `epci:<SIREN>` ou `commune:<code INSEE>` (référentiel des communes indisponible)",
        )
    wanted = value.casefold()
    for level, names in (("epci", index.epcis), ("commune", index.communes)):
        found = [code for code, name in names.items() if name.casefold() == wanted]
        if found:
            return f"{level}:{found[0]}", ""
    everything = list(index.epcis.values()) + list(index.communes.values())
    return None, did_you_mean(value, everything, "territoires possibles")


def load_seances(
    loader: ConfigReader,
    dashboards: dict[str, Dashboard],
    sources: dict[str, DataSource],
    portal: PortalConfig | None,
) -> dict[str, SeanceSpec]:
    """Validated séance specs of ``<config>/seances/*.yaml`` (territory names resolved to codes).

    ``loader`` is the configuration loader collecting issues.
    """
    territories = Territories(sources, portal)
    dep = portal.collectivite.code_departement if portal else ""
    result: dict[str, SeanceSpec] = {}
    files: dict[str, str] = {}
    for _path, doc in loader.spec_files(
        "seances", "une séance", "commencez par `id: ma_seance`, `title: …` puis `items:`"
    ):
        spec = loader.validate(SeanceSpec, doc.data, doc)
        if spec is None:  # still check the references of the items that are well formed
            raw = doc.data.get("items")
            items = [(i, _quiet(SeanceItem, r)) for i, r in enumerate(raw)] if isinstance(raw, list) else []
            _check_items(
                loader,
                doc,
                [(i, item) for i, item in items if item is not None],
                dashboards,
                territories,
                dep,
            )
            continue
        if spec.id in files:
            loader.issues.append(
                doc.issue(
                    ("id",),
                    f"séance `{spec.id}` déjà définie dans {files[spec.id]}",
                    "chaque séance a son propre `id`",
                )
            )
            continue
        checked = _check_items(loader, doc, list(enumerate(spec.items)), dashboards, territories, dep)
        if checked is not None:
            files[spec.id] = doc.path
            result[spec.id] = spec.model_copy(update={"items": checked})
    return result


def _quiet(model: type[BaseModel], data: Any) -> Any:
    """``data`` validated by ``model``, or None (its errors are already reported)."""
    try:
        return model.model_validate(data)
    except ValidationError:
        return None


def _check_items(
    loader: ConfigReader,
    doc: MarkedDocument,
    indexed: list[tuple[int, SeanceItem]],
    dashboards: dict[str, Dashboard],
    territories: Territories,
    dep: str,
) -> list[SeanceItem] | None:
    """The items with their territory names resolved to codes; None when one is wrong."""
    before = len(loader.issues)
    items = []
    for index, item in indexed:
        loc: tuple = ("items", index)
        dashboard = loader.dashboard_named(doc, (*loc, "dashboard"), item.dashboard, dashboards)
        if dashboard is None:
            continue  # reported (or its own file's errors are, and fail the load)
        known = [w.id for w in dashboard.widgets]
        failed = loader.failed_widgets.get(dashboard.id, set())
        for position, widget_id in enumerate(item.widgets or []):
            if widget_id in failed:
                continue  # reported where the widget is defined
            if widget_id not in known:
                loader.issues.append(
                    doc.issue(
                        (*loc, "widgets", position),
                        f"widget `{widget_id}` absent du tableau de bord `{dashboard.id}`",
                        did_you_mean(widget_id, known, "widgets") or "retirez ce widget de la liste",
                    )
                )
            elif (item.widgets or []).index(widget_id) != position:
                loader.issues.append(
                    doc.issue(
                        (*loc, "widgets", position),
                        f"widget `{widget_id}` en double",
                        "citez chaque widget une seule fois",
                    )
                )
        filters = item.filters
        spec_filters = dashboard.spec.filters
        territory = filters.territory
        if territory is not None:
            if spec_filters.territory is None:
                loader.issues.append(
                    doc.issue(
                        (*loc, "filters", "territory"),
                        f"le tableau de bord `{dashboard.id}` n'a pas de filtre territorial",
                        "retirez `territory` de ce point",
                    )
                )
            else:
                resolved, hint = resolve_territory(territory, territories.index(), dep)
                if resolved is None:
                    loader.issues.append(
                        doc.issue(
                            (*loc, "filters", "territory"),
                            f"territoire `{territory}` inconnu",
                            hint,
                        )
                    )
                territory = resolved
        if filters.period is not None:
            if spec_filters.period is None:
                loader.issues.append(
                    doc.issue(
                        (*loc, "filters", "period"),
                        f"le tableau de bord `{dashboard.id}` n'a pas de filtre de période",
                        "retirez `period` de ce point",
                    )
                )
            elif isinstance(filters.period, int):
                years = territories.years(spec_filters.period.dataset)
                if years is not None and filters.period not in years:
                    shown = ", ".join(str(y) for y in years[:8]) or "aucune"
                    loader.issues.append(
                        doc.issue(
                            (*loc, "filters", "period"),
                            f"année {filters.period} absente des données",
                            f"années disponibles : {shown} (ou `latest`, `all`)",
                        )
                    )
        items.append(item.model_copy(update={"filters": filters.model_copy(update={"territory": territory})}))
    return None if len(loader.issues) != before else items
