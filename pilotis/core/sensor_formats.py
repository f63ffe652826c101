"""Readings posted to ``/capteurs/<source>/releves``: the three accepted formats, checked one by one.

- a plain JSON batch: ``{"readings": [{"device": "…", "ts": "2026-12-05T10:00:00Z", "value": 1.2}]}``
  (or the bare list, or one reading);
- a ChirpStack v4 HTTP integration ``up`` event (``?event=up``): ``deviceInfo.devEui`` /
  ``deviceInfo.deviceName``, ``time``, the decoded ``object``;
- a The Things Stack v3 uplink webhook: ``end_device_ids.device_id`` / ``dev_eui``, ``received_at``,
  ``uplink_message.decoded_payload``.

Every reading is checked alone: an unknown device, a missing or unreadable timestamp, a value
that is not a number or outside the device's ``range`` is refused with the device and the field
named, and the rest of the batch is kept. No Flask here: the view hands the decoded body in.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from pilotis.core.i18n import add_texts, t
from pilotis.core.sensors import DeviceSpec, SensorSourceSpec

FUTURE_TOLERANCE = dt.timedelta(minutes=5)
"""A clock slightly ahead is tolerated; a reading dated later than this is refused."""

SENSOR_TEXTS: dict[str, dict[str, str]] = {
    "sensor_unknown_device": {
        "fr": "capteur « {device} » inconnu de la source « {source} »",
        "en": "device “{device}” is not part of source “{source}”",
    },
    "sensor_missing": {"fr": "champ obligatoire manquant", "en": "required field missing"},
    "sensor_bad_time": {
        "fr": "horodatage illisible : date ISO 8601 avec fuseau attendue (2026-12-05T10:00:00Z)",
        "en": "unreadable timestamp: an ISO 8601 date with a time zone is expected (2026-12-05T10:00:00Z)",
    },
    "sensor_future": {
        "fr": "horodatage dans le futur ({ts})",
        "en": "timestamp in the future ({ts})",
    },
    "sensor_not_number": {"fr": "valeur non numérique", "en": "value is not a number"},
    "sensor_out_of_range": {
        "fr": "valeur {value} hors de l'intervalle plausible [{low} ; {high}] {unit}",
        "en": "value {value} outside the plausible range [{low}; {high}] {unit}",
    },
    "sensor_not_object": {"fr": "relevé : objet JSON attendu", "en": "reading: a JSON object is expected"},
}
add_texts(SENSOR_TEXTS, "pilotis.core.sensor_formats")


@dataclass(frozen=True)
class Reading:
    """An accepted reading: the device, when (naive UTC), the value."""

    device: DeviceSpec
    ts: dt.datetime
    value: float


@dataclass(frozen=True)
class Refusal:
    """A refused reading: its place in the batch, the device and the field named, why."""

    index: int
    device: str
    field: str
    key: str
    values: tuple[tuple[str, object], ...] = ()

    def message(self, lang: str = "fr") -> str:
        """The reason, in ``lang``."""
        return t(self.key, lang, **dict(self.values))

    def as_json(self, lang: str = "fr") -> dict[str, object]:
        """What the answer lists for this reading."""
        return {"index": self.index, "capteur": self.device, "champ": self.field, "message": self.message(lang)}


@dataclass(frozen=True)
class Item:
    """One reading as the format gives it, before any check."""

    device: Any
    ts: Any
    value: Any
    field: str = "value"
    """The name of the value's field in this format (named in a refusal)."""
    ts_field: str = "ts"


def detect(body: Any, event: str | None) -> str:
    """``chirpstack``, ``tts`` or ``json``, from the body's shape (and ChirpStack's ``event``)."""
    if isinstance(body, dict) and (event or "deviceInfo" in body):
        return "chirpstack"
    if isinstance(body, dict) and "end_device_ids" in body:
        return "tts"
    return "json"


