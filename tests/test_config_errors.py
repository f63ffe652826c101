"""Broken YAML: every mistake is reported once, at the right file, line and column, with a hint.

Each case copies the shipped `config/` and `dashboards/` to a temporary folder, makes one small
text edit (the kind of mistake a data team makes), loads it, and checks the report. Expected
lines and columns are computed from the edited text (the line that contains a given snippet), so
the cases keep working when the shipped files change around them.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pilotis.core.errors import MAX_SHOWN_PER_FILE, ConfigError, ConfigIssue
from pilotis.core.loader import load_registry
from pilotis.core.settings import ROOT, Settings
from tests.cli_run import run_cli

RSA = "dashboards/rsa.yaml"
RSA_PY = "dashboards/rsa.py"
SOLIDARITES = "config/datasets/solidarites.yaml"
PORTAL = "config/portal.yaml"
SEANCE = "config/seances/commission-rsa.yaml"
TERRITOIRE = "config/datasets/territoire.yaml"
RSA_IND = "config/indicators/rsa.yaml"
RSA_INDICATORS = (RSA_IND, "config/indicators/territoire.yaml")


class Project:
    """A writable copy of the shipped configuration; data paths still point at the real files.

    Only what the RSA observatory needs is copied (the portal files, its datasets, its indicators,
    its dashboard and callbacks module): the cases stay fast and do not depend on the other
    dashboards.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "config" / "datasets").mkdir(parents=True)
        (root / "config" / "indicators").mkdir()
        (root / "dashboards").mkdir()
        for path in (ROOT / "config").glob("*.yaml"):
            if path.name != "referents.yaml":  # it names every theme and dashboard, not only the RSA ones
                shutil.copy(path, root / "config" / path.name)
        for rel in (SOLIDARITES, TERRITOIRE, RSA, RSA_PY, *RSA_INDICATORS):
            shutil.copy(ROOT / rel, root / rel)

    def text(self, rel: str) -> str:
        return (self.root / rel).read_text(encoding="utf-8")

    def write(self, rel: str, text: str) -> None:
        (self.root / rel).write_text(text, encoding="utf-8")

    def edit(self, rel: str, old: str, new: str) -> None:
        """Replace the first occurrence of ``old`` (which must be there) by ``new``."""
        text = self.text(rel)
        assert old in text, f"{old!r} is no longer in {rel}: update this test case"
        self.write(rel, text.replace(old, new, 1))

    def locate(self, rel: str, snippet: str, occurrence: int = 1) -> tuple[int, int]:
        """1-based (line, column) where the ``occurrence``-th ``snippet`` starts in ``rel``."""
        text = self.text(rel)
        index = -1
        for _ in range(occurrence):
            index = text.index(snippet, index + 1)
        line = text.count("\n", 0, index) + 1
        return line, index - (text.rfind("\n", 0, index) + 1) + 1

    def issues(self) -> list[ConfigIssue]:
        """The issues of loading this project (the load must fail)."""
        with pytest.raises(ConfigError) as info:
            load_registry(ROOT, self.root / "config", self.root / "dashboards")
        return info.value.issues

    def rel(self, issue: ConfigIssue) -> str:
        """The issue's file, relative to this project."""
        return Path(issue.path).resolve().relative_to(self.root.resolve()).as_posix()


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


@dataclass
class Case:
    """One mistake: how to make it, and where and how it must be reported."""

    name: str
    make: Callable[[Project], None]
    file: str
    at: str | None  # the reported position is where this snippet starts (None: line 1, col 1)
    message: str
    hint: str
    occurrence: int = 1
    extra: list[str] = field(default_factory=list)  # other messages expected in the same run


def edit(rel: str, old: str, new: str) -> Callable[[Project], None]:
    return lambda p: p.edit(rel, old, new)


def edits(*changes: tuple[str, str, str]) -> Callable[[Project], None]:
    def make(p: Project) -> None:
        for rel, old, new in changes:
            p.edit(rel, old, new)

    return make


def write(rel: str, text: str) -> Callable[[Project], None]:
    return lambda p: p.write(rel, text)


NAMED = (
    SOLIDARITES,
    "  ttl: 15min\n",
    "  measures:\n    foyers: sum(foyers_allocataires)\n  ttl: 15min\n",
)
KPI_MEASURE = "    measure: sum(foyers_allocataires)\n    unit: foyers\n"

