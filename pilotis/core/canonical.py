"""Canonical JSON: the bytes hashes are taken of (frozen séances, their sha256)."""

from __future__ import annotations

import json
from typing import Any


def canonical(value: Any) -> bytes:
    """The canonical JSON of ``value`` (sorted keys, no spaces, UTF-8): what hashes are taken of."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
