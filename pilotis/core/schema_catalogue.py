"""What the data catalogue (``/donnees``) says about a dataset besides how to read it: its licence,
the update rhythm its producer promises, its coverage, its sensitivity and whether it may be
published as open data (DCAT-AP). Every key is optional: a dataset without them still loads."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from pilotis.core.schema_base import Duration, Strict, parse_duration

Frequency = Literal["daily", "weekly", "monthly", "quarterly", "yearly", "irregular"]

FREQUENCY_DAYS: dict[str, int] = {"daily": 1, "weekly": 7, "monthly": 31, "quarterly": 92, "yearly": 366}
"""The longest interval between two updates at each promised rhythm, in days (``irregular``: none)."""


class UpdatePromise(Strict):
    """The update rhythm the producer promises (compared in the catalogue with the data received)."""

    frequency: Frequency
    """Rythme promis : `daily`, `weekly`, `monthly`, `quarterly`, `yearly` ou `irregular`."""
    delay: Duration = 0
    """Délai de publication après la fin d'une période (`60j` : les données de janvier arrivent fin mars)."""

    @field_validator("delay", mode="before")
    @classmethod
    def _delay(cls, value: str | int) -> int:
        return parse_duration(value)


class Coverage(Strict):
    """What the dataset covers, in words (the catalogue also shows the periods found in the data)."""

    territory: str = ""
    """Territoire couvert (« Mayenne, 240 communes »)."""
    period: str = ""
    """Période couverte annoncée (« depuis janvier 2015 »)."""


class SecrecyRule(Strict):
    """A statistical secrecy rule: small counts masked after aggregation (docs/secret-statistique.md)."""

    columns: list[str] = Field(min_length=1)
    """Colonnes d'effectifs protégées (`[foyers_allocataires]`, ou `["*"]` : le nombre de lignes). Une cellule
    agrégée dont l'effectif est inférieur au seuil est masquée (« < 5 »), avec toute mesure qui lit ces colonnes."""
    threshold: int = Field(default=5, ge=2, le=1000)
    """Seuil : un effectif strictement inférieur (et non nul, sauf `zeros: true`) est masqué."""
    zeros: bool = False
    """`true` : un effectif nul est masqué lui aussi (par défaut, « aucun foyer » reste affiché)."""
    exempt_roles: list[str] = Field(default_factory=list)
    """Rôles autorisés à voir les petits effectifs exacts (`[admin]`) ; les autres voient « < 5 »."""
    label: str = ""
    """Texte affiché à la place d'une valeur masquée (par défaut « < seuil », ex. « < 5 »)."""

    def shown(self) -> str:
        """What a masked cell shows (« < 5 »)."""
        return self.label or f"< {self.threshold}"


class Sensitivity(Strict):
    """Whether the dataset holds personal data or figures under statistical secrecy."""

    personal_data: bool = False
    """`true` : données à caractère personnel (RGPD) ; l'aperçu des lignes est réservé aux administrateurs."""
    statistical_secrecy: bool | SecrecyRule = False
    """`true` : simple mention au catalogue (petits effectifs) ; une règle `{columns, threshold, exempt_roles}`
    masque en plus les petits effectifs dans chaque requête (secret statistique, secret secondaire compris)."""
    note: str = ""
    """Précision sur la sensibilité (base légale, règles de diffusion)."""
