"""The catalogue in DCAT-AP 3 (RDF, Turtle), for open-data portals to harvest: only the datasets
marked ``publishable: true``, described by what their YAML says (title, description, producer,
licence, promised update rhythm, coverage) and their referent's contact (a departed holder is
never given). Source locations are never exported: each dataset's only address is its page of
the catalogue. Checked against the DCAT-AP 3 SHACL shapes by ``tests/test_dcat.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pilotis.core.referents import Person
from pilotis.core.registry import Registry

if TYPE_CHECKING:
    from rdflib import Graph, URIRef

# rdflib is imported by the functions that draw the graph, not with this module: it took
# 0.16 s of every worker's start-up for an address harvesters read a few times a day.

EU = "http://publications.europa.eu/resource/authority/"
FREQUENCIES = {
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "yearly": "ANNUAL",
    "irregular": "IRREG",
}
"""Update rhythms → the EU « frequency » authority table."""
FRENCH = EU + "language/FRA"
VCARD = "http://www.w3.org/2006/vcard/ns#"


def publishable(registry: Registry) -> list[str]:
    """Ids of the datasets marked ``publishable: true``, sorted."""
    return sorted(i for i, source in registry.datasets.items() if source.config.publishable)


def catalogue_graph(registry: Registry, base_url: str, departed: set[str]) -> Graph:
    """The DCAT-AP graph of the publishable datasets; ``base_url`` is the portal's address
    (``https://pilotis.example.org``), ``departed`` the accounts that left (never a contact)."""
    from rdflib import Graph, Literal, Namespace, URIRef
    from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS

    base = base_url.rstrip("/")
    graph = Graph()
    namespaces = (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("vcard", Namespace(VCARD)), ("skos", SKOS))
    for prefix, namespace in namespaces:
        graph.bind(prefix, namespace)
    portal = registry.portal
    catalogue = URIRef(f"{base}/donnees.ttl#catalogue")
    publisher = URIRef(f"{base}/#editeur")
    graph.add((publisher, RDF.type, FOAF.Agent))
    graph.add((publisher, FOAF.name, Literal(portal.collectivite.nom, lang="fr")))
    graph.add((URIRef(FRENCH), RDF.type, DCTERMS.LinguisticSystem))
    home = URIRef(f"{base}/")
    graph.add((home, RDF.type, FOAF.Document))
    graph.add((catalogue, RDF.type, DCAT.Catalog))
    graph.add((catalogue, DCTERMS.title, Literal(f"{portal.title} — catalogue des données", lang="fr")))
    description = f"Jeux de données publiables du portail {portal.title} ({portal.collectivite.nom})."
    graph.add((catalogue, DCTERMS.description, Literal(description, lang="fr")))
    graph.add((catalogue, DCTERMS.publisher, publisher))
    graph.add((catalogue, DCTERMS.language, URIRef(FRENCH)))
    graph.add((catalogue, FOAF.homepage, home))
    for dataset_id in publishable(registry):
        graph.add((catalogue, DCAT.dataset, _dataset(graph, registry, base, dataset_id, departed)))
    return graph


def _dataset(graph: Graph, registry: Registry, base: str, dataset_id: str, departed: set[str]) -> URIRef:
    from rdflib import BNode, Literal, Namespace, URIRef
    from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS

    vcard = Namespace(VCARD)
    config = registry.datasets[dataset_id].config
    page = URIRef(f"{base}/donnees/{dataset_id}")
    node = URIRef(f"{page}#jeu")
    graph.add((page, RDF.type, FOAF.Document))
    graph.add((page, RDF.type, RDFS.Resource))  # the access address of its distribution (DCAT-AP range)
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.identifier, Literal(dataset_id)))
    graph.add((node, DCTERMS.title, Literal(config.title, lang="fr")))
    graph.add((node, DCTERMS.description, Literal(config.description or config.title, lang="fr")))
    graph.add((node, DCAT.landingPage, page))
    graph.add((node, DCTERMS.language, URIRef(FRENCH)))
    if config.producer:
        producer = BNode()
        graph.add((producer, RDF.type, FOAF.Agent))
        graph.add((producer, FOAF.name, Literal(config.producer, lang="fr")))
        graph.add((node, DCTERMS.creator, producer))
    if config.update is not None:
        frequency = URIRef(EU + "frequency/" + FREQUENCIES[config.update.frequency])
        graph.add((frequency, RDF.type, DCTERMS.Frequency))
        graph.add((node, DCTERMS.accrualPeriodicity, frequency))
    if config.coverage is not None and config.coverage.territory:
        place = BNode()
        graph.add((place, RDF.type, DCTERMS.Location))
        graph.add((place, SKOS.prefLabel, Literal(config.coverage.territory, lang="fr")))
        graph.add((node, DCTERMS.spatial, place))
    role = registry.referents.role("dataset", dataset_id)
    person: Person | None = None
    if role is not None:
        contact = registry.referents.contact(role, departed)
        person = contact.holder or contact.deputy
    if person is not None and person.email:
        point = BNode()
        graph.add((point, RDF.type, vcard.Kind))
        graph.add((point, vcard.fn, Literal(person.name)))
        graph.add((point, vcard.hasEmail, URIRef(f"mailto:{person.email}")))
        graph.add((node, DCAT.contactPoint, point))
    distribution = URIRef(f"{page}#distribution")
    graph.add((distribution, RDF.type, DCAT.Distribution))
    graph.add((distribution, DCAT.accessURL, page))
    graph.add((distribution, DCTERMS.title, Literal(config.title, lang="fr")))
    if config.licence_url:
        licence = URIRef(config.licence_url)
        graph.add((licence, RDF.type, DCTERMS.LicenseDocument))
        graph.add((licence, DCTERMS.title, Literal(config.licence or config.licence_url, lang="fr")))
        graph.add((distribution, DCTERMS.license, licence))
    graph.add((node, DCAT.distribution, distribution))
    return node
