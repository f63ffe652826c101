"""The YAML format of Pilotis, as pydantic models.

Every field's docstring becomes the JSON Schema description shown by editors and the YAML
reference (``docs/yaml-reference.md``), read when they are generated
(:mod:`pilotis.core.field_docs`). Widget and data-source types add their own models (in
``layouts/`` and ``data_sources/``) that extend :class:`WidgetBase` and :class:`DatasetBase`.
"""

from __future__ import annotations

from typing import Annotated, Literal

import plotly.colors
from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    field_validator,
    model_validator,
)

from pilotis.core.cron import CronError, parse_cron
from pilotis.core.errors import HintedValueError, did_you_mean
from pilotis.core.schema_base import SLUG, Duration, Strict, parse_duration
from pilotis.core.schema_catalogue import Coverage, Sensitivity, UpdatePromise

COLOR_SCALES = sorted(
    name
    for module in (plotly.colors.sequential, plotly.colors.diverging, plotly.colors.cyclical)
    for name, value in vars(module).items()
    if not name.startswith("_") and not name.endswith("_r") and isinstance(value, list)
)
"""Plotly's named colour scales (``Blues``, ``Viridis``…); case does not matter, ``_r`` reverses."""


def _known_color_scale(value: str) -> str:
    lower = {name.lower() for name in COLOR_SCALES}
    if value.lower().removesuffix("_r") not in lower:
        raise HintedValueError(
            f"échelle de couleurs `{value}` inconnue",
            did_you_mean(value.removesuffix("_r"), COLOR_SCALES, "échelles possibles"),
        )
    return value


ColorScale = Annotated[str, AfterValidator(_known_color_scale)]
"""A plotly colour scale name, checked when the configuration loads (the map would fail)."""


def _plausible_year(value: int) -> int:
    if not 1900 <= value <= 2100:
        raise HintedValueError(
            f"année {value} invraisemblable", "écrivez une année sur quatre chiffres, entre 1900 et 2100 (ex. `2026`)"
        )
    return value


Year = Annotated[int, AfterValidator(_plausible_year)]
"""A calendar year between 1900 and 2100 (a target year of `20200` or `-1` is a typo)."""


def _cron_schedule(value: str) -> str:
    text = " ".join(value.split())
    try:
        parse_cron(text)
    except CronError as exc:
        raise HintedValueError(
            str(exc),
            'cinq champs : minute heure jour mois jour-de-semaine, exemple : `cron: "30 6 * * 1-5"`'
            " (6 h 30 du lundi au vendredi)",
        ) from None
    return text


CronSchedule = Annotated[str, AfterValidator(_cron_schedule)]
"""A five-field cron schedule, Paris time (:mod:`pilotis.core.cron`), checked when the configuration
loads, spaces normalised: dataset refreshes, alert maintenance windows, report sendings."""


TerritoryLevel = Literal["departement", "epci", "commune"]


def all_levels() -> list[TerritoryLevel]:
    """Every territory level, in the order a selector lists them (its default)."""
    return ["departement", "epci", "commune"]


# --------------------------------------------------------------------------- datasets


class ColumnSpec(Strict):
    """How a column is labelled and typed."""

    label: str | None = None
    """Libellé affiché (axes, tableaux). Par défaut : le nom de la colonne."""
    type: Literal["string", "integer", "number", "date", "boolean"] | None = None
    """Type forcé à la lecture (utile pour les codes INSEE à garder en texte)."""
    unit: str | None = None
    """Unité affichée après les valeurs (ex. `€`, `foyers`)."""
    description: str = ""
    """Signification de la colonne (dictionnaire des champs du catalogue)."""


class TerritoryColumns(Strict):
    """Which columns hold the territory codes, so the territory filter and maps can use them."""

    commune: str | None = None
    """Colonne du code INSEE de la commune."""
    epci: str | None = None
    """Colonne du SIREN de l'EPCI."""
    departement: str | None = None
    """Colonne du code du département (données départementales)."""


