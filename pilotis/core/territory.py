"""The territory reference (communes, EPCI) and how a territory choice filters a dataset."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pilotis.core.measures import Agg
from pilotis.core.query import Filter, Query
from pilotis.core.schema import DatasetBase, PortalConfig


@dataclass(frozen=True)
class Territory:
    """A selected territory: ``level`` is ``departement``, ``epci`` or ``commune``."""

    level: str
    code: str

    @classmethod
    def parse(cls, value: str | None, default_code: str) -> Territory:
        """Read ``"epci:200083392"``; anything unreadable means the whole département."""
        if value and ":" in value:
            level, code = value.split(":", 1)
            if level in ("departement", "epci", "commune") and code:
                return cls(level, code)
        return cls("departement", default_code)

    @property
    def value(self) -> str:
        """The filter widget value for this territory."""
        return f"{self.level}:{self.code}"


@dataclass
class TerritoryIndex:
    """Names and membership of communes and EPCI (a few hundred rows, held per process)."""

    communes: dict[str, str] = field(default_factory=dict)
    commune_epci: dict[str, str] = field(default_factory=dict)
    population: dict[str, int] = field(default_factory=dict)
    epcis: dict[str, str] = field(default_factory=dict)
    departement_code: str = ""
    departement_name: str = ""

    @classmethod
    def load(cls, data, communes_dataset: str, dep_code: str, dep_name: str) -> TerritoryIndex:
        """Read the commune reference table through the data service (lookup, not facts)."""
        frame = data.query(
            Query(
                dataset=communes_dataset,
                measures=(("population", Agg("sum", "population")),),
                group_by=("code_insee", "nom", "epci_siren", "epci_nom"),
                order_by=(("nom", False),),
            )
        )
        index = cls(departement_code=dep_code, departement_name=dep_name)
        for row in frame.itertuples(index=False):
            index.communes[str(row.code_insee)] = str(row.nom)
            index.commune_epci[str(row.code_insee)] = str(row.epci_siren)
            index.population[str(row.code_insee)] = int(row.population)
            index.epcis[str(row.epci_siren)] = str(row.epci_nom)
        index.epcis = dict(sorted(index.epcis.items(), key=lambda kv: kv[1]))
        return index

    @classmethod
    def of_portal(cls, data: Any, portal: PortalConfig) -> TerritoryIndex:
        """The portal's reference (``communes_dataset``), the département named as pages show it
        (« Mayenne » for « Département de la Mayenne »): pages, reports, alerts and commands alike."""
        name = portal.collectivite.nom.removeprefix("Département de la ").removeprefix("Département de ")
        return cls.load(data, portal.communes_dataset, portal.collectivite.code_departement, name)

    def name(self, territory: Territory) -> str:
        """The display name of a territory."""
        if territory.level == "commune":
            return self.communes.get(territory.code, territory.code)
        if territory.level == "epci":
            return self.epcis.get(territory.code, territory.code)
        return self.departement_name

    def communes_of(self, epci: str) -> tuple[str, ...]:
        """INSEE codes of the communes of an EPCI (sorted)."""
        return tuple(sorted(c for c, e in self.commune_epci.items() if e == epci))

    def population_of(self, territory: Territory) -> int:
        """Legal population of a territory (for an EPCI: its communes in the département)."""
        if territory.level == "commune":
            return self.population.get(territory.code, 0)
        if territory.level == "epci":
            return sum(self.population.get(c, 0) for c in self.communes_of(territory.code))
        return sum(self.population.values())

    def is_known(self, territory: Territory) -> bool:
        """True for the département, a known EPCI or a known commune."""
        if territory.level == "commune":
            return territory.code in self.communes
        if territory.level == "epci":
            return territory.code in self.epcis
        return territory.code == self.departement_code


def territory_filters(
    dataset: DatasetBase, territory: Territory, index: TerritoryIndex
) -> tuple[tuple[Filter, ...], bool]:
    """Conditions restricting ``dataset`` to ``territory``.

    Returns the filters and whether the dataset could be cut at that level (``False`` when,
    for instance, the data only exists for the whole département).
    """
    cols = dataset.territory
    if cols is None:
        return (), territory.level == "departement"
    if territory.level == "commune":
        if cols.commune:
            return (Filter(cols.commune, "=", territory.code),), True
    elif territory.level == "epci":
        if cols.epci:
            return (Filter(cols.epci, "=", territory.code),), True
        if cols.commune:
            return (Filter(cols.commune, "in", index.communes_of(territory.code)),), True
    if cols.departement:
        return (Filter(cols.departement, "=", index.departement_code),), (territory.level == "departement")
    return (), territory.level == "departement"
