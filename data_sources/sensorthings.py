"""OGC SensorThings API v1.1 (``type: sensorthings``): pull the ``Observations`` of a server.

Readings pushed by devices arrive through ``POST /capteurs/…``; a network that already publishes
its observations (FROST-Server, a regional air-quality or hydrometry platform) is read here
instead. The collection is read page after page by following ``@iot.nextLink`` (the server
chooses the page size, ``$top`` only asks), each observation giving:

- ``ts``: its ``phenomenonTime`` (naive UTC; the end of an interval ``début/fin``), ``heure``
  (``2026-12-05 14:00``, UTC) and ``jour``;
- ``valeur``: its ``result`` when it is a number (or a number written as text, as some servers
  do), else empty;
- ``datastream``: the ``name`` of its Datastream (asked with ``$expand=Datastream($select=name)``).

Like ``rest``, the observations are loaded into DuckDB once per refresh period and every widget
query runs there.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, field_validator

from data_sources.http import get_json
from data_sources.rest import RestSource
from data_sources.sql import expand_env
from pilotis.core.schema import DatasetBase, Duration, parse_duration
from pilotis.core.sensor_formats import parse_time
from pilotis.core.sources import SourceError, register_source


def observation_row(item: Any) -> dict[str, Any] | None:
    """One observation as a flat row; None when it has no readable time."""
    if not isinstance(item, dict):
        return None
    when = item.get("phenomenonTime")
    if isinstance(when, str) and "/" in when:  # an interval: the reading is valid at its end
        when = when.split("/", 1)[1]
    moment = parse_time(when)
    if moment is None:
        return None
    result = item.get("result")
    if isinstance(result, str):
        try:
            result = float(result.replace(",", "."))
        except ValueError:
            result = None
    value = float(result) if isinstance(result, int | float) and not isinstance(result, bool) else None
    if value is not None and not math.isfinite(value):
        value = None
    stream = item.get("Datastream")
    name = stream.get("name") if isinstance(stream, dict) else None
    return {
        "datastream": str(name if name is not None else ""),
        "ts": moment,
        "heure": moment.strftime("%Y-%m-%d %H:00"),
        "jour": moment.date(),
        "valeur": value,
    }


@register_source
class SensorThingsSource(RestSource):
    """Observations of an OGC SensorThings API v1.1 server."""

    type_name = "sensorthings"

    class Config(DatasetBase):
        """A SensorThings API `Observations` collection."""

        type: Literal["sensorthings"] = "sensorthings"
        """Type de source : `sensorthings`."""
        url: str
        """Adresse de la collection d'observations : `https://…/v1.1/Observations` ou celle d'un flux,
        `https://…/v1.1/Datastreams(12)/Observations` (`${VAR}` accepté)."""
        filter: str = ""
        """Filtre OData `$filter` envoyé au serveur (`phenomenonTime ge 2026-12-01T00:00:00Z`) ; vide : tout."""
        page_size: int = Field(default=1000, ge=1, le=10000)
        """Observations demandées par page (`$top` ; le serveur peut en donner moins)."""
        max_pages: int = Field(default=200, ge=1)
        """Garde-fou : nombre maximal de pages lues en suivant `@iot.nextLink` (au-delà : erreur)."""
        headers: dict[str, str] = Field(default_factory=dict)
        """En-têtes HTTP ; secrets par référence : `{Authorization: "Bearer ${STA_TOKEN}"}`."""
        timeout: Duration = 10
        """Délai maximal d'une requête (`10s`)."""

        @field_validator("timeout", mode="before")
        @classmethod
        def _timeout(cls, value: str | int) -> int:
            return parse_duration(value)

    def fetch(self) -> list[dict[str, Any]]:
        """Every observation, following ``@iot.nextLink`` (at most ``max_pages`` pages)."""
        cfg: Any = self.config
        headers = {k: expand_env(v) for k, v in cfg.headers.items()}
        params: dict[str, Any] | None = {
            "$top": cfg.page_size,
            "$orderby": "phenomenonTime asc",
            "$expand": "Datastream($select=name)",
        }
        if cfg.filter:
            params["$filter"] = cfg.filter  # type: ignore[index]
        url: str | None = expand_env(cfg.url)
        rows: list[dict[str, Any]] = []
        for _ in range(cfg.max_pages):
            assert url is not None
            document = get_json(self.id, url, params, headers, float(cfg.timeout))
            if not isinstance(document, dict) or not isinstance(document.get("value"), list):
                raise SourceError(f"source {self.id} : réponse illisible (pas de tableau `value`)", "malformed")
            rows += [row for row in map(observation_row, document["value"]) if row is not None]
            url = document.get("@iot.nextLink")
            if not url:
                return rows
            params = None  # the next link carries every parameter
        raise SourceError(
            f"source {self.id} : plus de {cfg.max_pages} pages d'observations (augmentez `max_pages` ou filtrez)",
            "malformed",
        )

    def schema(self) -> dict[str, str]:
        """The columns every SensorThings dataset has (read from the server when it answers)."""
        try:
            return super().schema()
        except SourceError:
            return {"datastream": "VARCHAR", "ts": "TIMESTAMP", "heure": "VARCHAR", "jour": "DATE", "valeur": "DOUBLE"}