CASES = [
    Case(
        "unknown key, typo",
        edit(
            RSA,
            "    measure: sum(foyers_allocataires)\n    unit: foyers",
            "    mesure: sum(foyers_allocataires)\n    unit: foyers",
        ),
        RSA,
        "mesure:",
        "clé `mesure` inconnue",
        "vouliez-vous dire `measure` ?",
    ),
    Case(
        "unknown key, no close match",
        edit(RSA, "    better: down\n", "    better: down\n    arriere_plan: bleu\n"),
        RSA,
        "arriere_plan:",
        "clé `arriere_plan` inconnue",
        "clés possibles : ",
    ),
    Case(
        "missing required key (top level)",
        edit(RSA, "title: Observatoire du RSA\n", ""),
        RSA,
        "id: rsa",
        "clé `title` obligatoire manquante",
        "ajoutez `title: …`",
    ),
    Case(
        "missing required key in a widget",
        edit(RSA, KPI_MEASURE, "    unit: foyers\n"),
        RSA,
        "id: foyers",
        "clé `measure` obligatoire manquante dans le widget `foyers`",
        "ajoutez `measure: …`",
    ),
    Case(
        "missing widget type",
        edit(RSA, "  - id: foyers\n    type: kpi\n", "  - id: foyers\n"),
        RSA,
        "id: foyers",
        "clé `type` obligatoire manquante dans le widget `foyers`",
        "`kpi`",
    ),
    Case(
        "string for an integer",
        edit(RSA, "    width: 4\n  - id: taux", "    width: large\n  - id: taux"),
        RSA,
        "large",
        "`width` doit être un nombre entier (reçu : `large`)",
        "sans guillemets",
    ),
    Case(
        "list for a text",
        edit(RSA, "title: Observatoire du RSA\n", "title: [Observatoire, RSA]\n"),
        RSA,
        "[Observatoire",
        "`title` doit être un texte (reçu : une liste)",
        "entre guillemets",
    ),
    Case(
        "number for a text",
        edit(PORTAL, 'code_departement: "53"', "code_departement: 53"),
        PORTAL,
        "53",
        "`code_departement` doit être un texte",
        '`"53"`',
    ),
    Case(
        "width out of range",
        edit(RSA, "    width: 12\n", "    width: 13\n"),
        RSA,
        "13",
        "`width` doit être ≤ 12 (reçu : 13)",
        "écrivez un nombre ≤ 12",
    ),
    Case(
        "unknown widget type",
        edit(RSA, "type: kpi", "type: kpj"),
        RSA,
        "kpj",
        "type de widget `kpj` inconnu",
        "vouliez-vous dire `kpi` ?",
    ),
    Case(
        "unknown widget type, no close match",
        edit(RSA, "type: kpi", "type: jauge"),
        RSA,
        "jauge",
        "type de widget `jauge` inconnu",
        "`choropleth`",
    ),
    Case(
        "unknown dataset",
        edit(RSA, "    dataset: aide_sociale", "    dataset: aide_social"),
        RSA,
        "aide_social",
        "jeu de données `aide_social` inconnu",
        "vouliez-vous dire `aide_sociale` ?",
    ),
    Case(
        "unknown column in a measure",
        edit(RSA, "measure: sum(montant_euros)", "measure: sum(montant_euro)"),
        RSA,
        "sum(montant_euro)",
        "colonne `montant_euro` absente du jeu de données",
        "vouliez-vous dire `montant_euros` ?",
    ),
    Case(
        "unknown column in x",
        edit(RSA, "x: departement", "x: departemnt"),
        RSA,
        "departemnt",
        "colonne `departemnt` absente",
        "vouliez-vous dire `departement` ?",
    ),
    Case(
        "unknown column in group_by",
        edit(RSA, "group_by: [code_insee]", "group_by: [epci_siren, code_inse]"),
        RSA,
        "code_inse]",
        "colonne `code_inse` absente",
        "vouliez-vous dire `code_insee` ?",
    ),
    Case(
        "unknown column in where",
        edit(RSA, "where: {indicateur:", "where: {indicateurs:"),
        RSA,
        "indicateurs",
        "colonne `indicateurs` absente",
        "vouliez-vous dire `indicateur` ?",
    ),
    Case(
        "unknown column in a dataset's territory",
        edit(SOLIDARITES, "territory: {commune: code_insee,", "territory: {commune: code_inse,"),
        SOLIDARITES,
        "code_inse,",
        "colonne `code_inse` absente",
        "vouliez-vous dire `code_insee` ?",
    ),
    Case(
        "cron schedule with a minute out of range",
        edit(
            SOLIDARITES,
            "  ttl: 15min\n",
            '  refresh: {cron: "75 6 * * 1-5"}\n',
        ),
        SOLIDARITES,
        '"75 6',
        "minute : « 75 » hors de 0–59",
        '`cron: "30 6 * * 1-5"`',
    ),
    Case(
        "cron schedule with four fields",
        edit(SOLIDARITES, "  ttl: 15min\n", '  refresh: {cron: "30 6 * *"}\n'),
        SOLIDARITES,
        '"30 6',
        "5 champs attendus",
        "6 h 30 du lundi au vendredi",
    ),
    Case(
        "refresh with two policies",
        edit(SOLIDARITES, "  ttl: 15min\n", '  refresh: {every: 15min, cron: "0 * * * *"}\n'),
        SOLIDARITES,
        "{every",
        "un seul des trois",
        "`refresh: {every: 15min}`",
    ),
    Case(
        "unknown column in a dataset's period",
        edit(
            SOLIDARITES,
            "period: {column: date, grain: month, kind: stock}\n  ttl: 15min",
            "period: {column: mois, grain: month, kind: stock}\n  ttl: 15min",
        ),
        SOLIDARITES,
        "mois,",
        "colonne `mois` absente",
        "valeurs possibles",
    ),
    Case(
        "label of an unknown column",
        edit(
            SOLIDARITES,
            "    date: {label: Mois}\n",
            "    date: {label: Mois}\n    dates: {label: Dates}\n",
        ),
        SOLIDARITES,
        "dates:",
        "colonne `dates` absente",
        "vouliez-vous dire `date` ?",
    ),
    Case(
        "unparsable measure `sum(`",
        edit(RSA, "measure: sum(montant_euros)", "measure: sum("),
        RSA,
        "sum(\n",
        "nom de colonne attendu après `sum(`",
        "écrivez `sum(colonne)`",
    ),
    Case(
        "measure without parentheses",
        edit(RSA, "measure: sum(montant_euros)", "measure: avg montant_euros"),
        RSA,
        "avg montant",
        "parenthèses manquantes après `avg`",
        "écrivez `avg(montant_euros)`",
    ),
    Case(
        "unknown aggregate",
        edit(RSA, "measure: sum(montant_euros)", "measure: moyenne(montant_euros)"),
        RSA,
        "moyenne(",
        "agrégat `moyenne` inconnu",
        "agrégats possibles",
    ),
    Case(
        "measure with an unclosed parenthesis",
        edit(RSA, "measure: sum(montant_euros)", "measure: (sum(montant_euros) / 1000"),
        RSA,
        "(sum(montant",
        "parenthèse fermante `)` manquante",
        "fermez chaque parenthèse",
    ),
    Case(
        "named measure misspelt",
        edits(NAMED, (RSA, KPI_MEASURE, "    measure: foyer\n    unit: foyers\n")),
        RSA,
        "foyer\n",
        "mesure `foyer` inconnue",
        "vouliez-vous dire `foyers` ?",
    ),
    Case(
        "named measure inside an aggregate",
        edits(NAMED, (RSA, KPI_MEASURE, "    measure: sum(foyers)\n    unit: foyers\n")),
        RSA,
        "sum(foyers)\n",
        "colonne `foyers` absente",
        "`foyers` est une mesure nommée",
    ),
    Case(
        "column used as a measure",
        edit(RSA, KPI_MEASURE, "    measure: foyers_allocataires\n    unit: foyers\n"),
        RSA,
        "foyers_allocataires\n",
        "mesure `foyers_allocataires` inconnue",
        "`foyers_allocataires` est une colonne : écrivez un agrégat, par exemple `sum(foyers_allocataires)`",
    ),
    Case(
        "duplicate widget id",
        edit(RSA, "  - id: taux\n", "  - id: foyers\n"),
        RSA,
        "foyers\n    type: custom",
        "widget `foyers` en double (déjà défini ligne",
        "`id` unique",
    ),
    Case(
        "duplicate dashboard id across files",
        lambda p: p.write("dashboards/rsa_bis.yaml", p.text(RSA).replace("order: 10", "order: 11")),
        "dashboards/rsa_bis.yaml",
        "rsa\n",
        "identifiant `rsa` déjà utilisé par",
        "son propre `id`",
    ),
    Case(
        "duplicate path",
        lambda p: p.write(
            "dashboards/rsa_bis.yaml",
            p.text(RSA).replace("id: rsa\n", "id: rsa_bis\npath: /rsa/\n"),
        ),
        "dashboards/rsa_bis.yaml",
        "/rsa/",
        "adresse `/rsa/` déjà utilisée par",
        "autre valeur de `path`",
    ),
    Case(
        "reserved path",
        edit(RSA, "icon: people\n", "icon: people\npath: /login\n"),
        RSA,
        "/login",
        "adresse `/login` déjà utilisée par le portail",
        "autre valeur de `path`",
    ),
    Case(
        "path under a reserved prefix",
        edit(RSA, "icon: people\n", "icon: people\npath: /api/rsa\n"),
        RSA,
        "/api/rsa",
        "adresse `/api/rsa` déjà utilisée par le portail",
        "`path`",
    ),
    Case(
        "dashboard id taken by a page of the portal",
        lambda p: p.write("dashboards/donnees.yaml", p.text(RSA).replace("id: rsa\n", "id: donnees\n")),
        "dashboards/donnees.yaml",
        "donnees\n",
        "adresse `/donnees` déjà utilisée par le portail (catalogue des données)",
        "ajoutez `path: /autre-adresse` ou changez l'`id`",
    ),
    Case(
        "dashboard id reserved for a coming page",
        lambda p: p.write("dashboards/alertes.yaml", p.text(RSA).replace("id: rsa\n", "id: alertes\n")),
        "dashboards/alertes.yaml",
        "alertes\n",
        "adresse `/alertes` déjà utilisée par le portail",
        "changez l'`id`",
    ),
    Case(
        "duplicate YAML key",
        edit(RSA, "icon: people\n", "icon: people\nicon: cash-coin\n"),
        RSA,
        "icon: cash",
        "clé `icon` en double (déjà définie ligne",
        "supprimez l'une des deux",
    ),
    Case(
        "tab indentation",
        edit(RSA, "    unit: foyers\n", "\tunit: foyers\n"),
        RSA,
        "\tunit",
        "tabulation interdite",
        "espaces",
    ),
    Case(
        "missing colon after a key",
        edit(RSA, "icon: people\n", "icon people\n"),
        RSA,
        "icon people",
        "deux-points `:` manquant après la clé",
        "`clé: valeur`",
    ),
    Case(
        "colon inside an unquoted value",
        edit(RSA, "title: Observatoire du RSA\n", "title: Observatoire: RSA\n"),
        RSA,
        ": RSA",
        "deux-points `:` inattendu",
        "entre guillemets",
    ),
    Case(
        "unclosed quote",
        lambda p: p.write(RSA, p.text(RSA) + '  - id: fin\n    type: markdown\n    text: "Sources : DREES\n'),
        RSA,
        '"Sources',
        "guillemet ouvert ici et jamais refermé",
        "fermez le guillemet",
    ),
    Case(
        "inconsistent indentation",
        edit(RSA, "    unit: foyers\n", "   unit: foyers\n"),
        RSA,
        "unit: foyers",
        "indentation incohérente",
        "alignez",
    ),
    Case(
        "unclosed list",
        edit(RSA, "group_by: [code_insee]", "group_by: [code_insee"),
        RSA,
        "[code_insee",
        "liste `[…]` ouverte ici et jamais refermée",
        "fermez la liste",
    ),
    Case(
        "impossible date",
        edit(RSA, "title: Observatoire du RSA\n", "title: 2020-13-45\n"),
        RSA,
        "2020-13-45",
        "valeur `2020-13-45` illisible",
        "entre guillemets",
    ),
    Case("empty file", write(RSA, ""), RSA, None, "fichier vide", "`id: mon_tableau`"),
    Case(
        "file that is a list",
        write(RSA, "- id: rsa\n- title: Observatoire\n"),
        RSA,
        None,
        "le fichier est une liste",
        "`id: mon_tableau`",
    ),
    Case(
        "invalid id",
        edit(RSA, "id: rsa\n", "id: RSA Obs\n"),
        RSA,
        "RSA Obs",
        "`id` : `RSA Obs` n'a pas le bon format",
        "par exemple `rsa_obs`",
    ),
    Case(
        "bad duration",
        edit(RSA, "icon: people\n", "icon: people\nrefresh: 5 minutes\n"),
        RSA,
        "5 minutes",
        "`refresh` : durée `5 minutes` illisible",
        "`15min`",
    ),
    Case(
        "access: wrong literal",
        edit(RSA, "access:\n  departments: [solidarites]\n  roles: [president]\n", "access: public\n"),
        RSA,
        "public",
        "`access` : valeur `public` non permise",
        "vouliez-vous dire `public-internal` ?",
    ),
    Case(
        "access: misspelt key of the mapping form",
        edit(RSA, "  departments: [solidarites]", "  departements: [solidarites]"),
        RSA,
        "departements",
        "clé `departements` inconnue",
        "vouliez-vous dire `departments` ?",
    ),
    Case(
        "mapping value in where",
        edit(
            RSA,
            "where: {indicateur: depenses_brutes_allocation_rsa}",
            "where: {indicateur: {valeur: depenses_brutes_allocation_rsa}}",
        ),
        RSA,
        "{valeur",
        "`indicateur` : valeur un bloc `clé: valeur` non permise",
        "une liste",
    ),
    Case(
        "custom widget: unknown function",
        edit(RSA, "function: taux_pour_1000", "function: taux_pour_100"),
        RSA,
        "taux_pour_100\n",
        "fonction `taux_pour_100` introuvable",
        "vouliez-vous dire `taux_pour_1000` ?",
    ),
    Case(
        "custom widget: function far from any",
        edit(RSA, "function: taux_pour_1000", "function: calcul"),
        RSA,
        "calcul",
        "fonction `calcul` introuvable",
        "fonctions du module : `taux_pour_1000`",
    ),
    Case(
        "callbacks module raising at import",
        edit(
            RSA_PY,
            "\ndef taux_pour_1000",
            "\nSEUIL = 1000\nraise RuntimeError('boum')\n\n\ndef taux_pour_1000",
        ),
        RSA_PY,
        "raise RuntimeError",
        "module de callbacks en erreur : `RuntimeError: boum`",
        "code Python",
    ),
    Case(
        "callbacks module with a syntax error",
        edit(RSA_PY, "\ndef taux_pour_1000", "\nSEUIL = = 1000\n\n\ndef taux_pour_1000"),
        RSA_PY,
        "= 1000",
        "module de callbacks en erreur : `SyntaxError: invalid syntax`",
        "code Python",
    ),
    Case(
        "unknown source type",
        edit(SOLIDARITES, "type: parquet", "type: parket"),
        SOLIDARITES,
        "parket",
        "type de source `parket` inconnu",
        "vouliez-vous dire `parquet` ?",
    ),
    Case(
        "dataset without type",
        edit(SOLIDARITES, "  type: parquet\n", ""),
        SOLIDARITES,
        "rsa_communes:",
        "clé `type` obligatoire manquante",
        "`parquet`",
    ),
    Case(
        "dataset file missing",
        edit(SOLIDARITES, "path: data/rsa_communes_mensuel.parquet", "path: data/absent.parquet"),
        SOLIDARITES,
        "data/absent.parquet",
        "source `rsa_communes` illisible",
        "chemin",
    ),
    Case(
        "period filter on a dataset without period",
        edit(
            RSA,
            "period: {dataset: rsa_communes, default: latest}",
            "period: {dataset: communes, default: latest}",
        ),
        RSA,
        "communes, default",
        "le jeu de données `communes` n'a pas de période",
        "`period:",
    ),
    Case(
        "choropleth level without the territory column",
        edit(
            RSA,
            "    dataset: rsa_communes\n    measure: sum(foyers_allocataires)\n    per_1000",
            "    dataset: rsa_departements\n    measure: sum(foyers_allocataires)\n    per_1000",
        ),
        RSA,
        "commune\n    colorscale",
        "ne déclare pas de colonne `commune`",
        "`territory: {commune:",
    ),
    Case(
        "portal: unknown reference dataset",
        edit(PORTAL, "communes_dataset: communes", "communes_dataset: commune"),
        PORTAL,
        "commune\n",
        "communes_dataset : jeu de données `commune` inconnu",
        "vouliez-vous dire `communes` ?",
    ),
    Case(
        "portal: missing nested key",
        edit(PORTAL, '  code_departement: "53"\n', ""),
        PORTAL,
        "collectivite:",
        "clé `code_departement` obligatoire manquante dans `collectivite`",
        "ajoutez `code_departement: …`",
    ),
    Case(
        "file with a .yml extension",
        lambda p: shutil.copy(p.root / RSA, p.root / "dashboards/finances.yml"),
        "dashboards/finances.yml",
        None,
        "fichier ignoré : extension `.yml`",
        "`finances.yaml`",
    ),
    Case(
        "malformed named measure used by an indicator",
        edits(
            (SOLIDARITES, "  ttl: 15min\n", "  measures:\n    foyers: sum(foyers_allocataires) /\n  ttl: 15min\n"),
            (RSA_IND, "  measure: sum(foyers_allocataires)\n", "  measure: foyers\n"),
        ),
        SOLIDARITES,
        "sum(foyers_allocataires) /",
        "mesure `sum(foyers_allocataires) /` incomplète",
        "terminez par un agrégat",
    ),
    Case(
        "flat measure of 2,000 terms",
        edit(RSA, KPI_MEASURE, "    measure: " + "sum(foyers_allocataires) + " * 2000 + "1\n    unit: foyers\n"),
        RSA,
        "sum(foyers_allocataires) + sum",
        "mesure trop longue (plus de 100 opérateurs)",
        "découpez-la",
    ),
    Case(
        "flat formula of 2,000 terms",
        edit(RSA_IND, "formula: rsa.foyers_allocataires /", "formula: " + "rsa.foyers_allocataires + " * 2000 + "1 +"),
        RSA_IND,
        "rsa.foyers_allocataires + rsa",
        "formule trop longue (plus de 100 opérateurs)",
        "découpez-la",
    ),
    Case(
        "decimal comma in a formula",
        edit(RSA_IND, "territoire.population * 1000", "territoire.population * 1000,5"),
        RSA_IND,
        "rsa.foyers_allocataires / territoire",
        "virgule décimale dans `1000,5`",
        "`1000.5`",
    ),
    Case(
        "unknown colour scale",
        edit(RSA, "colorscale: Oranges", "colorscale: Orange"),
        RSA,
        "Orange\n",
        "échelle de couleurs `Orange` inconnue",
        "vouliez-vous dire `Oranges` ?",
    ),
    Case(
        "missing GeoJSON file",
        edit(PORTAL, "geo_communes: data/geo/communes.geojson", "geo_communes: data/geo/commune.geojson"),
        PORTAL,
        "data/geo/commune.geojson",
        "fichier `data/geo/commune.geojson` introuvable",
        "vouliez-vous dire `data/geo/communes.geojson` ?",
    ),
    Case(
        "GeoJSON path to a file that is not GeoJSON",
        edit(PORTAL, "geo_communes: data/geo/communes.geojson", "geo_communes: config/portal.yaml"),
        PORTAL,
        "config/portal.yaml",
        "`geo_communes` : `config/portal.yaml` n'est pas un fichier GeoJSON lisible",
        "FeatureCollection",
    ),
    Case(
        "unknown role in access",
        edit(RSA, "  roles: [president]\n", "  roles: [presdient]\n"),
        RSA,
        "presdient]",
        "rôle `presdient` inconnu",
        "vouliez-vous dire `president` ?",
    ),
    Case(
        "empty KPI measure",
        edit(RSA, KPI_MEASURE, '    measure: ""\n    unit: foyers\n'),
        RSA,
        '""',
        "mesure vide",
        "sum(montant)",
    ),
    Case(
        "KPI measure left blank",
        edit(RSA, KPI_MEASURE, "    measure:\n    unit: foyers\n"),
        RSA,
        "\n    unit: foyers",  # the (empty) value, just after `measure:`
        "`measure` : valeur vide",
        "écrivez une mesure",
    ),
    Case(
        "KPI measure of spaces",
        edit(RSA, KPI_MEASURE, '    measure: "  "\n    unit: foyers\n'),
        RSA,
        '"  "',
        "mesure vide",
        "sum(montant)",
    ),
    Case(
        "target year too large",
        edit(RSA_IND, "target: {value: 3800, year: 2020,", "target: {value: 3800, year: 20200,"),
        RSA_IND,
        "20200",
        "`year` : année 20200 invraisemblable",
        "année sur quatre chiffres",
    ),
    Case(
        "negative target year",
        edit(RSA_IND, "target: {value: 3800, year: 2020,", "target: {value: 3800, year: -1,"),
        RSA_IND,
        "-1,",
        "`year` : année -1 invraisemblable",
        "année sur quatre chiffres",
    ),
    Case(
        "CSV delimiter of two characters",
        edit(
            SOLIDARITES,
            "path: data/aide_sociale_departements.csv\n",
            'path: data/aide_sociale_departements.csv\n  delimiter: ";;"\n',
        ),
        SOLIDARITES,
        '";;"',
        "`delimiter` doit être un seul caractère (reçu : `;;`)",
        'entre guillemets, ex. `";"`',
    ),
    Case(
        "empty referent name",
        edit(RSA_IND, "referent: {name: Observatoire social départemental,", 'referent: {name: "",'),
        RSA_IND,
        '""',
        "`name` ne doit pas être vide",
        "écrivez un texte",
    ),
    Case(
        "map range in the wrong order",
        edit(RSA, "    colorscale: Oranges\n", "    colorscale: Oranges\n    range: [1, 0]\n"),
        RSA,
        "[1, 0]",
        "la borne minimale de `range` doit être inférieure à la maximale",
        "`range: [0, 1]`",
    ),
    Case(
        "a folder named like a dashboard file",
        lambda p: (p.root / "dashboards" / "dossier.yaml").mkdir(),
        "dashboards/dossier.yaml",
        None,
        "fichier illisible : c'est un dossier",
        "pas un dossier",
    ),
]


