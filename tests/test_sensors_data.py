"""Readings as datasets: the three views of ``type: capteurs`` over the application database
(SQLite and PostgreSQL), the hourly rollup and the purge, the YAML checks of `config/sensors/`,
and the SensorThings source against a loopback server implementing the standard's subset."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from data_sources.sensors import SensorReadings
from data_sources.sensorthings import SensorThingsSource
from pilotis.accounts import sensor_store
from pilotis.accounts.db import Database
from pilotis.core.errors import ConfigError
from pilotis.core.loader import load_registry, load_sensors
from pilotis.core.measures import parse_measure
from pilotis.core.query import Filter, Query
from pilotis.core.settings import ROOT
from pilotis.core.sources import DuckRuntime
from tests.dbutil import DB_KINDS, database_url
from tests.fake_sensorthings import FakeSensorThings

SENSORS = load_sensors(ROOT / "config")
NOW = dt.datetime(2026, 12, 5, 12, 0)


@pytest.fixture(params=DB_KINDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with database_url(request.param, tmp_path) as url, Database(url) as database:
        database.upgrade()
        yield database


OPENED: list[SensorReadings] = []


@pytest.fixture(autouse=True)
def _close_sources() -> Iterator[None]:
    """Every readings source opened by a test gives its connections back (PostgreSQL schemas are dropped)."""
    yield
    while OPENED:
        OPENED.pop().engine.dispose()


def readings(db: Database, view: str, window: str = "0s", tmp_path: Path = Path(".")) -> SensorReadings:
    config = SensorReadings.Config(type="capteurs", title="t", source="crues-mayenne", view=view, window=window)  # type: ignore[arg-type]
    source = SensorReadings(f"r_{view}", config, tmp_path, DuckRuntime())
    source.app_database = db.url.render_as_string(hide_password=False)
    OPENED.append(source)
    return source


def ask(
    source: SensorReadings, measures: dict[str, str], group_by: tuple[str, ...] = (), **filters: object
) -> pd.DataFrame:
    query = Query(
        source.id,
        tuple((alias, parse_measure(text)) for alias, text in measures.items()),
        group_by=group_by,
        filters=tuple(Filter(c, "=", v) for c, v in filters.items()),  # type: ignore[arg-type]
    )
    return source.run(query)


def fill(db: Database, hours: int = 30) -> dict[tuple[str, str], int]:
    ids = sensor_store.sync_devices(db, SENSORS)
    laval, craon = ids[("crues-mayenne", "mayenne-laval")], ids[("crues-mayenne", "oudon-craon")]
    rows = []
    for quarter in range(hours * 4):
        moment = NOW - dt.timedelta(minutes=15 * quarter)
        rows += [(laval, moment, 1.0 + quarter / 1000), (craon, moment, 0.5)]
    assert sensor_store.insert(db, rows) == len(rows)
    assert sensor_store.insert(db, rows[:10]) == 0  # duplicates skipped by the database
    return ids


def test_latest_view_gives_one_row_per_device_with_its_age(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(db)
    source = readings(db, "latest")
    frame = ask(source, {"v": "max(valeur)", "n": "count(*)"}, ("capteur", "commune"))
    assert dict(zip(frame["capteur"], frame["v"], strict=True)) == {"mayenne-laval": 1.0, "oudon-craon": 0.5}
    assert set(frame["n"]) == {1} and set(frame["commune"]) == {"53130", "53084"}
    late = ask(source, {"late": "max(en_retard)", "age": "min(age_min)"})
    assert late["late"][0] == 1 and late["age"][0] > 60  # NOW is in the past: twice 15 min exceeded


def test_raw_window_and_hourly_rollup(db: Database) -> None:
    fill(db, hours=30)
    recent = readings(db, "raw", "24h")
    frame = ask(recent, {"n": "count(*)"}, capteur="mayenne-laval")
    expected_24h = sum(
        1
        for q in range(120)
        if NOW - dt.timedelta(minutes=15 * q) >= dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=24)
    )
    assert frame["n"][0] == expected_24h  # readings of 2026-12-05 may be older than 24 h: the window is honoured
    everything = readings(db, "raw")
    by_hour = ask(everything, {"n": "count(*)"}, ("heure",), capteur="oudon-craon")
    assert len(by_hour) == 120 and by_hour["heure"].iloc[-1] == "2026-12-05 12:00"  # raw: to the minute
    written = sensor_store.rollup(db, since=NOW - dt.timedelta(hours=40), until=NOW + dt.timedelta(hours=1))
    assert written == 2 * 31
    assert sensor_store.rollup(db, since=NOW - dt.timedelta(hours=40), until=NOW + dt.timedelta(hours=1)) == 2 * 31
    hourly = readings(db, "hourly")
    frame = ask(hourly, {"v": "max(valeur_max)", "n": "sum(nb)", "m": "avg(valeur)"}, capteur="oudon-craon")
    assert frame["v"][0] == 0.5 and frame["n"][0] == 120 and frame["m"][0] == pytest.approx(0.5)


def test_purge_keeps_hourly_aggregates(db: Database) -> None:
    fill(db, hours=30)
    later = NOW + dt.timedelta(days=30, hours=-6)  # raw_days: 30 → the readings before NOW - 6 h go
    removed = sensor_store.purge(db, SENSORS, now=later)
    assert removed == 2 * 95  # quarters 25 to 119 of each device; the last 6 hours stay
    assert ask(readings(db, "raw"), {"n": "count(*)"}, capteur="mayenne-laval")["n"][0] == 25
    hourly = ask(readings(db, "hourly"), {"n": "sum(nb)"}, capteur="mayenne-laval")
    assert hourly["n"][0] == 95  # the purge rolled those hours up before deleting them


def test_tokens_are_stored_hashed_and_revocable(db: Database) -> None:
    token_id, token = sensor_store.create_token(db, "crues-mayenne", "passerelle")
    assert token.startswith("pcs_") and len(token) > 40
    assert sensor_store.token_allows(db, "crues-mayenne", token)
    assert not sensor_store.token_allows(db, "autre-source", token)
    stored = sensor_store.list_tokens(db)[0]
    assert stored.token_hash == sensor_store.token_hash(token) and token not in stored.token_hash
    assert sensor_store.revoke_token(db, token_id) and not sensor_store.revoke_token(db, token_id)
    assert not sensor_store.token_allows(db, "crues-mayenne", token)


def test_sensor_yaml_errors_name_file_line_and_column(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    path = config / "sensors" / "crues-mayenne.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('commune: "53130"', 'commune: "Laval"', 1).replace("range: [-0.5, 6]", "range: [6, 2]", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_registry(ROOT, config, ROOT / "dashboards", instance_dir=tmp_path / "instance")
    report = caught.value.report()
    lines = text.splitlines()
    commune_line = next(i for i, line in enumerate(lines, 1) if '"Laval"' in line)
    assert f"crues-mayenne.yaml:{commune_line}:" in report and "commune" in report
    assert "intervalle `range` [6.0, 2.0] vide" in report


# --------------------------------------------------------------------------- SensorThings


def observations() -> list[dict[str, object]]:
    start = dt.datetime(2026, 12, 5, 0, 0)
    found: list[dict[str, object]] = []
    for i in range(250):
        moment = start + dt.timedelta(minutes=10 * i)
        found.append(
            {"datastream": 1 + i % 2, "phenomenonTime": moment.isoformat() + "Z", "result": round(1 + i / 100, 2)}
        )
    found.append({"datastream": 1, "phenomenonTime": "2026-12-06T18:00:00Z/2026-12-06T19:00:00Z", "result": "3.5"})
    found.append({"datastream": 2, "phenomenonTime": "2026-12-06T19:00:00Z", "result": "capteur en panne"})
    return found


@pytest.fixture
def sta() -> Iterator[FakeSensorThings]:
    server = FakeSensorThings({1: "Hauteur Laval", 2: "Hauteur Château-Gontier"}, observations(), max_top=100).start()
    yield server
    server.stop()


def test_sensorthings_follows_next_links_and_reads_results(sta: FakeSensorThings, tmp_path: Path) -> None:
    config = SensorThingsSource.Config(type="sensorthings", title="STA", url=f"{sta.url}/Observations", page_size=1000)  # type: ignore[arg-type]
    source = SensorThingsSource("sta", config, tmp_path, DuckRuntime(work_dir=tmp_path))
    assert source.schema()["ts"].startswith("TIMESTAMP")
    frame = source.run(
        Query("sta", (("n", parse_measure("count(*)")), ("v", parse_measure("max(valeur)"))), group_by=("datastream",))
    )
    counts = dict(zip(frame["datastream"], frame["n"], strict=True))
    assert counts == {"Hauteur Laval": 126, "Hauteur Château-Gontier": 126}
    assert (
        dict(zip(frame["datastream"], frame["v"], strict=True))["Hauteur Laval"] == 3.5
    )  # "3.5" at the interval's end
    assert len(sta.requests) == 3  # 252 observations, the server gives 100 per page whatever $top asks
    assert "%24expand=Datastream" in sta.requests[0] and "%24skip=200" in sta.requests[2]
    hours = source.run(
        Query("sta", (("n", parse_measure("count(*)")),), filters=(Filter("heure", "=", "2026-12-06 19:00"),))
    )
    assert hours["n"][0] == 2


def test_sensorthings_filter_and_page_guard(sta: FakeSensorThings, tmp_path: Path) -> None:
    config = SensorThingsSource.Config(
        type="sensorthings", title="STA", url=f"{sta.url}/Datastreams(1)/Observations",
        filter="phenomenonTime ge 2026-12-06T00:00:00Z",
    )  # type: ignore[arg-type]  # fmt: skip
    source = SensorThingsSource("sta1", config, tmp_path, DuckRuntime(work_dir=tmp_path))
    frame = source.run(Query("sta1", (("n", parse_measure("count(*)")),)))
    assert frame["n"][0] == 1 + sum(1 for i in range(0, 250, 2) if i * 10 >= 24 * 60)
    guarded = SensorThingsSource.Config(type="sensorthings", title="STA", url=f"{sta.url}/Observations", max_pages=2)  # type: ignore[arg-type]
    with pytest.raises(Exception, match="plus de 2 pages"):
        SensorThingsSource("sta2", guarded, tmp_path, DuckRuntime(work_dir=tmp_path)).fetch()


def test_a_dataset_naming_an_unknown_sensor_source_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    path = config / "datasets" / "capteurs.yaml"
    text = path.read_text(encoding="utf-8").replace("source: crues-mayenne", "source: crues-mayene", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_registry(ROOT, config, ROOT / "dashboards", instance_dir=tmp_path / "instance")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "crues-mayene" in row)
    report = caught.value.report()
    assert f"capteurs.yaml:{line}:" in report and "source de capteurs `crues-mayene` inconnue" in report
    assert "crues-mayenne" in report  # « vouliez-vous dire »
