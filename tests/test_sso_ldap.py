"""LDAP sign-in against a real OpenLDAP (`slapd` from Debian, started on loopback): the password is
checked by a bind, the groups decide the direction, a moved person loses access at the next sign-in,
and local accounts can be switched off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dash import Dash
from flask.testing import FlaskClient

from pilotis.accounts.ldap_directory import DirectoryUnavailable, authenticate
from pilotis.core.sso_config import LdapDirectory
from tests.helpers import form_token
from tests.sso_app import LOCAL_PASSWORD, audit_events, can_open, create_local, signed_in, sso_app
from tests.sso_servers import CI, SUFFIX, LdapServer, free_port, slapd, slapd_available

pytestmark = pytest.mark.skipif(
    not slapd_available() and not CI, reason="slapd absent (apt-get install slapd ldap-utils)"
)

PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LdapServer]:
    with slapd(tmp_path_factory.mktemp("ldap")) as server:
        alice = server.add_user("alice", "mdp-alice-2026", "Alice Martin")
        david = server.add_user("david", "mdp-david-2026", "David Leroy")
        server.add_user("eve", "mdp-eve-2026", "Ève Sans-Groupe")
        server.set_members("rsa", [alice])
        server.set_members("finances", [david])
        yield server


@pytest.fixture(scope="module")
def app(directory: LdapServer, tmp_path_factory: pytest.TempPathFactory) -> Dash:
    return sso_app(
        tmp_path_factory.mktemp("app"),
        f"""
access_contact: "le service informatique (poste 1234)"
local_accounts: false
ldap:
  url: {directory.url}
  user_dn: "uid={{username}},{PEOPLE}"
  group_base: "{GROUPS}"
rules:
  - when: {{source: [ldap], groups: [rsa]}}
    department: solidarites
    roles: [agent]
  - when: {{groups: ["cn=finances,{GROUPS}"]}}
    department: finances
    roles: [manager]
""",
    )


def login(client: FlaskClient, username: str, password: str) -> tuple[int, str]:
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": form_token(page)})
    return response.status_code, response.get_data(as_text=True)


def test_directory_password_signs_in_to_the_mapped_department(app: Dash) -> None:
    client = app.server.test_client()
    assert login(client, "alice", "mdp-alice-2026")[0] == 302
    assert can_open(client, "/rsa") and not can_open(client, "/finances")
    assert audit_events(app, "login_success")[-1].detail == "ldap"


def test_wrong_directory_password_is_refused(app: Dash) -> None:
    client = app.server.test_client()
    status, page = login(client, "alice", "pas-le-bon")
    assert status == 401 and "Identifiant ou mot de passe incorrect." in page
    assert not signed_in(client)
    assert audit_events(app, "login_failure")[-1].detail == "mot de passe refusé par l'annuaire"


def test_group_written_as_a_dn_maps_too(app: Dash) -> None:
    client = app.server.test_client()
    assert login(client, "david", "mdp-david-2026")[0] == 302
    assert can_open(client, "/finances") and not can_open(client, "/rsa")


def test_person_in_no_mapped_group_gets_the_page_saying_whom_to_ask(app: Dash) -> None:
    client = app.server.test_client()
    status, page = login(client, "eve", "mdp-eve-2026")
    assert status == 403 and "le service informatique (poste 1234)" in page
    assert not signed_in(client)
    assert audit_events(app, "sso_denied")[-1].username == "eve"


def test_moved_person_loses_access_at_the_next_sign_in(app: Dash, directory: LdapServer) -> None:
    alice = f"uid=alice,{PEOPLE}"
    before = app.server.test_client()
    assert login(before, "alice", "mdp-alice-2026")[0] == 302
    directory.set_members("rsa", [])
    directory.set_members("finances", [f"uid=david,{PEOPLE}", alice])
    try:
        after = app.server.test_client()
        assert login(after, "alice", "mdp-alice-2026")[0] == 302
        assert can_open(after, "/finances") and not can_open(after, "/rsa")
        assert not signed_in(before)  # her session under the old rights ended
    finally:
        directory.set_members("rsa", [alice])
        directory.set_members("finances", [f"uid=david,{PEOPLE}"])


def test_local_accounts_can_be_switched_off(app: Dash) -> None:
    create_local(app, "secours")
    client = app.server.test_client()
    assert login(client, "secours", LOCAL_PASSWORD)[0] == 401
    assert audit_events(app, "login_failure")[-1].detail == "comptes locaux désactivés"


def test_search_mode_escapes_the_user_name_and_refuses_empty_passwords(directory: LdapServer) -> None:
    config = LdapDirectory(url=directory.url, search_base=PEOPLE, group_base=GROUPS)
    found = authenticate(config, "alice", "mdp-alice-2026")
    assert found is not None and found.display_name == "Alice Martin"
    assert f"cn=rsa,{GROUPS}" in found.groups
    assert authenticate(config, "*", "mdp-alice-2026") is None  # not a wildcard search
    assert authenticate(config, "alice", "") is None  # an empty password would be an anonymous bind


def test_unreachable_directory_says_so() -> None:
    config = LdapDirectory(url=f"ldap://127.0.0.1:{free_port()}", user_dn="uid={username},ou=people", timeout_seconds=2)
    with pytest.raises(DirectoryUnavailable):
        authenticate(config, "alice", "mdp")