def test_shipped_configuration_copy_is_valid(project: Project) -> None:
    registry = load_registry(ROOT, project.root / "config", project.root / "dashboards")
    assert "rsa" in registry.dashboards


def test_there_are_at_least_twenty_distinct_mistakes() -> None:
    assert len({case.message for case in CASES}) >= 20
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_mistake_is_reported_at_its_place(project: Project, case: Case) -> None:
    case.make(project)
    issues = project.issues()
    report = "\n".join(str(issue) for issue in issues)
    assert len(issues) == 1 + len(case.extra), f"one report expected (no cascade):\n{report}"
    issue = next(i for i in issues if case.message in i.message)
    assert project.rel(issue) == case.file, report
    line, col = project.locate(case.file, case.at, case.occurrence) if case.at else (1, 1)
    assert (issue.line, issue.col) == (line, col), report
    assert case.hint in issue.hint, report
    for each in issues:  # the expected issue and any other one of the same run
        assert each.hint, f"no « aide » line:\n{each}"
        assert not ENGLISH.search(_outside_code(f"{each.message} {each.hint}")), f"English words:\n{each}"
    assert str(issue).startswith(f"{issue.path}:{issue.line}:{issue.col}: {issue.message}")


ENGLISH = re.compile(
    r"\b(should|must|field|required|input|valid|invalid|at least|at most|characters?|string|error|expected|"
    r"not|unknown|missing|value)\b",
    re.IGNORECASE,
)
"""Words of pydantic's, PyYAML's or the system's English messages (none may reach a user)."""