class PeriodSpec(Strict):
    """The column that dates each row and the grain of the data."""

    column: str
    """Colonne de type date (premier jour de la période)."""
    grain: Literal["day", "month", "quarter", "year"] = "month"
    """Granularité des données : `day`, `month`, `quarter` ou `year`."""
    kind: Literal["stock", "flow"] = "flow"
    """`stock` (effectif à une date : on retient la dernière période) ou `flow` (montant : on additionne)."""


class RowLevel(Strict):
    """What a user whose access is restricted to a territory (an EPCI, a commune) sees of a dataset."""

    territory: Literal["deny", "allow"] = "deny"
    """Quand les lignes ne peuvent pas être restreintes au territoire de l'agent (pas de colonne commune ni EPCI) :
    `deny` (par défaut : « données non disponibles pour votre périmètre ») ou `allow` (statistique départementale
    publique montrée telle quelle)."""


class RefreshPolicy(Strict):
    """When a dataset's data is read again from its source (instead of a `ttl` per result)."""

    every: Duration | None = None
    """Période alignée sur l'horloge (`15min`, `1h`, `1j`) : avec `15min`, les données sont relues au premier affichage
    après :00, :15, :30 et :45, par tous les serveurs en même temps."""
    at: list[Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]] = Field(default_factory=list)
    """Heures fixes de relecture, heure de Paris (`["06:30", "13:00"]`) : après le dépôt quotidien d'un fichier par une
    application métier."""
    cron: CronSchedule | None = None
    """Calendrier cron à cinq champs, heure de Paris (`"30 6 * * 1-5"` : 6 h 30 du lundi au vendredi ; `"0 */2 * * *"` :
    toutes les deux heures) : minute, heure, jour du mois, mois, jour de la semaine (0 ou 7 = dimanche)."""

    @field_validator("every", mode="before")
    @classmethod
    def _every(cls, value: str | int | None) -> int | None:
        if value is None:
            return None
        seconds = parse_duration(value)
        if seconds < 10:
            raise HintedValueError("période de rafraîchissement trop courte", "au moins `10s`")
        return seconds

    @model_validator(mode="after")
    def _one(self) -> RefreshPolicy:
        if [self.every is not None, bool(self.at), self.cron is not None].count(True) != 1:
            raise HintedValueError(
                "indiquez `every`, `at` ou `cron` (un seul des trois)",
                'exemple : `refresh: {every: 15min}`, `refresh: {at: ["06:30"]}` ou `refresh: {cron: "30 6 * * 1-5"}`',
            )
        return self


