"""Real identity servers on loopback for the single sign-on tests and benchmark.

- :func:`oidc_provider`: the npm package ``oidc-provider`` (package.json devDependencies) run by node
  with ``tests/oidc_provider.mjs`` — discovery, keys, authorisation with PKCE, tokens, userinfo,
  RP-initiated logout, all of it the real implementation;
- :func:`slapd`: Debian's OpenLDAP server with a temporary configuration and database.

The tests skip when a tool is missing on this machine, except in CI (``CI`` set), which installs
them: ``apt-get install -y slapd ldap-utils`` and ``npm ci`` (see docs/sso.md).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from ldap3 import MODIFY_REPLACE, Connection, Server

from pilotis.core.settings import ROOT

CI = bool(os.environ.get("CI"))
"""In CI the tools must be there: the tests fail instead of skipping."""
NODE = shutil.which("node") or "/usr/bin/node"
SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SUFFIX = "dc=pilotis,dc=test"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "racine-de-test"
CLIENT_SECRET = "secret-du-client-de-test-0123456789"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_line(process: subprocess.Popen[str], prefix: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith(prefix):
            return line
        if not line and process.poll() is not None:
            break
    raise RuntimeError(f"serveur de test non démarré ({prefix!r} attendu)")


@dataclass
class OidcServer:
    """A running provider: its issuer and the file of its users (rewritten by the tests)."""

    issuer: str
    users_file: Path

    def set_users(self, users: dict[str, dict[str, Any]]) -> None:
        self.users_file.write_text(json.dumps(users), encoding="utf-8")


def oidc_available() -> bool:
    return Path(NODE).exists() and (ROOT / "node_modules" / "oidc-provider" / "package.json").exists()


@contextmanager
def oidc_provider(
    folder: Path,
    redirect_uris: list[str],
    logout_uris: list[str],
    clock_offset: int = 0,
    id_token_ttl: int = 0,
    backchannel_uri: str = "",
    jwks: dict[str, Any] | None = None,
) -> Iterator[OidcServer]:
    """Start a provider with one confidential client `pilotis` on a free loopback port.

    ``backchannel_uri``: the client's ``backchannel_logout_uri`` (with ``sid`` required in its ID
    tokens); ``jwks``: the provider's private signing keys (default: the package's own)."""
    port = free_port()
    backchannel = (
        {"backchannel_logout_uri": backchannel_uri, "backchannel_logout_session_required": True}
        if backchannel_uri
        else {}
    )
    users_file = folder / "users.json"
    server = OidcServer(f"http://127.0.0.1:{port}", users_file)
    server.set_users({})
    config = {
        "port": port,
        "issuer": server.issuer,
        "users_file": str(users_file),
        "clock_offset_seconds": clock_offset,
        "id_token_ttl": id_token_ttl,
        "clients": [
            {
                "client_id": "pilotis",
                "client_secret": CLIENT_SECRET,
                "redirect_uris": redirect_uris,
                "post_logout_redirect_uris": logout_uris,
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                **backchannel,
            }
        ],
        **({"jwks": jwks} if jwks else {}),
    }
    config_file = folder / "provider.json"
    config_file.write_text(json.dumps(config), encoding="utf-8")
    log = (folder / "provider.log").open("w", encoding="utf-8")  # its errors, for a failing test
    process = subprocess.Popen(
        [NODE, str(ROOT / "tests" / "oidc_provider.mjs"), str(config_file)],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        cwd=ROOT,
    )
    try:
        _wait_line(process, "ready")
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        if process.stdout is not None:
            process.stdout.close()


def provider_sign_in(browser: requests.Session, authorize_url: str, login: str) -> str:
    """Play the person at the provider: follow its redirects, sign in as ``login``; returns the
    address the provider sends the browser back to (Pilotis's callback, with code and state)."""
    url = authorize_url
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
    for _ in range(10):
        if not url.startswith(origin):
            return url
        if "/interaction/" in url:
            uid = re.search(r"/interaction/([^/?#]+)", url)
            assert uid is not None
            response = browser.post(
                f"{origin}/interaction/{uid.group(1)}/login", data={"login": login}, allow_redirects=False
            )
        else:
            response = browser.get(url, allow_redirects=False)
        assert response.status_code in (302, 303), (response.status_code, response.text[:300])
        url = urljoin(url, response.headers["Location"])
    raise AssertionError("trop de redirections chez le fournisseur")


def provider_logout(browser: requests.Session, end_session_url: str) -> str:
    """Confirm the provider's sign-out page; returns where it sends the browser back."""
    page = browser.get(end_session_url, allow_redirects=False)
    assert page.status_code == 200, (page.status_code, page.text[:300])
    xsrf = re.search(r'name="xsrf" value="([^"]+)"', page.text)
    action = re.search(r'<form[^>]*action="([^"]+)"', page.text)
    assert xsrf is not None and action is not None, page.text[:500]
    confirm = browser.post(
        urljoin(end_session_url, action.group(1)), data={"xsrf": xsrf.group(1), "logout": "yes"}, allow_redirects=False
    )
    assert confirm.status_code in (302, 303), confirm.text[:300]
    return str(confirm.headers["Location"])


# --------------------------------------------------------------------------- OpenLDAP


@dataclass
class LdapServer:
    """A running slapd: its URL and an administrator connection to change the directory."""

    url: str

    @contextmanager
    def admin(self) -> Iterator[Connection]:
        """A connection as the directory's administrator, closed afterwards."""
        connection = Connection(Server(self.url), user=ROOT_DN, password=ROOT_PASSWORD, auto_bind=True)
        try:
            yield connection
        finally:
            connection.unbind()

    def add_user(self, uid: str, password: str, name: str) -> str:
        dn = f"uid={uid},ou=people,{SUFFIX}"
        with self.admin() as conn:
            conn.add(
                dn,
                ["inetOrgPerson"],
                {"cn": name, "sn": name.split()[-1], "uid": uid, "userPassword": password},
            )
            assert conn.result["result"] == 0, conn.result
        return dn

    def set_members(self, group: str, members: list[str]) -> None:
        """Create or rewrite the group ``cn=<group>,ou=groups`` with these member DNs."""
        dn = f"cn={group},ou=groups,{SUFFIX}"
        with self.admin() as conn:
            conn.modify(dn, {"member": [(MODIFY_REPLACE, members or [ROOT_DN])]})
            if conn.result["result"] == 32:  # noSuchObject
                conn.add(dn, ["groupOfNames"], {"cn": group, "member": members or [ROOT_DN]})
            assert conn.result["result"] == 0, conn.result


def slapd_available() -> bool:
    return Path(SLAPD).exists() and Path("/etc/ldap/schema/inetorgperson.schema").exists()


SLAPD_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile {folder}/slapd.pid
argsfile {folder}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 10485760
suffix "{suffix}"
rootdn "{rootdn}"
rootpw {rootpw}
directory {folder}/data
access to attrs=userPassword by self read by anonymous auth by * none
access to * by * read
"""


@contextmanager
def slapd(folder: Path) -> Iterator[LdapServer]:
    """Start slapd on a free loopback port with an empty directory (people and groups branches)."""
    (folder / "data").mkdir(parents=True)
    conf = folder / "slapd.conf"
    conf.write_text(
        SLAPD_CONF.format(folder=folder, suffix=SUFFIX, rootdn=ROOT_DN, rootpw=ROOT_PASSWORD), encoding="utf-8"
    )
    port = free_port()
    url = f"ldap://127.0.0.1:{port}"
    process = subprocess.Popen(
        [SLAPD, "-f", str(conf), "-h", f"{url}/", "-d", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    server = LdapServer(url)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("slapd non démarré") from None
                time.sleep(0.05)
        with server.admin() as conn:
            conn.add(SUFFIX, ["dcObject", "organization"], {"dc": "pilotis", "o": "Pilotis"})
            conn.add(f"ou=people,{SUFFIX}", ["organizationalUnit"], {"ou": "people"})
            conn.add(f"ou=groups,{SUFFIX}", ["organizationalUnit"], {"ou": "groups"})
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
