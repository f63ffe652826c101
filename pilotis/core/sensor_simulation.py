"""Simulated readings of a sensor source (demonstration): deterministic, a flood included.

The model is deliberately simple and deterministic (a seed): each rain gauge receives a light
background rain and a storm of ``rain_mm`` around the ``storm`` instant; each water-level gauge
rises after the storm, later and longer downstream (the Mayenne flows south: the further south,
the later the peak), then falls back slowly. Used by ``python -m pilotis sensors simulate``
(which posts them over HTTP) and by demo mode (which fills an empty simulated source at start).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from collections.abc import Iterator
from typing import Any

from pilotis.core.sensors import DeviceSpec, SensorSourceSpec

STEP = dt.timedelta(minutes=15)


class Model:
    """Deterministic readings of every device of a source at a given instant (UTC)."""

    def __init__(self, spec: SensorSourceSpec, storm: dt.datetime, rain_mm: float, seed: int) -> None:
        self.spec = spec
        self.storm = storm
        self.rain_mm = rain_mm
        self.seed = seed
        rng = random.Random(seed)
        levels = [d for d in spec.devices if d.quantity != "pluie"]
        self.params: dict[str, tuple[float, float, float]] = {}
        for device in levels:
            low, high = device.range
            base = low + (high - low) * rng.uniform(0.08, 0.16)
            rise = (high - low) * rng.uniform(0.25, 0.4)
            lag = 4.0 + max(0.0, 48.45 - device.lat) * 40.0  # hours storm → peak: later downstream (south)
            self.params[device.code] = (base, rise, lag)

    def value(self, device: DeviceSpec, moment: dt.datetime) -> float:
        """The simulated value of ``device`` at ``moment`` (rounded like a real device)."""
        hours = (moment - self.storm).total_seconds() / 3600.0
        noise = _noise(f"{self.seed}:{device.code}:{moment.isoformat()}")
        if device.quantity == "pluie":
            # A Gaussian storm of `rain_mm` in total (σ ≈ 2.8 h), in mm per quarter of an hour.
            storm = self.rain_mm / (4.0 * math.sqrt(math.pi)) / 4.0 * math.exp(-((hours / 4.0) ** 2))
            background = max(0.0, 0.05 + 0.05 * noise)
            return round(min(device.range[1], storm + background), 1)
        base, rise, lag = self.params[device.code]
        since_peak = hours - lag
        shape = math.exp(-((since_peak / 6.0) ** 2)) if since_peak < 0 else math.exp(-since_peak / 18.0)
        level = base + rise * shape + 0.01 * noise
        return round(max(device.range[0], min(device.range[1], level)), 3)

    def readings(self, moment: dt.datetime) -> list[dict[str, Any]]:
        """One reading per device at ``moment``."""
        stamp = moment.replace(tzinfo=dt.UTC).isoformat().replace("+00:00", "Z")
        return [{"device": d.code, "ts": stamp, "value": self.value(d, moment)} for d in self.spec.devices]


def _noise(key: str) -> float:
    """A number in [-1, 1) that depends on ``key`` only: the same reading every time it is asked.

    A hash, not a generator seeded per reading: seeding a Mersenne Twister from a text costs
    ≈ 10 µs, and demo mode computes 6,000 readings while the other workers wait at start.
    """
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**63 - 1.0


def steps(start: dt.datetime, end: dt.datetime) -> Iterator[dt.datetime]:
    """Every quarter of an hour in ``[start, end]``."""
    moment = start
    while moment <= end:
        yield moment
        moment += STEP


def quarter(now: dt.datetime) -> dt.datetime:
    """``now`` (naive UTC) floored to the quarter of an hour."""
    now = now.replace(second=0, microsecond=0)
    return now - dt.timedelta(minutes=now.minute % 15)