def _outside_code(text: str) -> str:
    """``text`` without its `code` parts (keys and values may be English words)."""
    return re.sub(r"`[^`]*`", "", text)


def test_every_mistake_has_a_hint() -> None:
    assert all(case.hint for case in CASES)


def test_several_errors_in_several_files_are_reported_together_and_sorted(project: Project) -> None:
    project.edit(RSA, "type: kpi", "type: kpj")
    project.edit(RSA, "x: departement", "x: departemnt")
    project.edit(SOLIDARITES, "path: data/rsa_departements_mensuel.csv", "path: data/absent.csv")
    project.edit(PORTAL, "title: Pilotis", "titre: Pilotis")
    issues = project.issues()
    found = [(project.rel(i), i.line, i.message.split(" ")[0:3]) for i in sorted(issues)]
    assert [(f, line) for f, line, _ in found] == [
        (SOLIDARITES, project.locate(SOLIDARITES, "data/absent.csv")[0]),
        (PORTAL, project.locate(PORTAL, "titre")[0]),
        (RSA, project.locate(RSA, "kpj")[0]),
    ], found  # sorted by file then line; the bar chart on the broken dataset is not reported again
    report = ConfigError(issues).report().splitlines()
    assert report[-1] == "3 erreurs de configuration."
    positions = [line for line in report if not line.startswith(" ") and ":" in line][:-1]
    assert positions == sorted(positions, key=lambda s: (s.split(":")[0], int(s.split(":")[1])))


