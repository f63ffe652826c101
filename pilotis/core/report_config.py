"""Commission reports: the YAML format of ``config/reports/<id>.yaml`` (docs/reports.md).

A report is declared like a séance: a title, an audience (the same access model as a
dashboard), sections — key indicators, a dashboard's widgets (charts, tables, maps as tables),
free text in Markdown — default filters, and an optional schedule with its recipients. It is
generated as an accessible PDF (:mod:`pilotis.core.report_pdf`) on demand (``/rapports``,
``python -m pilotis report``) or by the worker (:mod:`pilotis.accounts.report_jobs`).

Every key is documented here: the docstrings are the reference (``python -m pilotis docs``).
References to dashboards, widgets, indicators and directions are checked at load time
(:mod:`pilotis.core.report_load`), each problem reported as ``fichier:ligne:colonne``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from pilotis.core.alert_rules import Recipients
from pilotis.core.errors import HintedValueError
from pilotis.core.schema import AccessRule, CronSchedule, Strict
from pilotis.core.schema_base import SLUG


class ReportFilters(Strict):
    """Default filters of the report (the report page and the command line may change them)."""

    territory: str | None = None
    """Territoire par défaut : `departement:53`, `epci:200083392`, `commune:53130`, ou le nom exact d'un EPCI ou
    d'une commune. Absent : tout le département (ou le territoire auquel le lecteur est restreint)."""
    period: Literal["latest"] | int = "latest"
    """Année par défaut : une année (`2020`) ou `latest` (la plus récente des données)."""


class ReportSection(Strict):
    """One part of the report, with its own heading (a bookmark of the PDF): exactly one of
    ``indicators``, ``widget`` (with ``dashboard``) or ``text``."""

    title: str | None = None
    """Titre de la partie (titre de niveau 2 et signet du PDF). Absent : le titre du widget, ou « Chiffres clés »."""
    indicators: list[str] | None = None
    """Indicateurs de `config/indicators/` (`rsa.foyers_allocataires`) : valeur pour le territoire et la
    période, évolution sur un an, dans un tableau."""
    dashboard: str | None = None
    """Tableau de bord du widget (`rsa`)."""
    widget: str | None = None
    """Widget de ce tableau de bord (`evolution`) : un graphique devient un graphique vectoriel suivi de son
    tableau de données ; un tableau, une carte ou un indicateur devient un tableau."""
    text: str | None = None
    """Texte libre en Markdown (titres, listes, gras, liens)."""

    @model_validator(mode="after")
    def _one_kind(self) -> ReportSection:
        kinds = [k for k in ("indicators", "widget", "text") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise HintedValueError(
                "une partie a exactement une des clés `indicators`, `widget` ou `text`"
                + (f" (ici : {', '.join(kinds)})" if kinds else ""),
                "séparez-la en plusieurs parties",
            )
        if (self.widget is None) != (self.dashboard is None):
            raise HintedValueError(
                "`widget` et `dashboard` vont ensemble", "écrivez `dashboard: rsa` et `widget: evolution`"
            )
        if self.indicators is not None and not self.indicators:
            raise HintedValueError(
                "liste `indicators` vide", "nommez au moins un indicateur (`rsa.foyers_allocataires`)"
            )
        return self

    @property
    def kind(self) -> Literal["indicators", "widget", "text"]:
        """Which kind of section this is."""
        if self.indicators is not None:
            return "indicators"
        return "widget" if self.widget is not None else "text"


class ReportSchedule(Strict):
    """Automatic sending by e-mail: each recipient gets the report computed with his own rights
    and territory (nothing for someone who may not see it)."""

    cron: CronSchedule
    """Calendrier cron à cinq champs, heure de Paris : `"30 7 * * 1"` (le lundi à 7 h 30)."""
    recipients: Recipients
    """Destinataires : `users`, `departments`, `roles` (comptes actifs ayant une adresse) ; `emails` n'est pas
    accepté (une adresse extérieure n'a pas de droits)."""
    territory: str | None = None
    """Territoire demandé (sinon celui des filtres) ; chaque destinataire restreint reçoit le sien."""

    @field_validator("recipients")
    @classmethod
    def _accounts(cls, value: Recipients) -> Recipients:
        if value.emails:
            raise HintedValueError(
                "adresses extérieures refusées pour un rapport", "nommez des comptes (`users`), directions ou rôles"
            )
        if value.empty():
            raise HintedValueError("aucun destinataire", "`users`, `departments` ou `roles`")
        return value


class ReportSpec(Strict):
    """A commission report: one YAML file in ``config/reports/``."""

    id: str = Field(pattern=SLUG)
    """Identifiant (aussi l'adresse : `/rapports/<id>`) ; le même que le nom du fichier."""
    title: str
    """Titre du rapport (titre du document PDF, page de garde)."""
    description: str = ""
    """Une phrase sous le titre (liste des rapports, page de garde)."""
    audience: AccessRule
    """Qui peut le générer : `departments` et `roles`, comme `access` d'un tableau de bord. Il faut de plus pouvoir
    ouvrir chaque tableau de bord et chaque indicateur dont il tire ses chiffres."""
    filters: ReportFilters = Field(default_factory=ReportFilters)
    """Filtres par défaut (territoire, année)."""
    sections: list[ReportSection] = Field(min_length=1)
    """Les parties, dans l'ordre (une table des matières les précède)."""
    schedule: ReportSchedule | None = None
    """Envoi automatique (facultatif)."""

    def dashboards(self) -> list[str]:
        """The dashboards the report draws from, each once."""
        return list(dict.fromkeys(s.dashboard for s in self.sections if s.dashboard))

    def indicator_ids(self) -> list[str]:
        """The indicators of its ``indicators`` sections, each once."""
        return list(dict.fromkeys(i for s in self.sections for i in (s.indicators or [])))
