"""``python -m pilotis sensors simulate``: simulated readings posted over HTTP, a flood included.

It posts to ``/capteurs/<source>/releves`` exactly as devices would (plain JSON batches, the
source's upload token), so the whole path is exercised: token, checks, storage, widgets. First
the past ``--heures`` are filled in (fast, in batches), then readings follow in real time, or
faster with ``--acceleration`` (60: one simulated minute per second).

The model (:mod:`pilotis.core.sensor_simulation`) is deterministic (``--graine``): a storm of
``--pluie`` mm around ``--crue`` hours from now (negative: in the past), and the rivers rising
after it, later downstream.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from pilotis.core.errors import ConfigError
from pilotis.core.loader import load_sensors
from pilotis.core.sensor_simulation import STEP, Model, quarter, steps
from pilotis.core.settings import Settings


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


class RefusedError(Exception):
    """The portal refused a batch as a whole (token, source, size): nothing more is sent."""


def cmd_simulate(args: argparse.Namespace) -> int:
    """Fill the past, then keep posting (until ``--duree`` simulated hours have passed)."""
    try:
        return _simulate(args)
    except RefusedError as exc:
        print(str(exc), file=sys.stderr)
    except OSError as exc:
        print(f"portail injoignable ({args.url}) : {exc.__class__.__name__}", file=sys.stderr)
    return 1


def _simulate(args: argparse.Namespace) -> int:
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
    now = quarter(dt.datetime.now(dt.UTC).replace(tzinfo=None))
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
        raise RefusedError(f"envoi refusé : {answer.get('message', answer)}")
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