def test_an_invalid_dashboard_header_does_not_hide_widget_errors(project: Project) -> None:
    project.edit(RSA, "title: Observatoire du RSA\n", "titre: Observatoire du RSA\n")
    project.edit(RSA, "type: kpi", "type: kpj")
    messages = sorted(i.message for i in project.issues())
    assert messages == ["clé `titre` inconnue", "type de widget `kpj` inconnu"]


def test_a_file_read_twice_reports_its_problems_once(project: Project) -> None:
    project.edit(RSA, "icon: people\n", "icon: people\nicon: cash-coin\n")
    assert len(project.issues()) == 1


def test_merge_keys_are_not_duplicates(project: Project) -> None:
    project.edit(RSA, "widgets:\n", "x-base: &base {width: 4}\nwidgets:\n")
    issues = project.issues()  # `x-base` is an unknown key, but the merge below is fine
    assert [i.message for i in issues] == ["clé `x-base` inconnue"]
    project.edit(RSA, "x-base: &base {width: 4}\n", "")
    project.edit(RSA, "  - id: foyers\n", "  - <<: {width: 4, title: Foyers}\n    id: foyers\n")
    registry = load_registry(ROOT, project.root / "config", project.root / "dashboards")
    widget = registry.dashboards["rsa"].widget("foyers")
    assert (widget.width, widget.title) == (4, "Foyers allocataires")  # explicit keys win