def items_of(body: Any, kind: str) -> list[Item | None]:
    """The readings of a body of format ``kind`` (None for an entry that is not an object)."""
    if kind == "chirpstack":
        info = body.get("deviceInfo") or {}
        device = info.get("devEui") or info.get("deviceName")
        decoded = body.get("object")
        return [_lorawan(device, body.get("time"), decoded, "object", "time")]
    if kind == "tts":
        ids = body.get("end_device_ids") or {}
        uplink = body.get("uplink_message") or {}
        device = ids.get("device_id") or ids.get("dev_eui")
        when = body.get("received_at") or uplink.get("received_at")
        return [_lorawan(device, when, uplink.get("decoded_payload"), "uplink_message.decoded_payload", "received_at")]
    entries = body.get("readings", body) if isinstance(body, dict) and "device" not in body else body
    entries = entries if isinstance(entries, list) else [entries]
    return [
        Item(e.get("device"), e.get("ts", e.get("time")), e.get("value")) if isinstance(e, dict) else None
        for e in entries
    ]


class _Lorawan:
    """The decoded payload of a LoRaWAN event: the value is read once the device is known."""

    def __init__(self, decoded: Any, where: str) -> None:
        self.decoded = decoded
        self.where = where


def _lorawan(device: Any, when: Any, decoded: Any, where: str, ts_field: str) -> Item:
    return Item(device, when, _Lorawan(decoded, where), field=where, ts_field=ts_field)


def parse_time(value: Any) -> dt.datetime | None:
    """Naive UTC from an ISO 8601 string with a time zone (nanoseconds are cut to microseconds)."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    moment: dt.datetime | None
    try:
        moment = dt.datetime.fromisoformat(value)  # the common case, fast (`Z` is read since 3.11)
    except ValueError:
        moment = _slow_time(value)
    if moment is None or moment.tzinfo is None:
        return None
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _slow_time(value: str) -> dt.datetime | None:
    """What ``fromisoformat`` refuses: more than six decimals (ChirpStack writes nanoseconds)."""
    text = value.strip()
    head, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def check(
    items: list[Item | None], source_id: str, spec: SensorSourceSpec, now: dt.datetime
) -> tuple[list[Reading], list[Refusal]]:
    """Accepted readings and refusals (``now``: naive UTC)."""
    accepted: list[Reading] = []
    refused: list[Refusal] = []
    for index, item in enumerate(items):
        if item is None:
            refused.append(Refusal(index, "", "", "sensor_not_object"))
            continue
        outcome = _check_one(index, item, source_id, spec, now)
        (accepted if isinstance(outcome, Reading) else refused).append(outcome)  # type: ignore[arg-type]
    return accepted, refused


def _check_one(index: int, item: Item, source_id: str, spec: SensorSourceSpec, now: dt.datetime) -> Reading | Refusal:
    name = str(item.device) if isinstance(item.device, (str, int)) else ""  # noqa: UP038 - faster than a union
    if not name:
        return Refusal(index, "", "device", "sensor_missing")
    device = spec.device(name)
    if device is None:
        return Refusal(index, name, "device", "sensor_unknown_device", (("device", name), ("source", source_id)))
    if item.ts is None:
        return Refusal(index, device.code, item.ts_field, "sensor_missing")
    moment = parse_time(item.ts)
    if moment is None:
        return Refusal(index, device.code, item.ts_field, "sensor_bad_time")
    if moment > now + FUTURE_TOLERANCE:
        return Refusal(index, device.code, item.ts_field, "sensor_future", (("ts", str(item.ts)),))
    raw, field = item.value, item.field
    if isinstance(raw, _Lorawan):
        field = f"{raw.where}.{device.payload_key}"
        raw = raw.decoded.get(device.payload_key) if isinstance(raw.decoded, dict) else None
    if raw is None:
        return Refusal(index, device.code, field, "sensor_missing")
    if type(raw) not in (float, int) or not math.isfinite(raw):  # bool is not a number here
        return Refusal(index, device.code, field, "sensor_not_number")
    low, high = device.range
    if not low <= raw <= high:
        values = (("value", raw), ("low", low), ("high", high), ("unit", device.unit))
        return Refusal(index, device.code, field, "sensor_out_of_range", values)
    return Reading(device, moment, float(raw))