class DatasetBase(Strict):
    """Options common to every dataset, whatever its source type."""

    type: str
    """Type de source : voir les types enregistrés dans `data_sources/`."""
    title: str
    """Nom lisible du jeu de données (catalogue, mentions de source)."""
    description: str = ""
    """Ce que contient le jeu de données, en une ou deux phrases."""
    producer: str = ""
    """Producteur et millésime à citer (Licence Ouverte : « DREES, 2020 »)."""
    simulated: bool = False
    """`true` pour des données générées : les widgets affichent « données simulées »."""
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)
    """Libellés, types et unités des colonnes."""
    territory: TerritoryColumns | None = None
    """Colonnes de territoire, pour le filtre territorial et les cartes."""
    period: PeriodSpec | None = None
    """Colonne de période, pour le filtre de période et les évolutions."""
    measures: dict[str, str] = Field(default_factory=dict)
    """Mesures nommées réutilisables, ex. `taux: sum(raccordables) / sum(locaux)`."""
    ttl: Duration = 600
    """Durée de vie en cache des résultats (`30s`, `15min`, `1h`) ; ignorée si `refresh` est donné."""
    refresh: RefreshPolicy | None = None
    """Relecture planifiée de la source : `{every: 15min}` (période alignée sur l'horloge) ou `{at: ["06:30"]}` (heures
    fixes). Absent : chaque résultat vit `ttl`."""
    retry: Duration = 60
    """Après un échec de la source, délai avant de l'interroger à nouveau (`1min`) ; entre-temps les widgets montrent
    les dernières données obtenues."""
    row_level: RowLevel = Field(default_factory=RowLevel)
    """Règles d'accès aux lignes pour les agents rattachés à un territoire (EPCI, commune) : ils ne voient que les
    lignes de leur territoire, filtrées avant agrégation."""
    # catalogue description (pilotis/core/schema_catalogue.py, shown on /donnees)
    licence: str = ""
    """Licence des données (« Licence Ouverte / Etalab 2.0 »), citée au catalogue et dans les exports."""
    licence_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    """Adresse du texte de la licence (`https://www.etalab.gouv.fr/licence-ouverte-open-licence/`)."""
    update: UpdatePromise | None = None
    """Rythme de mise à jour promis : `{frequency: monthly, delay: 60j}` ; un jeu en retard est signalé."""
    coverage: Coverage | None = None
    """Couverture annoncée : `{territory: …, period: …}`."""
    sensitivity: Sensitivity = Field(default_factory=Sensitivity)
    """Sensibilité : `{personal_data: true}`, `{statistical_secrecy: true}` ou une règle de secret statistique
    `{statistical_secrecy: {columns: [foyers], threshold: 5, exempt_roles: [admin]}}` (docs/secret-statistique.md)."""
    publishable: bool = False
    """`true` : le jeu peut être publié en données ouvertes (export DCAT-AP du catalogue)."""

    @field_validator("ttl", "retry", mode="before")
    @classmethod
    def _duration(cls, value: str | int) -> int:
        return parse_duration(value)

    @model_validator(mode="after")
    def _ttl_or_refresh(self) -> DatasetBase:
        if self.refresh is not None and "ttl" in self.model_fields_set:
            raise HintedValueError(
                "`ttl` et `refresh` s'excluent", "gardez `refresh` (relecture planifiée) ou `ttl` (durée en cache)"
            )
        return self

    def label(self, column: str) -> str:
        """The French label of ``column``."""
        spec = self.columns.get(column)
        if spec and spec.label:
            return spec.label
        return column.replace("_", " ").capitalize()


# --------------------------------------------------------------------------- widgets


class WidgetBase(Strict):
    """Options common to every widget."""

    id: str = Field(pattern=SLUG)
    """Identifiant unique dans le tableau de bord (lettres minuscules, chiffres, `_`, `-`)."""
    type: str
    """Type de widget : un des types enregistrés (`python -m pilotis schema` les liste, avec les options de
    chacun)."""
    title: str = ""
    """Titre affiché au-dessus du widget."""
    description: str = ""
    """Texte d'aide sous le titre (et nom accessible des graphiques)."""
    width: int = Field(default=6, ge=1, le=12)
    """Largeur sur une grille de 12 colonnes (écran large)."""


class DataWidgetBase(WidgetBase):
    """A widget that shows the result of a query on one dataset."""

    dataset: str
    """Identifiant du jeu de données (défini dans `config/datasets/`)."""
    where: dict[str, str | int | float | bool | list[str | int | float]] = Field(default_factory=dict)
    """Filtres fixes `colonne: valeur` (ou liste de valeurs) appliqués avant agrégation."""
    period: Literal["filter", "all"] = "filter"
    """`filter` : suit le filtre de période ; `all` : toute la période disponible."""
    territory: Literal["filter", "all"] = "filter"
    """`filter` : suit le filtre territorial ; `all` : tout le territoire."""


# --------------------------------------------------------------------------- dashboards


class AccessRule(Strict):
    """Who may open a dashboard (enforced on the page, its callbacks, exports and API)."""

    departments: list[str] = Field(default_factory=list)
    """Directions dont les agents peuvent ouvrir le tableau de bord."""
    roles: list[str] = Field(default_factory=list)
    """Rôles autorisés quelle que soit la direction (ex. `president`)."""


class TerritoryFilter(Strict):
    """A territory selector (département, EPCI, commune)."""

    levels: list[TerritoryLevel] = Field(default_factory=all_levels)
    """Niveaux proposés dans la liste."""


