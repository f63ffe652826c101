"""What the data catalogue (``/donnees``) says about a dataset besides how to read it: its licence,
the update rhythm its producer promises, its coverage, its sensitivity and whether it may be
published as open data (DCAT-AP). Every key is optional: a dataset without them still loads."""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator

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


class Sensitivity(Strict):
    """Whether the dataset holds personal data or figures under statistical secrecy."""

    personal_data: bool = False
    """`true` : données à caractère personnel (RGPD) ; l'aperçu des lignes est réservé aux administrateurs."""
    statistical_secrecy: bool = False
    """`true` : données soumises au secret statistique (petits effectifs)."""
    note: str = ""
    """Précision sur la sensibilité (base légale, règles de diffusion)."""
