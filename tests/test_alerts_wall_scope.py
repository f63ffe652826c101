"""A wall screen (display link) sees the alerts of its séance's dashboards only where its séance
looks: a séance whose items show the RSA dashboard filtered to Laval Agglomération gets the
alerts of Laval's instance of the RSA rule, not those of the other EPCI of the Mayenne."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace
from pathlib import Path

from flask.testing import FlaskClient

from app import create_app
from pilotis.accounts import display_links
from pilotis.accounts.db import get_db
from pilotis.accounts.models import AlertState
from pilotis.core.settings import ROOT, Settings

RULE = "rsa-foyers-epci"
LAVAL, OTHER = "200083392", "200055887"  # Laval Agglomération; another EPCI of the Mayenne
LAVAL_ONLY = """
id: rsa-laval
title: Commission RSA — Laval Agglomération
items:
  - dashboard: rsa
    title: RSA — Laval Agglomération
    widgets: [foyers, taux]
    filters: {territory: CA Laval Agglomération, period: latest}
    duration: 40s
"""


def _screen(server, seance: str) -> FlaskClient:  # type: ignore[no-untyped-def]
    _link, token = display_links.create(get_db(server), server.secret_key, seance, 1)
    client: FlaskClient = server.test_client()
    assert client.get(f"/seance/{seance}?jeton={token}").status_code == 302
    return client


def test_a_wall_screen_filtered_to_one_epci_gets_that_epcis_alerts_only(settings: Settings, tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "seances" / "rsa-laval.yaml").write_text(LAVAL_ONLY, encoding="utf-8")
    app = create_app(replace(settings, config_dir=config, instance_dir=tmp_path / "instance", database_url=""))
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with get_db(app.server).session() as session:
        for code, level in ((LAVAL, "alerte"), (OTHER, "crise")):
            session.add(
                AlertState(
                    rule=RULE, instance=code, state="firing", since=now, level=level, fired_at=now, episode=1,
                    value=2228.0, data_at=now, territory=f"epci:{code}",
                )
            )  # fmt: skip
    laval = _screen(app.server, "rsa-laval").get("/alertes/en-cours.json").get_json()
    assert (laval["count"], laval["level"]) == (1, "alerte")  # not the other EPCI's « crise »
    whole = _screen(app.server, "commission-rsa").get("/alertes/en-cours.json").get_json()
    assert (whole["count"], whole["level"]) == (2, "crise")  # an item of that séance shows the whole Mayenne
