"""The org chart (`config/departments.yaml`): file:line errors, references from dashboards."""

from __future__ import annotations

from pathlib import Path

import pytest

from pilotis.core.errors import ConfigError
from pilotis.core.loader import load_departments, load_registry
from pilotis.core.settings import ROOT
from tests.test_config_errors import Project

DEPARTMENTS = "config/departments.yaml"


def messages(project: Project) -> list[tuple[str, int, str, str]]:
    return [(project.rel(i), i.line, i.message, i.hint) for i in project.issues()]


def test_shipped_org_chart() -> None:
    departments = load_departments(ROOT / "config")
    assert departments["solidarites"] == "Direction des solidarités"
    assert {"direction-generale", "finances", "rh", "numerique"} <= set(departments)
    registry = load_registry(ROOT)
    assert registry.departments == departments


def test_bad_entries_are_reported_at_their_line(tmp_path: Path) -> None:
    project = Project(tmp_path)
    text = project.text(DEPARTMENTS)
    project.write(DEPARTMENTS, text + "Culture: Direction de la culture\nsport:\n")
    found = messages(project)
    culture = project.locate(DEPARTMENTS, "Culture:")[0]
    sport = project.locate(DEPARTMENTS, "sport:")[0]
    assert (
        DEPARTMENTS,
        culture,
        "identifiant de direction `Culture` invalide",
        "lettres minuscules sans accent, chiffres, `_` ou `-`",
    ) in found
    assert any(f[:3] == (DEPARTMENTS, sport, "direction `sport` : le libellé doit être un texte") for f in found)
    assert len(found) == 2  # no cascade of « direction inconnue » in the dashboards


def test_dashboards_must_name_known_departments(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.edit("dashboards/rsa.yaml", "departments: [solidarites]", "departments: [solidarite]")
    project.edit("dashboards/rsa.yaml", "department: solidarites", "department: social")
    found = messages(project)
    line = project.locate("dashboards/rsa.yaml", "departments: [solidarite]")[0]
    assert (
        "dashboards/rsa.yaml",
        line,
        "direction `solidarite` inconnue",
        "vouliez-vous dire `solidarites` ?",
    ) in found
    assert any(f[2] == "direction `social` inconnue" for f in found)


def test_a_missing_org_chart_makes_references_errors(tmp_path: Path) -> None:
    project = Project(tmp_path)
    (project.root / DEPARTMENTS).unlink()
    found = messages(project)
    assert any(
        f[2] == "direction `solidarites` inconnue" and f[3] == "déclarez les directions dans config/departments.yaml"
        for f in found
    )


def test_not_a_mapping(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.write(DEPARTMENTS, "- solidarites\n- finances\n")
    with pytest.raises(ConfigError) as info:
        load_departments(project.root / "config")
    assert "le fichier doit associer un identifiant à chaque direction" in info.value.report()