# --------------------------------------------------------------------------- command line, app


def _broken_tree(project: Project) -> None:
    project.edit(RSA, "type: kpi", "type: kpj")
    project.edit(SOLIDARITES, "type: parquet", "type: parket")
    (project.root / "data").symlink_to(ROOT / "data", target_is_directory=True)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTIS_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def test_check_command_reports_every_error_and_exits_1(project: Project) -> None:
    _broken_tree(project)
    result = run_cli(["check", str(project.root)], cwd=project.root)  # in-process: see tests/cli_run.py
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    kpj = project.locate(RSA, "kpj")
    parket = project.locate(SOLIDARITES, "parket")
    assert lines[0] == f"{SOLIDARITES}:{parket[0]}:{parket[1]}: type de source `parket` inconnu"
    assert lines[1] == "    aide : vouliez-vous dire `parquet` ?"
    assert lines[2] == f"{RSA}:{kpj[0]}:{kpj[1]}: type de widget `kpj` inconnu"
    assert lines[3] == "    aide : vouliez-vous dire `kpi` ?"
    assert lines[-1] == "2 erreurs de configuration."
    assert "Traceback" not in result.stderr


def test_check_command_refuses_a_dashboard_shadowed_by_a_portal_page(project: Project) -> None:
    """`id: donnees` would be served at /donnees, the data catalogue's address: refused by `check`."""
    project.write("dashboards/donnees.yaml", project.text(RSA).replace("id: rsa\n", "id: donnees\n"))
    (project.root / "data").symlink_to(ROOT / "data", target_is_directory=True)
    result = run_cli(["check", str(project.root)], cwd=project.root)  # in-process: see tests/cli_run.py
    assert result.returncode == 1, result.stdout
    line, col = project.locate("dashboards/donnees.yaml", "donnees\n")
    assert result.stderr.splitlines()[:2] == [
        f"dashboards/donnees.yaml:{line}:{col}: adresse `/donnees` déjà utilisée par le portail "
        "(catalogue des données)",
        "    aide : ajoutez `path: /autre-adresse` ou changez l'`id`",
    ]


