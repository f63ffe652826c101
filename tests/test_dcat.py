"""The catalogue in DCAT-AP 3 (/donnees.ttl): only the datasets marked `publishable`, valid
against the official DCAT-AP 3 SHACL shapes, nothing of the internal catalogue."""

from __future__ import annotations

import os
from pathlib import Path

import pyshacl
import pytest
import rdflib
from rdflib.namespace import DCAT, DCTERMS, RDF

from pilotis.core.dcat import catalogue_graph, publishable
from pilotis.core.settings import ROOT

SHAPES = Path(os.environ.get("PILOTIS_DCAT_AP_SHACL", ROOT / "tests" / "dcat" / "dcat-ap-3.0.0-SHACL.ttl"))


def _export(client) -> rdflib.Graph:  # type: ignore[no-untyped-def]
    response = client.get("/donnees.ttl")
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    return rdflib.Graph().parse(data=response.get_data(as_text=True), format="turtle")


def test_only_publishable_datasets_are_exported(client, portal) -> None:  # type: ignore[no-untyped-def]
    graph = _export(client)  # open without signing in: it is meant for open-data portals
    exported = {str(o) for o in graph.objects(None, DCTERMS.identifier)}
    assert exported == set(publishable(portal.registry)) == {"rsa_departements"}
    text = graph.serialize(format="turtle")
    assert "rsa_communes" not in text and "data/" not in text  # no other dataset, no source location
    dataset = next(graph.subjects(RDF.type, DCAT.Dataset))
    assert str(graph.value(dataset, DCTERMS.title)) == "Foyers allocataires du RSA par département (mensuel)"
    frequency = graph.value(dataset, DCTERMS.accrualPeriodicity)
    assert str(frequency) == "http://publications.europa.eu/resource/authority/frequency/MONTHLY"
    distribution = graph.value(dataset, DCAT.distribution)
    assert str(graph.value(distribution, DCTERMS.license)) == "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"


@pytest.mark.skipif(not SHAPES.exists(), reason=f"DCAT-AP 3 SHACL shapes absent ({SHAPES}): see tests/dcat/README.md")
def test_the_export_conforms_to_the_dcat_ap_3_shapes(client, portal) -> None:  # type: ignore[no-untyped-def]
    shapes = rdflib.Graph().parse(SHAPES)
    conforms, _, report = pyshacl.validate(_export(client), shacl_graph=shapes)
    assert conforms, report
    # The shapes do catch a broken export: a dataset without its title is refused.
    broken = catalogue_graph(portal.registry, "https://pilotis.example.org", set())
    broken.remove((None, DCTERMS.title, None))
    assert not pyshacl.validate(broken, shacl_graph=shapes)[0]
