"""A real Matrix homeserver on loopback for the Matrix/Tchap alert channel: Synapse (PyPI
``matrix-synapse``), installed by ``make matrix`` in its own virtualenv (``.venv-synapse``: its
pins must not move the app's), started with SQLite and a generated configuration on a free port.

Users are registered through Synapse's shared-secret admin API (what ``register_new_matrix_user``
does, without a process per user). The tests skip when Synapse is not installed on a developer's
machine, and fail when ``CI`` or ``PILOTIS_REQUIRE_DEPLOY`` is set (``.ci/run``, which runs
``make test`` and so ``make matrix``).
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import os
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from pilotis.core.settings import ROOT
from tests.sso_servers import free_port

SYNAPSE_PYTHON = ROOT / ".venv-synapse" / "bin" / "python"
SERVER_NAME = "pilotis.test"
FAST = {"per_second": 1000, "burst_count": 1000}
"""Rate limits out of the way: the tests post faster than a person."""


def require_synapse() -> None:
    """Skip (developer's machine) or fail (CI) when Synapse is not installed."""
    if SYNAPSE_PYTHON.exists():
        return
    message = (
        f"Synapse absent ({SYNAPSE_PYTHON}) : lancez `make matrix` (pip install matrix-synapse dans .venv-synapse)"
    )
    if os.environ.get("CI") or os.environ.get("PILOTIS_REQUIRE_DEPLOY"):
        pytest.fail(f"CI / PILOTIS_REQUIRE_DEPLOY : {message}", pytrace=False)
    pytest.skip(message)


@dataclass
class Account:
    """A registered Matrix user and its access token."""

    user_id: str
    token: str


@dataclass
class Homeserver:
    """A running Synapse: its address, and a small client for the tests' own calls."""

    url: str
    shared_secret: str

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)
        answer.raise_for_status()
        return dict(answer.json())

    def register(self, name: str, admin: bool = False) -> Account:
        """A new user (shared-secret registration, HMAC-SHA1 of nonce, name, password, admin flag)."""
        nonce = self.call("GET", "/_synapse/admin/v1/register")["nonce"]
        password = f"mot-de-passe-{name}-42"
        mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), name.encode(), password.encode(), b"admin" if admin else b"notadmin"]))
        found = self.call(
            "POST",
            "/_synapse/admin/v1/register",
            json={"nonce": nonce, "username": name, "password": password, "admin": admin, "mac": mac.hexdigest()},
        )
        return Account(found["user_id"], found["access_token"])

    def create_room(self, owner: Account, invite: list[str], alias: str | None = None) -> str:
        """A private room created by ``owner``, inviting ``invite``; returns its id."""
        body: dict[str, Any] = {"preset": "private_chat", "invite": invite, "name": "Cellule de crise"}
        if alias:
            body["room_alias_name"] = alias
        return str(self.call("POST", "/_matrix/client/v3/createRoom", owner.token, json=body)["room_id"])

    def join(self, account: Account, room_id: str) -> None:
        self.call("POST", f"/_matrix/client/v3/join/{urllib.parse.quote(room_id, safe='')}", account.token, json={})

    def messages(self, reader: Account, room_id: str) -> list[dict[str, Any]]:
        """The ``m.room.message`` events of the room as ``reader`` reads them, oldest first."""
        room = urllib.parse.quote(room_id, safe="")
        found = self.call(
            "GET", f"/_matrix/client/v3/rooms/{room}/messages", reader.token, params={"dir": "b", "limit": 100}
        )
        return [event for event in reversed(found["chunk"]) if event["type"] == "m.room.message"]


def _configure(folder: Path, port: int) -> tuple[Path, str]:
    """Synapse's own generated configuration, made local: one loopback client listener, no key
    servers, no rate limits. Returns the file and the registration shared secret."""
    generated = folder / "generated.yaml"
    subprocess.run(
        [
            str(SYNAPSE_PYTHON),
            "-m",
            "synapse.app.homeserver",
            "--server-name",
            SERVER_NAME,
            "--config-path",
            str(generated),
            "--data-directory",
            str(folder),
            "--generate-config",
            "--report-stats=no",
        ],
        check=True,
        capture_output=True,
        timeout=120,
        cwd=folder,  # the generated logging configuration writes homeserver.log in the current folder
    )
    config = yaml.safe_load(generated.read_text(encoding="utf-8"))
    config["listeners"] = [
        {
            "port": port,
            "bind_addresses": ["127.0.0.1"],
            "type": "http",
            "tls": False,
            "x_forwarded": False,
            "resources": [{"names": ["client"], "compress": False}],
        }
    ]
    config["trusted_key_servers"] = []
    config["suppress_key_server_warning"] = True
    config["enable_metrics"] = False
    config["url_preview_enabled"] = False
    for key in ("rc_message", "rc_registration", "rc_login", "rc_admin_redaction", "rc_room_creation"):
        config[key] = FAST if key != "rc_login" else {"address": FAST, "account": FAST, "failed_attempts": FAST}
    config["rc_joins"] = {"local": FAST, "remote": FAST}
    config["rc_invites"] = {"per_room": FAST, "per_user": FAST, "per_issuer": FAST}
    path = folder / "homeserver.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path, str(config["registration_shared_secret"])


@contextmanager
def synapse(folder: Path, timeout: float = 90.0) -> Iterator[Homeserver]:
    """Synapse running on a free loopback port until the block ends (about 7 s to start)."""
    require_synapse()
    port = free_port()
    config, secret = _configure(folder, port)
    log = (folder / "console.log").open("w")
    process = subprocess.Popen(
        [str(SYNAPSE_PYTHON), "-m", "synapse.app.homeserver", "-c", str(config)],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Homeserver(f"http://127.0.0.1:{port}", secret)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"Synapse s'est arrêté : {(folder / 'console.log').read_text()[-2000:]}")
            try:
                requests.get(f"{server.url}/_matrix/client/versions", timeout=2).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise RuntimeError("Synapse n'a pas répondu à temps") from None
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@dataclass
class LossyProxy:
    """A loopback HTTP proxy in front of the homeserver that forwards every request but, for the
    next ``lose`` message sends, drops the connection once the homeserver has answered: the
    message is posted, the sender never learns it (a time-out, a proxy restarting)."""

    url: str = ""
    lose: int = 0
    sends: list[str] = field(default_factory=list)
    """The paths of the message sends forwarded (transaction id included)."""


@contextmanager
def lossy_proxy(upstream: str) -> Iterator[LossyProxy]:
    """A :class:`LossyProxy` to ``upstream`` on a free loopback port until the block ends."""
    proxy = LossyProxy()

    class Handler(http.server.BaseHTTPRequestHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
            answer = requests.request(self.command, upstream + self.path, data=body, headers=headers, timeout=30)
            if "/send/" in self.path:
                proxy.sends.append(self.path)
                if proxy.lose:
                    proxy.lose -= 1
                    self.close_connection = True  # posted upstream, no answer downstream
                    return
            self.send_response(answer.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        do_GET = do_PUT = do_POST = _forward  # noqa: N815 (http.server API)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
