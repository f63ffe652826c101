"""Alert rules in YAML: every mistake reported at `file:line:col` in French with the others, like
every configuration file; the shipped example rule loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from pilotis.core.errors import ConfigError
from tests import alerting

GOOD = """\
label: Température
dataset: capteurs
measure: avg(valeur)
instance: capteur
time_column: horodatage
window: 5min
thresholds: {alerte: 35}
recipients: {roles: [admin]}
"""


def _issues(tmp_path: Path, rules: dict[str, str]) -> str:
    sensors = alerting.Sensors(tmp_path / "capteurs.db")
    with pytest.raises(ConfigError) as caught:
        alerting.registry_of(alerting.make_config(tmp_path, rules, sensors.path))
    return caught.value.report()


def test_every_mistake_is_reported_at_its_line_and_column(tmp_path: Path) -> None:
    report = _issues(
        tmp_path,
        {
            "typo": GOOD + "thresold: 3\n",
            "duree": GOOD.replace("window: 5min", "window: 5 minutes"),
            "colonne": GOOD.replace("instance: capteur", "instance: capteurr"),
            "ordre": GOOD.replace("{alerte: 35}", "{vigilance: 40, alerte: 35}"),
            "cron": GOOD + 'maintenance: [{cron: "0 25 * * *", duration: 1h}]\n',
            "indicateur": GOOD.replace("dataset: capteurs\nmeasure: avg(valeur)\n", "indicator: rsa.foyers\n").replace(
                "instance: capteur\ntime_column: horodatage\nwindow: 5min\n", ""
            ),
            "tableau": GOOD + "dashboard: zzzz\n",
            "liste": "- seuil: 3\n",
            "vide": "",
        },
    )
    assert "config/alerts/tableau.yaml:9:" in report and "tableau de bord `zzzz` inconnu" in report
    assert "aide : tableaux de bord : `crues`, `fibre`" in report  # the dashboards listed, as for séances, reports
    assert "config/alerts/liste.yaml:1:1" in report and "une règle d'alerte est un bloc `clé: valeur`" in report
    assert "config/alerts/vide.yaml:1:1" in report and "fichier vide" in report
    assert "config/alerts/typo.yaml:9:1" in report and "thresold" in report
    assert "config/alerts/duree.yaml:6:9" in report and "durée `5 minutes` illisible" in report
    assert "config/alerts/colonne.yaml:4:11" in report and "capteurr" in report and "capteur" in report
    assert "config/alerts/ordre.yaml:" in report and "seuils dans le désordre" in report
    assert "config/alerts/cron.yaml:9:" in report and "heure" in report and "hors de 0–23" in report
    assert "config/alerts/indicateur.yaml:2:12" in report and "indicateur `rsa.foyers` inconnu" in report
    assert "config/alerts/ordre.yaml:7:13" in report  # at `thresholds`
    assert "`for`" in report and "`for_`" not in report and "`id`" not in report  # keys as written


def test_a_valid_rule_loads_with_its_durations_in_seconds(tmp_path: Path) -> None:
    sensors = alerting.Sensors(tmp_path / "capteurs.db")
    rule_text = GOOD + "for: 5min\nrepeat: 2h\nescalation: {after: 30min, recipients: {users: [admin]}}\n"
    registry = alerting.registry_of(alerting.make_config(tmp_path, {"temperature": rule_text}, sensors.path))
    rule = registry.alerts["temperature"]
    assert (rule.id, rule.window, rule.for_, rule.repeat, rule.every) == ("temperature", 300, 300, 7200, 60)
    assert rule.escalation is not None and rule.escalation.after == 1800
    assert rule.level_of(36) == "alerte" and rule.level_of(34) is None


def test_the_shipped_example_rule_loads(app) -> None:  # type: ignore[no-untyped-def]
    rule = app.server.extensions["pilotis"].registry.alerts["rsa-foyers-epci"]
    assert rule.indicator == "rsa.foyers_allocataires" and rule.per == "epci"


def test_matrix_room_mistakes_are_reported_at_their_line_and_column(tmp_path: Path) -> None:
    """The Matrix channel's settings are checked like the others; a token pasted where the NAME of
    its environment variable goes is refused (and not echoed back in the report)."""
    matrix = GOOD + "channels: [email, matrix]\nmatrix:\n"
    report = _issues(
        tmp_path,
        {
            "jeton": matrix + '  - {homeserver: "https://tchap.test", room: "!abc", token_env: syt_c2VjcmV0_XyZ}\n',
            "serveur": matrix + '  - {homeserver: tchap.test, room: "!abc:tchap.test", token_env: MATRIX_TOKEN}\n',
            "salon": matrix + "  - {homeserver: https://tchap.test, room: crues, token_env: MATRIX_TOKEN}\n",
            "territoire": matrix
            + '  - {homeserver: "https://t.test", room: "!a", token_env: T, territory: "200083392"}\n',
            "sans-salon": GOOD + "channels: [email, matrix]\n",
        },
    )
    assert "config/alerts/jeton.yaml:11:65" in report and "NOM d'une variable d'environnement" in report
    assert "syt_c2VjcmV0_XyZ" not in report
    assert "config/alerts/serveur.yaml:11:18" in report and "adresse d'un serveur Matrix" in report
    assert "config/alerts/salon.yaml:11:44" in report and "ni un identifiant ni un alias" in report
    assert "config/alerts/territoire.yaml:11:73" in report and "epci:<SIREN>" in report
    assert "config/alerts/sans-salon.yaml:" in report and "canal `matrix` sans salon" in report


def test_the_documented_and_the_shipped_matrix_examples_load(tmp_path: Path) -> None:
    """The example of docs/alertes.md (« Matrix / Tchap ») and the commented one of the flood rule
    are valid rules once copied or uncommented."""
    docs = (alerting.ROOT / "docs" / "alertes.md").read_text(encoding="utf-8")
    documented = docs.split("### Matrix / Tchap", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    shipped = (alerting.ROOT / "config" / "alerts" / "crues-hauteur.yaml").read_text(encoding="utf-8")
    uncommented = "\n".join(
        line[2:] for line in shipped.splitlines() if line.startswith(("# channels", "# matrix", "#  "))
    )
    sensors = alerting.Sensors(tmp_path / "capteurs.db")
    rules = {"doc": GOOD + documented, "livree": GOOD + uncommented + "\n"}
    registry = alerting.registry_of(alerting.make_config(tmp_path, rules, sensors.path))
    first, second = registry.alerts["doc"].matrix
    assert first.room.startswith("#crues-53") and first.token_env == "PILOTIS_MATRIX_TOKEN" and first.lang == "fr"
    assert (second.territory, second.lang) == ("epci:200083392", "en")
    (room,) = registry.alerts["livree"].matrix
    assert registry.alerts["livree"].channels == ["email", "matrix"] and room.token_env == "PILOTIS_MATRIX_TOKEN"
