"""Sensor sources (`config/sensors/<id>.yaml`): who may post readings, for which devices.

A source groups devices (a water-level gauge, a rain gauge…) that post readings to
``POST /capteurs/<id>/releves``. Each device says where it is (coordinates, commune), what it
measures (quantity, unit), how often it should speak (``interval``) and which values are
plausible (``range``): a reading outside it is refused with a message naming the device and the
field. The file is validated like every other YAML file (``fichier:ligne:colonne``).
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, StringConstraints, field_validator, model_validator

from pilotis.core.errors import HintedValueError
from pilotis.core.schema import SLUG, Duration, Strict, parse_duration

if TYPE_CHECKING:
    from pilotis.core.load_files import ConfigReader

DeviceCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]


class DeviceSpec(Strict):
    """One sensor: where it is, what it measures, how often, which values are plausible."""

    code: DeviceCode
    """Identifiant du capteur dans les relevés envoyés (`device`), unique dans la source (`mayenne-laval`)."""
    label: str
    """Nom affiché (« La Mayenne à Laval »)."""
    lat: float = Field(ge=-90, le=90)
    """Latitude WGS84 (degrés décimaux)."""
    lon: float = Field(ge=-180, le=180)
    """Longitude WGS84 (degrés décimaux)."""
    commune: Annotated[str, StringConstraints(pattern=r"^(\d{5}|2[AB]\d{3})$")]
    """Code INSEE de la commune où se trouve le capteur (texte : `"53130"`), pour le filtre territorial et les
    règles d'accès aux lignes."""
    quantity: Annotated[str, StringConstraints(pattern=SLUG)]
    """Grandeur mesurée (`hauteur`, `pluie`, `temperature`…)."""
    unit: str
    """Unité des valeurs (`m`, `mm`, `°C`)."""
    interval: Duration = 900
    """Intervalle attendu entre deux relevés (`15min`) : au-delà de deux intervalles sans relevé, le capteur est
    « en retard »."""
    range: tuple[float, float]
    """Valeurs plausibles `[min, max]` : un relevé hors de cet intervalle est refusé (HTTP 400 nommant le capteur)."""
    dev_eui: Annotated[str, StringConstraints(pattern=r"^[0-9A-Fa-f]{16}$")] | None = None
    """DevEUI LoRaWAN (16 chiffres hexadécimaux) : reconnaît le capteur dans les événements ChirpStack et The Things
    Stack."""
    field: str = ""
    """Clé de la valeur dans la charge utile décodée LoRaWAN (`object` ChirpStack, `decoded_payload` TTS) ; vide : le
    nom de la grandeur (`quantity`)."""

    @field_validator("interval", mode="before")
    @classmethod
    def _interval(cls, value: str | int) -> int:
        seconds = parse_duration(value)
        if seconds < 1:
            raise HintedValueError("intervalle nul", "écrivez par exemple `15min`")
        return seconds

    @model_validator(mode="after")
    def _ordered(self) -> DeviceSpec:
        low, high = self.range
        if low >= high:
            raise HintedValueError(f"intervalle `range` [{low}, {high}] vide", "écrivez `[min, max]` avec min < max")
        return self

    @property
    def payload_key(self) -> str:
        """The key of the value in a decoded LoRaWAN payload."""
        return self.field or self.quantity


class SensorSourceSpec(Strict):
    """A sensor source: its devices and how long raw readings are kept."""

    title: str
    """Nom lisible de la source (« Capteurs de crue de la Mayenne »)."""
    description: str = ""
    """Ce que mesurent ces capteurs, qui les exploite."""
    producer: str = ""
    """Exploitant des capteurs, cité sous les widgets."""
    simulated: bool = False
    """`true` pour des relevés simulés (démonstration) : les widgets affichent « données simulées »."""
    raw_days: int = Field(default=90, ge=1, le=3650)
    """Durée de conservation des relevés bruts, en jours ; les moyennes horaires sont gardées sans limite."""
    rate_limit: int = Field(default=600, ge=1, le=1_000_000)
    """Nombre maximal de requêtes d'envoi par minute pour cette source (au-delà : HTTP 429)."""
    max_batch: int = Field(default=5000, ge=1, le=100_000)
    """Nombre maximal de relevés dans une requête (au-delà : HTTP 413)."""
    devices: list[DeviceSpec] = Field(min_length=1)
    """Les capteurs de la source."""

    @model_validator(mode="after")
    def _unique(self) -> SensorSourceSpec:
        seen: set[str] = set()
        for device in self.devices:
            if device.code in seen:
                raise HintedValueError(f"capteur `{device.code}` déclaré deux fois", "chaque `code` est unique")
            seen.add(device.code)
        euis = [d.dev_eui.lower() for d in self.devices if d.dev_eui]
        if len(euis) != len(set(euis)):
            raise HintedValueError("deux capteurs ont le même `dev_eui`", "chaque DevEUI est unique")
        return self

    @cached_property
    def _index(self) -> dict[str, DeviceSpec]:
        """Devices by code and by lower-case DevEUI (built once: a batch looks up every reading)."""
        index = {d.dev_eui.lower(): d for d in self.devices if d.dev_eui}
        index.update({d.code: d for d in self.devices})
        return index

    def device(self, code: str) -> DeviceSpec | None:
        """The device whose code is ``code`` (or whose DevEUI is, whatever its case)."""
        return self._index.get(code) or self._index.get(code.lower())


def load_sensor_sources(loader: ConfigReader) -> dict[str, SensorSourceSpec]:
    """Validated `<config>/sensors/*.yaml`, keyed by file name (the source id in the address)."""
    found: dict[str, SensorSourceSpec] = {}
    for path, doc in loader.spec_files("sensors", "une source de capteurs", "commencez par `title: …` puis `devices:`"):
        if not re.match(SLUG, path.stem):
            loader.issues.append(
                doc.issue(
                    (), f"nom de fichier `{path.name}` invalide", "minuscules, chiffres, `_` ou `-` : `crues.yaml`"
                )
            )
            continue
        spec = loader.validate(SensorSourceSpec, doc.data, doc)
        if spec is not None:
            found[path.stem] = spec
    return found
