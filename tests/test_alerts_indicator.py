"""A rule on an indicator, evaluated per EPCI on the shipped RSA data through the same engine as a
KPI card (Scope, Evaluator): Laval Agglomération (2 228 foyers at the last month) is in alert;
who is told depends on his territory."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pilotis.accounts.db import Database
from tests import alerting

RULE = """
label: Foyers allocataires du RSA par EPCI
indicator: rsa.foyers_allocataires
per: epci
thresholds: {vigilance: 1500, alerte: 2000}
recipients: {departments: [solidarites]}
dashboard: rsa
"""


def test_an_indicator_rule_fires_per_territory_and_tells_only_who_may_see_it(tmp_path: Path) -> None:
    sensors = alerting.Sensors(tmp_path / "capteurs.db")
    registry = alerting.registry_of(alerting.make_config(tmp_path, {"rsa": RULE}, sensors.path))
    with alerting.smtp_server() as (box, mail), Database(f"sqlite:///{tmp_path / 'app.db'}") as db:
        db.upgrade()
        for name, territory in (
            ("laval", f"epci:{alerting.LAVAL_EPCI}"),
            ("ailleurs", "epci:200055887"),
            ("tous", None),
        ):
            alerting.add_user(
                db, name, email=f"{name}@cd53.test", roles=["agent"], territory=territory, department="solidarites"
            )
        evaluator = alerting.Evaluator(db, registry)
        (run,) = evaluator.run(dt.datetime(2026, 12, 7, 8, 0))
        evaluator.drain(dt.datetime(2026, 12, 7, 8, 0), mail)
    assert [(instance, event.kind, event.level) for instance, event in run.events] == [
        (alerting.LAVAL_EPCI, "firing", "alerte")
    ]
    (laval,) = box.to("laval@cd53.test")
    text = laval.get_body(("plain",)).get_content()
    assert "Laval Agglomération" in text and "2\u202f228" in text and "seuil 2\u202f000" in text
    assert "Tableau de bord : https://pilotis.test/rsa" in text and "https://pilotis.test/alertes/acquitter/" in text
    html = laval.get_body(("html",)).get_content()
    assert '<html lang="fr">' in html and '<th scope="col">Seuil</th>' in html and "▲ alerte" in html
    assert len(box.to("tous@cd53.test")) == 1
    assert box.to("ailleurs@cd53.test") == []  # another EPCI: not told about Laval
