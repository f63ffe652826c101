"""The building blocks of every YAML model: the strict base class, identifiers, durations.

Kept apart from :mod:`pilotis.core.schema` so that the models of one concern (the catalogue
descriptions of a dataset, :mod:`pilotis.core.schema_catalogue`; the referents directory) can
share them without importing every model.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from pilotis.core.errors import HintedValueError

SLUG = r"^[a-z][a-z0-9_-]*$"
_DURATION = re.compile(r"^\s*(\d+)\s*(s|sec|min|m|h|j|d)\s*$")
_UNITS = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "j": 86400, "d": 86400}


def parse_duration(value: str | int) -> int:
    """Seconds in ``"30s"``, ``"15min"``, ``"2h"`` or ``"1j"`` (an int is already seconds)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise HintedValueError("une durée est positive", "écrivez par exemple `30s` ou `15min`")
        return value
    match = _DURATION.match(str(value))
    if not match:
        raise HintedValueError(
            f"durée `{value}` illisible",
            "écrivez un nombre suivi de `s`, `min`, `h` ou `j` : `30s`, `15min`, `2h`, `1j`",
        )
    return int(match.group(1)) * _UNITS[match.group(2)]


Duration = Annotated[
    int,
    Field(json_schema_extra={"examples": ["30s", "15min", "1h"]}),
    # Written `15min` in YAML, validated to seconds: the JSON Schema accepts both forms.
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": _DURATION.pattern}]}),
]


class Strict(BaseModel):
    """Base of every YAML model: unknown keys are errors, values are immutable.

    The docstring under each field is its description: read only when asked, for the JSON Schema
    and the YAML reference (:mod:`pilotis.core.field_docs`), not at class creation.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
