"""``python -m pilotis sensors …``: tokens, rollup, purge, and ``simulate`` posting over HTTP to a
real server on 127.0.0.1 (the app served by werkzeug in a thread)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from app import create_app
from pilotis.accounts import sensor_store
from pilotis.accounts.db import Database, get_db
from pilotis.core.settings import Settings
from tests.cli_run import run_cli


@pytest.fixture(scope="module")
def served(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, database URL) of the app served on a free loopback port, readings emptied."""
    folder = tmp_path_factory.mktemp("sensors-cli")
    url = f"sqlite:///{folder / 'pilotis.db'}"
    app = create_app(replace(settings, instance_dir=folder / "instance", database_url=url))
    with get_db(app.server).engine.begin() as connection:
        connection.execute(text("DELETE FROM sensor_readings"))  # demo mode filled it at start
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", url
    finally:
        server.shutdown()
        thread.join(timeout=5)
        get_db(app.server).dispose()


def _count(url: str) -> int:
    with Database(url) as db:
        return int(db.read(text("SELECT count(*) FROM sensor_readings"))[0][0])


def test_token_create_list_revoke(served: tuple[str, str], tmp_path: Path) -> None:
    _, url = served
    env = {"PILOTIS_DATABASE_URL": url, "PILOTIS_INSTANCE_DIR": str(tmp_path)}
    created = run_cli(["sensors", "token", "create", "crues-mayenne", "--label", "passerelle"], env=env)
    assert created.returncode == 0, created.stderr
    token = re.search(r"^(pcs_\S+)$", created.stdout, re.M).group(1)  # type: ignore[union-attr]
    token_id = int(re.search(r"Jeton d'envoi (\d+)", created.stdout).group(1))  # type: ignore[union-attr]
    listed = run_cli(["sensors", "token", "list"], env=env)
    assert "passerelle" in listed.stdout and "actif" in listed.stdout and token not in listed.stdout
    unknown = run_cli(["sensors", "token", "create", "crues-mayene"], env=env)
    assert unknown.returncode == 1 and "crues-mayenne" in unknown.stderr  # « vouliez-vous dire »
    with Database(url) as db:
        assert sensor_store.token_allows(db, "crues-mayenne", token)
    assert run_cli(["sensors", "token", "revoke", str(token_id)], env=env).returncode == 0
    with Database(url) as db:
        assert not sensor_store.token_allows(db, "crues-mayenne", token)
    assert run_cli(["sensors", "token", "revoke", str(token_id)], env=env).returncode == 1


def test_simulate_posts_over_http_then_rollup_and_purge(served: tuple[str, str], tmp_path: Path) -> None:
    base, url = served
    env = {"PILOTIS_DATABASE_URL": url, "PILOTIS_INSTANCE_DIR": str(tmp_path)}
    with Database(url) as db:
        token = sensor_store.create_token(db, "crues-mayenne", "simulation")[1]
    result = run_cli(["sensors", "simulate", "--url", base, "--jeton", token, "--heures", "6", "--lot", "100"], env=env)
    assert result.returncode == 0, result.stderr
    expected = 32 * (6 * 4 + 1)  # 32 devices, every quarter of an hour over 6 h, both ends
    assert f"{expected} relevé(s) simulé(s)" in result.stdout
    assert _count(url) == expected
    again = run_cli(["sensors", "simulate", "--url", base, "--jeton", token, "--heures", "6"], env=env)
    assert again.returncode == 0 and _count(url) == expected  # the same instants: duplicates skipped
    rolled = run_cli(["sensors", "rollup"], env=env)
    assert rolled.returncode == 0 and re.search(r"^\d+ moyenne", rolled.stdout)
    with Database(url) as db:
        hours = int(db.read(text("SELECT sum(n) FROM sensor_hourly"))[0][0])
    assert hours == expected
    assert run_cli(["sensors", "purge"], env=env).stdout.startswith("0 relevé(s)")  # all younger than 30 days
    refused = run_cli(["sensors", "simulate", "--url", base, "--jeton", "pcs_faux", "--heures", "1"], env=env)
    assert refused.returncode != 0 and "jeton" in (refused.stderr + refused.stdout)