class PeriodFilter(Strict):
    """A year selector whose choices come from a dataset's period column."""

    dataset: str
    """Jeu de données dont la période fixe les années proposées."""
    default: Literal["latest", "all"] = "latest"
    """Année par défaut : la plus récente (`latest`) ou toute la période (`all`)."""


class Filters(Strict):
    """The filters shown at the top of a dashboard; every data widget follows them."""

    territory: TerritoryFilter | None = None
    """Filtre territorial."""
    period: PeriodFilter | None = None
    """Filtre de période (année)."""


class DashboardSpec(Strict):
    """A thematic dashboard: one YAML file in `dashboards/`."""

    id: str = Field(pattern=SLUG)
    """Identifiant unique ; aussi le nom du module Python de callbacks optionnel (`<id>.py`)."""
    title: str
    """Titre affiché dans la navigation et en haut de la page."""
    description: str = ""
    """Résumé affiché sur la carte de la page d'accueil."""
    icon: str = "bar-chart"
    """Icône Bootstrap Icons (sans le préfixe `bi-`), ex. `people`, `cash-coin`."""
    order: int = 100
    """Position dans la navigation (croissante)."""
    path: str | None = Field(default=None, pattern=r"^/[a-z0-9/_-]*$")
    """Adresse de la page ; par défaut `/<id>`."""
    department: str | None = None
    """Direction propriétaire (affichée ; les droits sont dans `access`)."""
    access: Literal["public-internal"] | AccessRule | None = None
    """Qui peut voir : `public-internal` (tout agent connecté) ou `{departments: […], roles: […]}`. Absent :
    administrateurs seulement."""
    overview: bool = False
    """Tableau de synthèse (ex. `pilotage`) : il rassemble des indicateurs d'autres tableaux de bord ; chaque widget
    n'est montré qu'aux personnes qui peuvent ouvrir un tableau de bord thématique qui affiche ses indicateurs, avec
    un lien vers ce tableau."""
    refresh: Duration | None = None
    """Rafraîchissement automatique des widgets (`5min`) ; absent : pas de rafraîchissement."""
    filters: Filters = Field(default_factory=Filters)
    """Filtres en haut de page."""
    widgets: list[dict] = Field(min_length=1)
    """Widgets, dans l'ordre d'affichage (grille de 12 colonnes)."""

    @field_validator("refresh", mode="before")
    @classmethod
    def _duration(cls, value: str | int | None) -> int | None:
        return None if value is None else parse_duration(value)

    @property
    def url(self) -> str:
        """The page path of this dashboard."""
        return self.path or f"/{self.id}"


DepartmentId = Annotated[str, StringConstraints(pattern=SLUG)]
DepartmentLabel = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


class Departments(RootModel[dict[DepartmentId, DepartmentLabel]]):
    """`config/departments.yaml`: the org chart, one `identifiant: Libellé de la direction` per line.

    Users belong to one direction; dashboards name their owner (`department`) and the directions
    allowed to open them (`access.departments`) by these identifiers.
    """

    model_config = ConfigDict(frozen=True)


class Collectivite(Strict):
    """The local authority shown in the header."""

    nom: str
    """Nom affiché (ex. « Département de la Mayenne »)."""
    logo: str | None = None
    """Fichier du logo dans `assets/` (SVG ou PNG)."""
    code_departement: str = Field(pattern=r"^(\d{2,3}|2A|2B)$")
    """Code du département du territoire de démonstration (filtre territorial)."""


class PortalConfig(Strict):
    """`config/portal.yaml`: the portal-wide settings."""

    collectivite: Collectivite
    """La collectivité."""
    title: str = "Pilotis"
    """Nom du portail."""
    communes_dataset: str = "communes"
    """Jeu de données de référence des communes (code_insee, nom, epci_siren, epci_nom, population)."""
    epci_dataset: str = "epci"
    """Jeu de données de référence des EPCI (epci_siren, epci_nom, population)."""
    geo_communes: str = "data/geo/communes.geojson"
    """Contours des communes (GeoJSON, propriété `code` = code INSEE)."""
    geo_epci: str = "data/geo/epci.geojson"
    """Contours des EPCI (GeoJSON, propriété `code` = SIREN)."""
