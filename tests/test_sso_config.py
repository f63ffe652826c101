"""`config/sso.yaml`: mistakes are reported at their file:line:col with a hint, and the mapping rules
decide in order, deny by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from pilotis.core.errors import ConfigError
from pilotis.core.loader import load_registry
from pilotis.core.settings import ROOT
from pilotis.core.sso_config import Match, Rule, SsoConfig, grant_for, matches
from tests.test_config_errors import Project

SSO = "config/sso.yaml"
GOOD = """\
access_contact: "la direction du numérique"
oidc:
  - id: keycloak
    label: Keycloak
    issuer: https://sso.exemple.fr/realms/agents
    client_id: pilotis
ldap:
  url: ldaps://ad.exemple.local
  user_dn: "{username}@exemple.local"
rules:
  - when: {groups: [rsa]}
    department: solidarites
    roles: [agent]
"""


def report(tmp_path: Path, text: str) -> str:
    project = Project(tmp_path)
    project.write(SSO, text)
    with pytest.raises(ConfigError) as caught:
        load_registry(ROOT, project.root / "config", project.root / "dashboards")
    return caught.value.report()


def test_valid_file_is_loaded_into_the_registry(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.write(SSO, GOOD)
    registry = load_registry(ROOT, project.root / "config", project.root / "dashboards")
    assert registry.sso is not None and registry.sso.provider("keycloak") is not None


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("department: solidarites", "department: solidarite", ":12:17: direction `solidarite` inconnue"),
        ("roles: [agent]", "roles: [agnet]", ":13:13: rôle `agnet` inconnu"),
        ("client_id: pilotis", "client_id: pilotis\n    secret: abc", ":7:5:"),
        ("{groups: [rsa]}", "{source: [keycloack], groups: [rsa]}", ":11:21: source `keycloack` inconnue"),
        ("id: keycloak", "id: Keycloak!", ":3:9:"),
    ],
)
def test_mistakes_are_reported_at_their_place(tmp_path: Path, old: str, new: str, expected: str) -> None:
    text = report(tmp_path, GOOD.replace(old, new))
    assert f"sso.yaml{expected}" in text, text


def test_unknown_role_hint_names_the_close_one(tmp_path: Path) -> None:
    assert "agent" in report(tmp_path, GOOD.replace("roles: [agent]", "roles: [agnet]")).split("agnet", 2)[-1]


CONFIG = SsoConfig(
    access_contact="le support",
    rules=[
        Rule(when=Match(groups=["cn=rsa,ou=groups,dc=x"]), department="solidarites", roles=["agent"]),
        Rule(when=Match(groups=["/agents"], source=["keycloak"]), department="rh", roles=["agent"]),
        Rule(when=Match(claims={"siret": ["22530001300011"]}, email_domains=["lamayenne.fr"]), roles=["manager"]),
    ],
)


def test_first_matching_rule_decides_and_nobody_else_gets_in() -> None:
    assert grant_for(CONFIG, "ldap", ["CN=RSA,OU=Groups,DC=x", "/agents"], {}) == CONFIG.rules[0]
    assert grant_for(CONFIG, "ldap", ["rsa"], {}) is None  # a name alone is not the DN the rule wrote
    assert grant_for(CONFIG, "keycloak", ["/agents"], {}) == CONFIG.rules[1]
    assert grant_for(CONFIG, "ldap", ["/agents"], {}) is None  # that rule is for keycloak only
    proconnect = {"siret": "22530001300011", "email": "a.b@lamayenne.fr"}
    assert grant_for(CONFIG, "proconnect", [], proconnect) == CONFIG.rules[2]
    assert grant_for(CONFIG, "proconnect", [], {**proconnect, "email": "a.b@lamayenne.fr.evil.com"}) is None
    assert grant_for(CONFIG, "proconnect", [], {}) is None
    assert grant_for(CONFIG, "proconnect", [], {**proconnect, "email_verified": False}) is None


def test_a_group_named_by_its_cn_matches_the_dn_the_directory_returns() -> None:
    assert matches(Match(groups=["finances"]), "ldap", ["cn=finances,ou=groups,dc=pilotis,dc=test"], {})
    assert not matches(Match(groups=["finances"]), "ldap", ["cn=finances-old,ou=groups,dc=pilotis,dc=test"], {})
