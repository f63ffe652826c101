"""Every entry the portal's search can find, from the loaded configuration: dashboards,
indicators, datasets, each dataset's fields (its field dictionary) and the referents
(:mod:`pilotis.core.search` ranks them; the caller filters them by what the user may see)."""

from __future__ import annotations

from collections.abc import Iterator

from pilotis.core.referents import anchor
from pilotis.core.registry import Registry
from pilotis.core.search import Entry, SearchIndex
from pilotis.core.subjects import subject


def entries(registry: Registry) -> Iterator[Entry]:
    """The entries of ``registry``, each with the subject whose visibility decides it."""
    for dashboard in registry.ordered():
        spec = dashboard.spec
        yield Entry("dashboard", spec.id, spec.title, spec.description, spec.url, ("dashboard", spec.id))
    for indicator in registry.indicators.values():
        spec_i = indicator.spec
        text = f"{spec_i.definition} {indicator.theme}"
        yield Entry(
            "indicator",
            indicator.id,
            indicator.label,
            text,
            f"/indicateurs/{indicator.id}",
            ("indicator", indicator.id),
        )
    for dataset_id, source in registry.datasets.items():
        config = source.config
        text = " ".join([config.description, config.producer, config.licence, dataset_id])
        href = f"/donnees/{dataset_id}"
        yield Entry("dataset", dataset_id, config.title, text, href, ("dataset", dataset_id))
        for column, spec_c in config.columns.items():
            label = spec_c.label or column
            text = " ".join([column, spec_c.description, spec_c.unit or "", config.title])
            yield Entry(
                "field", f"{dataset_id}.{column}", label, text, f"{href}#champ-{column}", ("dataset", dataset_id)
            )
    for kind, ident, role in registry.referents.entries():
        about = subject(registry, kind, ident)
        for person in (role.holder, role.deputy):
            if person is None:
                continue
            service = registry.departments.get(person.service or "", "")
            yield Entry(
                "referent",
                f"{kind}:{ident}",
                person.name,
                f"{about.label} {service} {person.email or ''}",
                f"/referents#{anchor(kind, ident)}",
                (kind, ident),
                account=person.account,
                context=about.label,
            )


def build_index(registry: Registry) -> SearchIndex:
    """The search index of a loaded configuration (built once: the configuration never changes
    while the app runs)."""
    return SearchIndex(entries(registry))