def test_check_command_locates_broken_measures_instead_of_a_traceback(project: Project) -> None:
    """A malformed named measure used by an indicator, and a 2,000-term measure, crashed `check`."""
    project.edit(SOLIDARITES, "  ttl: 15min\n", "  measures:\n    foyers: sum(foyers_allocataires) /\n  ttl: 15min\n")
    project.edit(RSA_IND, "  measure: sum(foyers_allocataires)\n", "  measure: foyers\n")
    project.edit(RSA, KPI_MEASURE, "    measure: " + "sum(foyers_allocataires) + " * 2000 + "1\n    unit: foyers\n")
    (project.root / "data").symlink_to(ROOT / "data", target_is_directory=True)
    result = subprocess.run(
        [sys.executable, "-m", "pilotis", "check", str(project.root)],
        cwd=project.root,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    named = project.locate(SOLIDARITES, "sum(foyers_allocataires) /")
    long = project.locate(RSA, "sum(foyers_allocataires) + sum")
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{SOLIDARITES}:{named[0]}:{named[1]}: mesure `sum(foyers_allocataires) /` incomplète")
    assert lines[1].startswith("    aide : ")
    assert lines[2] == f"{RSA}:{long[0]}:{long[1]}: mesure trop longue (plus de 100 opérateurs)"
    assert lines[3].startswith("    aide : ")
    assert lines[-1] == "2 erreurs de configuration."


def test_check_command_on_the_shipped_configuration_prints_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pilotis", "check"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1
    assert result.stdout.startswith("OK : ")


def test_create_app_refuses_an_invalid_configuration(project: Project, tmp_path: Path) -> None:
    from app import create_app

    _broken_tree(project)
    expected = ConfigError(project.issues()).report()
    settings = Settings.from_env(
        root=ROOT,
        config_dir=project.root / "config",
        dashboards_dir=project.root / "dashboards",
        instance_dir=tmp_path / "instance",
    )
    with pytest.raises(ConfigError) as info:
        create_app(settings)
    assert info.value.report() == expected


def test_app_py_exits_1_with_the_report_and_no_traceback(project: Project, tmp_path: Path) -> None:
    _broken_tree(project)
    env = _env(
        PILOTIS_CONFIG_DIR=str(project.root / "config"),
        PILOTIS_DASHBOARDS_DIR=str(project.root / "dashboards"),
        PILOTIS_INSTANCE_DIR=str(tmp_path / "instance"),
        PILOTIS_PORT="0",
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "type de widget `kpj` inconnu" in result.stderr
    assert "type de source `parket` inconnu" in result.stderr
    assert result.stderr.rstrip().endswith("2 erreurs de configuration.")


# --------------------------------------------------------------------------- large files, order of the report


def _unknown_keys(project: Project, count: int) -> None:
    base = (ROOT / RSA).read_text(encoding="utf-8")
    project.write(RSA, base + "".join(f"cle_inconnue_{i}: {i}\n" for i in range(count)))


def _calls_to_check(project: Project) -> int:
    """Python function calls made by one load of ``project`` (a measure of work, not of time)."""
    profile = cProfile.Profile()
    with pytest.raises(ConfigError):
        profile.runcall(load_registry, ROOT, project.root / "config", project.root / "dashboards")
    return pstats.Stats(profile).total_calls  # type: ignore[attr-defined, no-any-return]


def test_checking_grows_linearly_with_the_number_of_unknown_keys(project: Project) -> None:
    """3,000 unknown keys took 12 s and 12,000 took 111 s: each was compared with every other."""
    _unknown_keys(project, 1_500)
    small = _calls_to_check(project)
    _unknown_keys(project, 6_000)
    large = _calls_to_check(project)
    assert large / small < 6, (small, large)  # 4 times the keys: about 4 times the work (16 if quadratic)


def test_the_report_shows_at_most_fifty_errors_per_file_and_counts_the_others(project: Project) -> None:
    _unknown_keys(project, 3_000)
    issues = project.issues()
    assert len(issues) == 3_000
    lines = ConfigError(issues).report().splitlines()
    located = [line for line in lines if ": clé `cle_inconnue_" in line]
    assert len(located) == MAX_SHOWN_PER_FILE == 50
    path = issues[0].path
    assert lines[-2] == f"{path}: … et 2 950 autres erreurs dans ce fichier"
    assert lines[-1] == "3 000 erreurs de configuration."
    first = project.locate(RSA, "cle_inconnue_0:")
    assert located[0].startswith(f"{path}:{first[0]}:{first[1]}: ")  # the first ones, in file order


def _with_seance(project: Project) -> None:
    (project.root / "config" / "seances").mkdir()
    shutil.copy(ROOT / SEANCE, project.root / SEANCE)


def test_a_seance_does_not_repeat_the_errors_of_its_dashboard(project: Project) -> None:
    _with_seance(project)
    project.edit(RSA, "title: Observatoire du RSA\n", "titre: Observatoire du RSA\n")
    assert [project.rel(i) for i in project.issues()] == [RSA]  # not « tableau de bord `rsa` inconnu »
    project.edit(RSA, "titre: Observatoire du RSA\n", "title: Observatoire du RSA\n")
    project.edit(RSA, "type: kpi", "type: kpj")  # the widget `foyers` fails; the séance shows it
    assert [(project.rel(i), i.message) for i in project.issues()] == [(RSA, "type de widget `kpj` inconnu")]


def test_root_causes_are_listed_before_the_files_that_depend_on_them(project: Project) -> None:
    """Datasets, then the portal, indicators, dashboards, séances: the order things are built in."""
    _with_seance(project)
    project.edit(SEANCE, "duration: 40s", "duration: 40 secondes")
    project.edit(RSA, "type: kpi", "type: kpj")
    project.edit(SOLIDARITES, "title: Dépenses d'aide sociale", "titre: Dépenses d'aide sociale")
    project.edit(RSA_IND, "  unit: foyers\n", "  unite: foyers\n")
    report = ConfigError(project.issues()).report()
    files = [line.split(":")[0] for line in report.splitlines() if not line.startswith(" ")][:-1]
    order = [str(Path(f).resolve().relative_to(project.root.resolve())) for f in files]
    assert order == [SOLIDARITES, RSA_IND, RSA, SEANCE], report


def test_a_file_saved_in_latin_1_is_reported_at_its_first_bad_byte_in_french(project: Project) -> None:
    text = project.text(RSA).replace("title: Observatoire du RSA", "title: Suivi du RSA été")
    project.write(RSA, "")
    (project.root / RSA).write_bytes(text.encode("latin-1"))
    (issue,) = project.issues()
    line = text[: text.index("été")].count("\n") + 1
    assert (issue.line, issue.col) == (line, len("title: Suivi du RSA ") + 1)
    assert issue.message == "fichier illisible : octet invalide en UTF-8"  # not Python's « invalid continuation byte »
    assert "UTF-8" in issue.hint


def test_map_outlines_are_required_only_for_the_levels_a_map_draws(project: Project) -> None:
    """The RSA observatory draws communes only: missing EPCI outlines break no page."""
    project.edit(PORTAL, "geo_epci: data/geo/epci.geojson", "geo_epci: data/geo/absent.geojson")
    assert "rsa" in load_registry(ROOT, project.root / "config", project.root / "dashboards").dashboards
    project.edit(RSA, "    level: commune\n", "    level: epci\n")
    (issue,) = project.issues()
    assert (project.rel(issue), issue.message) == (PORTAL, "`geo_epci` : fichier `data/geo/absent.geojson` introuvable")
