"""Alert rules (``config/alerts/<id>.yaml``): what is watched, when it alerts, who is told.

A rule watches a dataset measure (``dataset`` + ``measure``, one instance per value of the
``instance`` column: a sensor, a device) or an indicator (``indicator``, one instance per
territory of the ``per`` level: each commune, each EPCI, or the département). Its ``thresholds``
give the levels (vigilance < alerte < crise), ``recovery`` the value to cross back before the
alert ends (hysteresis), ``for`` how long a threshold must stay crossed before it fires.

Every key is documented here (the docstrings are the reference, see docs/alertes.md); the
evaluation itself is :mod:`pilotis.core.alert_states` (the state machine) and
:mod:`pilotis.core.alert_values` (the values, through a :class:`~pilotis.core.scope.Scope`).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from pilotis.core.errors import HintedValueError
from pilotis.core.schema import CronSchedule, Duration, Strict, parse_duration

LEVELS = ("vigilance", "alerte", "crise")
"""Alert levels, from the mildest; each is shown with an icon AND its word, never by colour alone."""
LEVEL_ICONS = {"vigilance": "⚠", "alerte": "▲", "crise": "⛔"}
Channel = Literal["email", "webhook", "matrix"]
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_ROOM = re.compile(r"^(![^\s]+|#[^:\s]+:[^\s]+)$")
"""A room id (``!opaque:server``; since room version 12 ``!opaque``, no server) or an alias (``#name:server``)."""
_TERRITORY = re.compile(r"^(epci|commune):[0-9A-Za-z]+$")


def _seconds(value: str | int | None) -> int | None:
    return None if value is None else parse_duration(value)


class _Strict(Strict):
    """Base of the alert rule's blocks: a YAML model (unknown keys are errors) whose keys may be
    written by their alias (``for``, a Python keyword, is the field ``for_``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Recipients(_Strict):
    """Who is told: accounts by name, members of directions, holders of roles (a user restricted
    to a territory is told only about the instances inside it)."""

    users: list[str] = Field(default_factory=list)
    """Identifiants de comptes (`agent.rsa`)."""
    departments: list[str] = Field(default_factory=list)
    """Directions de l'organigramme (`config/departments.yaml`) : tous leurs membres actifs."""
    roles: list[str] = Field(default_factory=list)
    """Rôles (`manager`, `admin`…) : tous les comptes actifs qui les portent."""
    emails: list[str] = Field(default_factory=list)
    """Adresses extérieures (astreinte) : reçoivent tout, elles ne sont restreintes à aucun territoire."""

    def empty(self) -> bool:
        return not (self.users or self.departments or self.roles or self.emails)


class NoData(_Strict):
    """What a series that stops does."""

    after: Duration = 900
    """Sans valeur depuis cette durée (`15min`), l'instance passe « sans données »."""
    action: Literal["alert", "keep"] = "alert"
    """`alert` : état « sans données », notifié ; `keep` : l'état reste celui d'avant."""

    _after = field_validator("after", mode="before")(lambda v: _seconds(v))


class Escalation(_Strict):
    """A second group told when nobody acknowledged the alert in time."""

    after: Duration
    """Délai sans acquittement (`30min`) avant de prévenir le second groupe."""
    recipients: Recipients
    """Le second groupe (mêmes clés que `recipients`)."""

    _after = field_validator("after", mode="before")(lambda v: _seconds(v))


class Maintenance(_Strict):
    """A recurring window during which nothing is notified (states are still recorded)."""

    cron: CronSchedule
    """Début de la fenêtre, calendrier cron à cinq champs, heure de Paris (`"0 2 * * 0"`)."""
    duration: Duration
    """Durée de la fenêtre (`2h`)."""

    _duration = field_validator("duration", mode="before")(lambda v: _seconds(v))


class MatrixRoom(_Strict):
    """A Matrix room told about every change (Tchap is a Matrix homeserver: same settings). The
    bot's access token is read from the environment variable named by ``token_env``, never
    written in the file (docs/alertes.md, « Matrix / Tchap »)."""

    homeserver: str
    """Adresse du serveur Matrix du compte du robot (`https://matrix.agent.interieur.tchap.gouv.fr`)."""
    room: str
    """Salon : identifiant (`!abcdef:serveur`) ou alias (`#crues-53:serveur`) ; le robot doit y être invité."""
    token_env: str
    """Nom de la variable d'environnement qui contient le jeton d'accès du robot (`PILOTIS_MATRIX_TOKEN`) ; jamais le
    jeton lui-même."""
    lang: Literal["fr", "en"] = "fr"
    """Langue du message : `fr` (défaut) ou `en`."""
    territory: str | None = None
    """Limiter le salon aux instances d'un territoire (`epci:200083392`, `commune:53130`), comme un agent restreint.
    Absent : toutes les instances."""

    @field_validator("homeserver")
    @classmethod
    def _homeserver(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise HintedValueError(
                f"`{value}` n'est pas l'adresse d'un serveur Matrix", "écrivez `https://matrix.exemple.fr`"
            )
        return value.rstrip("/")

    @field_validator("room")
    @classmethod
    def _room(cls, value: str) -> str:
        if not _ROOM.match(value):
            raise HintedValueError(
                f"`{value}` n'est ni un identifiant ni un alias de salon Matrix",
                'écrivez `"!identifiant:serveur"` ou `"#alias:serveur"`, entre guillemets (# ouvre un commentaire)',
            )
        return value

    @field_validator("token_env")
    @classmethod
    def _token_env(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            raise HintedValueError(
                "`token_env` est le NOM d'une variable d'environnement, pas le jeton",
                "écrivez par exemple `token_env: PILOTIS_MATRIX_TOKEN` et placez le jeton dans cette variable",
            )
        return value

    @field_validator("territory")
    @classmethod
    def _territory(cls, value: str | None) -> str | None:
        if value is not None and not _TERRITORY.match(value):
            raise HintedValueError(f"territoire `{value}` invalide", "écrivez `epci:<SIREN>` ou `commune:<code INSEE>`")
        return value


class Thresholds(_Strict):
    """The value at which each level starts (at least one)."""

    vigilance: float | None = None
    """Seuil du niveau « vigilance »."""
    alerte: float | None = None
    """Seuil du niveau « alerte »."""
    crise: float | None = None
    """Seuil du niveau « crise »."""

    def items(self) -> list[tuple[str, float]]:
        """``(level, threshold)`` for the levels given, mildest first."""
        return [(level, value) for level in LEVELS if (value := getattr(self, level)) is not None]


class AlertRule(_Strict):
    """One alert rule (`config/alerts/<id>.yaml`, its id is the file name)."""

    id: SkipJsonSchema[str] = Field("", exclude=True)
    """Rempli par le chargement : le nom du fichier sans `.yaml` (ne s'écrit pas dans le fichier)."""
    label: str
    """Libellé lisible de la règle (objet des messages, page /alertes)."""
    dataset: str | None = None
    """Jeu de données surveillé (avec `measure`) ; ou bien `indicator`."""
    measure: str | None = None
    """Mesure du jeu de données : nommée ou expression (`avg(valeur)`, `max(temperature)`)."""
    indicator: str | None = None
    """Indicateur surveillé (`rsa.foyers_allocataires`), évalué comme sur une page."""
    instance: str | None = None
    """Colonne du jeu de données : une instance par valeur (un capteur, un appareil). Absent : une seule."""
    territory_column: str | None = None
    """Colonne donnant le code INSEE de la commune de chaque instance (jeu de données) : un agent restreint à un
    territoire n'est prévenu que pour les instances qui s'y trouvent."""
    time_column: str | None = None
    """Colonne horodatée du jeu de données ; avec `window`, seules les lignes récentes comptent."""
    window: Duration | None = None
    """Fenêtre lue à chaque évaluation (`10min`) : les lignes de `time_column` depuis maintenant − window."""
    per: Literal["commune", "epci", "departement"] = "departement"
    """Indicateur : une instance par commune, par EPCI ou une seule pour le département."""
    territories: list[str] = Field(default_factory=list)
    """Indicateur : limiter aux territoires listés (codes INSEE ou SIREN). Vide : tous ceux du niveau `per`."""
    where: dict[str, str | int | float | bool | list[str | int | float]] = Field(default_factory=dict)
    """Conditions fixes sur les lignes (`{type: temperature}`)."""
    condition: Literal["above", "below"] = "above"
    """`above` : alerte quand la valeur atteint ou dépasse le seuil ; `below` : quand elle l'atteint ou passe
    dessous."""
    thresholds: Thresholds
    """Seuils par niveau : `{vigilance: 30, alerte: 35, crise: 40}`."""
    recovery: float | None = None
    """Seuil de retour (hystérésis) : l'alerte ne cesse qu'une fois ce seuil franchi en sens inverse. Absent : le seuil
    le plus bas."""
    for_: Duration = Field(0, alias="for")
    """Durée pendant laquelle le seuil doit rester franchi avant l'alerte (`5min`) ; 0 : tout de suite."""
    recover_for: Duration = 0
    """Durée pendant laquelle le retour doit tenir avant la fin de l'alerte (`5min`)."""
    every: Duration = 60
    """Fréquence d'évaluation (`1min`), alignée sur l'horloge."""
    nodata: NoData = Field(default_factory=NoData)
    """Série qui s'arrête : `{after: 15min, action: alert}`."""
    on_error: Literal["error", "keep"] = "error"
    """Erreur d'évaluation (source injoignable) : `error` (état « erreur », notifié) ou `keep` (rien ne change)."""
    repeat: Duration | None = None
    """Rappel tant que l'alerte n'est ni acquittée ni terminée (`4h`). Absent : pas de rappel."""
    recipients: Recipients
    """Destinataires : `{users: […], departments: […], roles: […], emails: […]}`."""
    channels: list[Channel] = Field(default_factory=lambda: list[Channel](["email"]))
    """Canaux : `email` (SMTP), `webhook` (JSON signé HMAC-SHA256) et/ou `matrix` (salons Matrix ou Tchap)."""
    webhooks: list[str] = Field(default_factory=list)
    """Adresses des webhooks (`https://…`), `${VARIABLE}` lue dans l'environnement."""
    matrix: list[MatrixRoom] = Field(default_factory=list)
    """Salons Matrix / Tchap du canal `matrix` : `[{homeserver: https://…, room: "!id:serveur", token_env: NOM}]`."""
    escalation: Escalation | None = None
    """Second groupe prévenu sans acquittement : `{after: 30min, recipients: {roles: [manager]}}`."""
    maintenance: list[Maintenance] = Field(default_factory=list)
    """Fenêtres de maintenance récurrentes (rien n'est notifié pendant) : `[{cron: "0 2 * * 0", duration: 2h}]`."""
    dashboard: str | None = None
    """Tableau de bord lié dans les messages (son identifiant)."""

    _durations = field_validator("for_", "recover_for", "every", "window", "repeat", mode="before")(
        lambda v: _seconds(v)
    )

    @field_validator("every")
    @classmethod
    def _every(cls, value: int) -> int:
        if value < 60 or value % 60:
            raise HintedValueError("`every` : un nombre entier de minutes", "écrivez par exemple `1min` ou `5min`")
        return value

    @field_validator("thresholds")
    @classmethod
    def _ordered(cls, value: Thresholds, info: ValidationInfo) -> Thresholds:
        if not value.items():
            raise HintedValueError("au moins un seuil", "écrivez par exemple `{alerte: 35}`")
        values = [v for _, v in value.items()]
        if values != sorted(values, reverse=info.data.get("condition") == "below"):
            raise HintedValueError(
                "seuils dans le désordre : vigilance, puis alerte, puis crise",
                "avec `condition: above` les seuils croissent ; avec `below` ils décroissent",
            )
        return value

    @field_validator("recovery")
    @classmethod
    def _recovery(cls, value: float | None, info: ValidationInfo) -> float | None:
        thresholds = info.data.get("thresholds")
        if value is None or thresholds is None:
            return value
        first = thresholds.items()[0][1]
        if value > first if info.data.get("condition", "above") == "above" else value < first:
            raise HintedValueError(
                "le seuil de retour doit être du côté normal du premier seuil",
                "sous le seuil avec `condition: above`, au-dessus avec `below`",
            )
        return value

    @field_validator("recipients")
    @classmethod
    def _someone(cls, value: Recipients) -> Recipients:
        if value.empty():
            raise HintedValueError("personne n'est prévenu", "écrivez par exemple `{roles: [admin]}`")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> AlertRule:
        if (self.dataset is None) == (self.indicator is None):
            raise HintedValueError(
                "une règle surveille soit `dataset` (avec `measure`), soit `indicator`", "gardez l'un des deux"
            )
        if self.dataset is not None and not self.measure:
            raise HintedValueError("`measure` manque", "écrivez par exemple `measure: avg(valeur)`")
        if "webhook" in self.channels and not self.webhooks:
            raise HintedValueError("canal `webhook` sans adresse", "ajoutez `webhooks: [https://…]`")
        if "matrix" in self.channels and not self.matrix:
            raise HintedValueError(
                "canal `matrix` sans salon", "ajoutez `matrix: [{homeserver: https://…, room: …, token_env: …}]`"
            )
        return self

    # ------------------------------------------------------------------ thresholds
    def level_of(self, value: float) -> str | None:
        """The highest level whose threshold ``value`` reaches (None: none)."""
        found = None
        for level, threshold in self.thresholds.items():
            if value >= threshold if self.condition == "above" else value <= threshold:
                found = level
        return found

    def threshold_of(self, level: str | None) -> float | None:
        """The threshold of ``level``."""
        return dict(self.thresholds.items()).get(level or "")

    def recovered(self, value: float) -> bool:
        """True when ``value`` is back on the normal side of the recovery threshold (hysteresis)."""
        limit = self.recovery if self.recovery is not None else self.thresholds.items()[0][1]
        return value < limit if self.condition == "above" else value > limit


AlertRules = Annotated[dict[str, AlertRule], "rules by id"]


def level_rank(level: str | None) -> int:
    """0 for no level, then 1, 2, 3 for vigilance, alerte, crise."""
    return LEVELS.index(level) + 1 if level in LEVELS else 0


def level_words(level: str | None) -> str:
    """The level with its icon and its word (« ⛔ crise »): never a colour alone."""
    return f"{LEVEL_ICONS[level]} {level}" if level in LEVEL_ICONS else ""
