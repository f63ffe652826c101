"""``python -m pilotis sensors simulate``: simulated readings posted over HTTP, a flood included.

It posts to ``/capteurs/<source>/releves`` exactly as devices would (plain JSON batches, the
source's upload token), so the whole path is exercised: token, checks, storage, widgets. First
the past ``--heures`` are filled in (fast, in batches), then readings follow in real time, or
faster with ``--acceleration`` (60: one simulated minute per second).

The model is deliberately simple and deterministic (``--graine``): each rain gauge receives a
light background rain and a storm of ``--pluie`` mm around ``--crue`` hours from now (negative:
in the past); each water-level gauge rises after the storm, later and longer downstream
(the later the stations of the Mayenne, the later their peak), then falls back slowly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

from pilotis.core.errors import ConfigError
from pilotis.core.loader import load_sensors
from pilotis.core.sensors import DeviceSpec, SensorSourceSpec
from pilotis.core.settings import Settings

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
        noise = random.Random(f"{self.seed}:{device.code}:{moment.isoformat()}").uniform(-1, 1)
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


def post(url: str, token: str, readings: list[dict[str, Any]]) -> dict[str, Any]:
    """POST one batch; the decoded answer (HTTP errors included: they carry the refusals)."""
    body = json.dumps({"readings": readings}).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the portal's own address
            answer: dict[str, Any] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as exc:
        if exc.code == 429:
            time.sleep(float(exc.headers.get("Retry-After", "5")))
            return post(url, token, readings)
        try:
            answer = json.loads(exc.read())
        except ValueError:
            answer = {"message": f"HTTP {exc.code}"}
        answer["status"] = exc.code
        return answer


def steps(start: dt.datetime, end: dt.datetime) -> Iterator[dt.datetime]:
    """Every quarter of an hour in ``[start, end]``."""
    moment = start
    while moment <= end:
        yield moment
        moment += STEP


def cmd_simulate(args: argparse.Namespace) -> int:
    """Fill the past, then keep posting (until ``--duree`` simulated hours have passed)."""
    token = args.token or os.environ.get("PILOTIS_SENSOR_TOKEN", "")
    if not token:
        print(
            "jeton manquant : --jeton pcs_… ou PILOTIS_SENSOR_TOKEN (python -m pilotis sensors token create)",
            file=sys.stderr,
        )
        return 1
    try:
        sensors = load_sensors(Settings.from_env().config_dir)
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    spec = sensors.get(args.source)
    if spec is None:
        print(f"source de capteurs `{args.source}` inconnue", file=sys.stderr)
        return 1
    url = f"{args.url.rstrip('/')}/capteurs/{args.source}/releves"
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, second=0, microsecond=0)
    now -= dt.timedelta(minutes=now.minute % 15)
    model = Model(spec, now + dt.timedelta(hours=args.crue), args.pluie, args.graine)
    batch: list[dict[str, Any]] = []
    sent = 0
    for moment in steps(now - dt.timedelta(hours=args.heures), now):
        batch += model.readings(moment)
        if len(batch) >= args.lot:
            sent += _send(url, token, batch)
            batch = []
    if batch:
        sent += _send(url, token, batch)
    print(f"historique : {sent} relevé(s) simulé(s) envoyé(s) ({args.heures} h)")
    end = now + dt.timedelta(hours=args.duree)
    moment = now + STEP
    while moment <= end:
        time.sleep(STEP.total_seconds() / args.acceleration)
        sent = _send(url, token, model.readings(moment))
        print(f"{moment:%d/%m %H:%M} UTC : {sent} relevé(s) envoyé(s)")
        moment += STEP
    return 0


def _send(url: str, token: str, batch: list[dict[str, Any]]) -> int:
    answer = post(url, token, batch)
    if "acceptes" not in answer:
        raise SystemExit(f"envoi refusé : {answer.get('message', answer)}")
    for refusal in answer.get("refuses", [])[:5]:
        print(f"  refusé : {refusal['capteur']} ({refusal['champ']}) : {refusal['message']}", file=sys.stderr)
    return int(answer["acceptes"]) + int(answer.get("doublons", 0))


def register(commands: Any) -> None:
    """Add ``sensors simulate`` under ``sensors``."""
    parser = commands.add_parser("simulate", help="envoyer des relevés simulés (crue comprise) par HTTP")
    parser.add_argument("--source", default="crues-mayenne", help="source de capteurs (crues-mayenne)")
    parser.add_argument("--url", default="http://127.0.0.1:8050", help="adresse du portail")
    parser.add_argument("--jeton", dest="token", default="", help="jeton d'envoi (ou PILOTIS_SENSOR_TOKEN)")
    parser.add_argument("--heures", type=float, default=48, help="heures passées à remplir d'abord (48)")
    parser.add_argument("--duree", type=float, default=0, help="heures simulées à envoyer ensuite (0 : aucune)")
    parser.add_argument("--acceleration", type=float, default=1.0, help="1 : temps réel ; 60 : 1 min par seconde")
    parser.add_argument("--crue", type=float, default=-18, help="pic de pluie dans H heures (négatif : passé, -18)")
    parser.add_argument("--pluie", type=float, default=60, help="cumul de l'orage en mm (60)")
    parser.add_argument("--lot", type=int, default=1000, help="relevés par requête pour l'historique (1000)")
    parser.add_argument("--graine", type=int, default=53, help="graine du hasard (53)")
    parser.set_defaults(func=cmd_simulate)
