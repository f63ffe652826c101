"""Benchmark of signing in: single sign-on against the local password, p50, in one run.

One app (production mode, SQLite in a temporary folder) with a `config/sso.yaml` naming a real
OpenID provider (npm `oidc-provider`, tests/oidc_provider.mjs) and a real OpenLDAP (`slapd`), both
on loopback. Timed alternately, same process, same database:

* **local**: POST /login of a local account (throttle, Argon2id check, session opened) — the baseline;
* **OpenID Connect**: what Pilotis spends — GET /sso/<id> (state, nonce, PKCE; discovery cached)
  plus the callback (code exchange at the provider, ID token signature and claims, userinfo,
  mapping rules, account update, session opened). The person's time at the provider (its pages)
  is not Pilotis's and is left out;
* **LDAP**: POST /login through the directory (bind as the user, group search, mapping, session).

Usage: ``python bench/bench_sso.py [--rounds 20]`` (about 30 s). Skips what is not installed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, fmt, load_average, md_table  # noqa: E402

sys.path.insert(0, str(ROOT))

from tests.helpers import form_token  # noqa: E402
from tests.sso_app import LOCAL_PASSWORD, SECRET_ENV, create_local, sso_app  # noqa: E402
from tests.sso_servers import (  # noqa: E402
    CLIENT_SECRET,
    SUFFIX,
    oidc_available,
    oidc_provider,
    provider_sign_in,
    slapd,
    slapd_available,
)


def _config(issuer: str | None, ldap_url: str | None) -> str:
    text = 'access_contact: "le support"\n'
    if issuer:
        text += (
            f"oidc:\n  - id: test\n    label: Test\n    issuer: {issuer}\n    client_id: pilotis\n"
            f"    client_secret_env: {SECRET_ENV}\n    scopes: [openid, email, profile, groups]\n"
        )
    if ldap_url:
        text += f'ldap:\n  url: {ldap_url}\n  user_dn: "uid={{username}},ou=people,{SUFFIX}"\n'
        text += f'  group_base: "ou=groups,{SUFFIX}"\n'
    return text + "rules:\n  - when: {groups: [rsa]}\n    department: solidarites\n    roles: [agent]\n"


def run(rounds: int = 20) -> str:
    """The Markdown table of the p50 sign-in times and their ratio to the local password."""
    os.environ[SECRET_ENV] = CLIENT_SECRET
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        base = Path(folder)
        issuer = ldap_url = None
        if oidc_available():
            (base / "op").mkdir()
            op = stack.enter_context(
                oidc_provider(base / "op", ["http://localhost/sso/test/callback"], ["http://localhost/login"])
            )
            op.set_users({"alice": {"preferred_username": "alice", "name": "Alice", "groups": ["rsa"]}})
            issuer = op.issuer
        if slapd_available():
            directory = stack.enter_context(slapd(base / "ldap"))
            directory.set_members("rsa", [directory.add_user("bruno", LOCAL_PASSWORD, "Bruno Ldap")])
            ldap_url = directory.url
        app = sso_app(base / "app", _config(issuer, ldap_url))
        create_local(app, "local", ("agent",))

        def password_login(username: str) -> float:
            client = app.server.test_client()
            token = form_token(client.get("/login").get_data(as_text=True))
            began = time.perf_counter()
            response = client.post(
                "/login", data={"username": username, "password": LOCAL_PASSWORD, "csrf_token": token}
            )
            spent = time.perf_counter() - began
            assert response.status_code == 302, response.data[:200]
            return spent

        def oidc_login() -> float:
            client = app.server.test_client()
            began = time.perf_counter()
            location = client.get("/sso/test").headers["Location"]
            spent = time.perf_counter() - began
            callback = provider_sign_in(requests.Session(), location, "alice")  # the provider's time: not counted
            began = time.perf_counter()
            response = client.get(callback)
            spent += time.perf_counter() - began
            assert response.status_code == 302, response.data[:200]
            return spent

        cases = {"mot de passe local (référence)": lambda: password_login("local")}
        if issuer:
            cases["OpenID Connect (échange du code + règles)"] = oidc_login
        if ldap_url:
            cases["LDAP (bind + groupes + règles)"] = lambda: password_login("bruno")
        for case in cases.values():  # warm-up: discovery and keys fetched, Argon2 ready
            case()
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(rounds):
            for name, case in cases.items():
                times[name].append(case())
    baseline = statistics.median(times["mot de passe local (référence)"])
    rows = [
        [name, fmt(statistics.median(values) * 1000), fmt(statistics.median(values) / baseline, 2)]
        for name, values in times.items()
    ]
    return (
        f"### Connexion : authentification unique contre mot de passe local ({rounds} connexions chacune, "
        f"charge {load_average()})\n\n" + md_table(["connexion", "p50 (ms)", "× local"], rows)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    print(run(parser.parse_args().rounds))


if __name__ == "__main__":
    main()
