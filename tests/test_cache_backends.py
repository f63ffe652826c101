"""Cache backends: the file cache (default, shared by the workers of a machine) and Redis
(shared by machines, PILOTIS_TEST_REDIS); two app instances share cached results; cache keys
hold everything that changes a result; refresh policies."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pilotis.core.cache import FileCache, RedisCache, TieredCache, TTLCache, frame_bytes
from pilotis.core.cache_codec import decode, encode
from pilotis.core.data import GENERATION_CHECK, DataService
from pilotis.core.freshness import SUCCESS_EVERY, StatusStore, window
from pilotis.core.measures import parse_measure
from pilotis.core.query import Filter, Query
from pilotis.core.schema import DatasetBase
from pilotis.core.sources import DataSource, SourceError
from tests import cache_writer
from tests.fake_api import ODS_PREFIX, FakeApi
from tests.helpers import login_as, texts, widget_content
from tests.sources_project import make_app, write_project
from tests.test_sources_remote import FIELDS, rows


def frame() -> pd.DataFrame:
    result = pd.DataFrame(
        {
            "periode": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "code": ["01004", None],
            "v": [1.5, None],
        }
    )
    result.attrs["refreshed_at"] = 1_700_000_000.5
    return result


def test_encoding_is_safe_and_faithful() -> None:
    back = decode(encode(frame()))
    pd.testing.assert_frame_equal(back, frame(), check_dtype=False)
    assert back.attrs == {"refreshed_at": 1_700_000_000.5}
    assert decode(encode({"at": 1.0, "message": "é"})) == {"at": 1.0, "message": "é"}
    with pytest.raises(ValueError):
        decode(b"\x80\x04pickle")  # never unpickled


def test_file_cache(tmp_path: Path) -> None:
    now = [1000.0]
    cache = FileCache(tmp_path, clock=lambda: now[0])
    cache.set("q:ds|a", frame(), 10)
    cache.set("q:ds|b", {"x": 1}, 10)
    cache.set("q:autre|c", {"x": 2}, 10)
    found, value = cache.get("q:ds|a")
    assert found and value.attrs["refreshed_at"] == 1_700_000_000.5
    now[0] += 11
    assert cache.get("q:ds|a") == (False, None)  # expired
    now[0] -= 11
    cache.clear_namespace("q:ds")
    assert cache.get("q:ds|b") == (False, None) and cache.get("q:autre|c")[0]
    # another process writes, this one reads (atomic rename, no half-written entry)
    process = multiprocessing.get_context("spawn").Process(target=cache_writer.write, args=(str(tmp_path), "k|1", 3.0))
    process.start()
    process.join(30)
    assert FileCache(tmp_path).get("k|1") == (True, {"v": 3.0})
    (tmp_path / "k" / "garbage").write_bytes(b"xx")  # a damaged entry is a miss, not an error
    assert not list(tmp_path.glob("*/.*.tmp"))


@pytest.mark.parametrize("backend", ["file", "redis"])
def test_a_result_and_its_last_good_copy_are_stored_together(tmp_path: Path, backend: str) -> None:
    if backend == "redis" and not os.environ.get("PILOTIS_TEST_REDIS"):
        pytest.skip("PILOTIS_TEST_REDIS not set (Redis tests run in CI)")
    prefix = f"pilotis-test-{uuid.uuid4().hex[:10]}:"
    cache: Any = FileCache(tmp_path) if backend == "file" else RedisCache(os.environ["PILOTIS_TEST_REDIS"], prefix)
    result = frame()
    cache.set_many(
        [
            ("q:ds|fresh", result, 10),
            ("good:ds|q", result, 3600),
            ("q:ds|broken", object(), 10),  # cannot be encoded: logged and left out, the others are kept
            ("q:ds|zero", result, 0),  # ttl 0: not stored
        ]
    )
    for key, lifetime in (("q:ds|fresh", 10), ("good:ds|q", 3600)):
        found, value, left = cache.get_with_ttl(key)
        assert found and value.attrs["refreshed_at"] == 1_700_000_000.5 and lifetime - 5 < left <= lifetime
    assert not cache.get("q:ds|broken")[0] and not cache.get("q:ds|zero")[0]
    cache.clear()


def test_file_cache_is_bounded(tmp_path: Path) -> None:
    cache = FileCache(tmp_path, max_bytes=50_000)
    big = pd.DataFrame({"v": range(2000)})
    for i in range(100):
        cache.set(f"q:ds|{i}", big, 60)
    cache.prune()
    assert sum(p.stat().st_size for p in tmp_path.glob("*/*")) <= 50_000
    assert cache.get("q:ds|99")[0]  # the newest entries are kept


def test_file_cache_stays_bounded_without_an_explicit_prune(tmp_path: Path) -> None:
    """The folder is pruned as soon as it may pass its bound (not after a fixed number of writes)."""
    cache = FileCache(tmp_path, max_bytes=50_000)
    big = pd.DataFrame({"v": range(2000)})
    entry = None
    for i in range(30):
        cache.set(f"q:ds|{i}", big, 60)
        entry = entry or sum(p.stat().st_size for p in tmp_path.glob("*/*"))
    assert entry is not None and sum(p.stat().st_size for p in tmp_path.glob("*/*")) <= 50_000 + entry
    assert cache.get("q:ds|29")[0]  # the newest entry is kept


def test_worker_front_serves_repeats_from_memory_never_past_the_shared_expiry(tmp_path: Path) -> None:
    now = [1000.0]
    shared = FileCache(tmp_path, clock=lambda: now[0])
    worker = TieredCache(shared, TTLCache(clock=lambda: now[0], max_bytes=10**6, weigh=frame_bytes))
    FileCache(tmp_path, clock=lambda: now[0]).set("q:ds|a", frame(), 10)  # written by another worker
    now[0] += 4
    for _ in range(3):
        found, value = worker.get("q:ds|a")
        assert found and value.attrs["refreshed_at"] == 1_700_000_000.5
    assert shared.hits == 1 and worker.hits == 3  # one file read, then memory
    now[0] += 7  # the shared entry expired 10 s after it was written: so did the front's copy
    assert worker.get("q:ds|a") == (False, None) and worker.misses == 1
    worker.set("status:ds|x", {"ok": True}, 60)  # not a query result: always read from the shared cache
    worker.get("status:ds|x")
    worker.get("status:ds|x")
    assert shared.hits == 3
    worker.set("q:ds|b", frame(), 60)
    worker.clear_namespace("q:ds")  # a manual refresh forgets both levels
    assert worker.get("q:ds|b") == (False, None)


def test_worker_front_memory_is_bounded() -> None:
    front = TTLCache(max_bytes=100_000, weigh=frame_bytes)
    small = pd.DataFrame({"v": range(1000)})  # 8 kB
    for i in range(30):
        front.set(f"q:ds|{i}", small, 60)
    assert 0 < front._bytes <= 100_000 and front.get("q:ds|29")[0] and not front.get("q:ds|0")[0]
    front.set("q:ds|big", pd.DataFrame({"v": range(50_000)}), 60)  # 400 kB: never kept in memory
    assert not front.get("q:ds|big")[0] and front.get("q:ds|29")[0]


@pytest.mark.parametrize("shared", [False, True], ids=["memory", "file+front"])
def test_a_caller_changing_its_result_changes_nobody_elses(tmp_path: Path, shared: bool) -> None:
    source = Counting(DatasetBase(type="counting", title="Compteur"))
    cache: Any = TieredCache(FileCache(tmp_path)) if shared else TTLCache()
    data = DataService({"compteur": source}, cache)
    query = Query("compteur", (("v", parse_measure("sum(v)")),))
    first = data.query(query)
    first["libelle"] = "modifié"  # e.g. a widget adding a label column
    first.attrs["note"] = "x"
    second = data.query(query)
    second.loc[0, "v"] = 99.0
    third = data.query(query)
    assert list(third.columns) == ["v"] and third.iloc[0]["v"] == 1.0 and "note" not in third.attrs
    assert source.runs == 1


@pytest.fixture
def redis_url() -> Iterator[str]:
    url = os.environ.get("PILOTIS_TEST_REDIS")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("PILOTIS_TEST_REDIS is not set in CI")
        pytest.skip("PILOTIS_TEST_REDIS not set (Redis tests run in CI)")
    yield url


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of its own for each test, removed afterwards."""
    value = f"pilotis-test-{uuid.uuid4().hex[:10]}:"
    yield value
    RedisCache(redis_url, value).clear()


@pytest.mark.redis
def test_redis_cache(redis_url: str, prefix: str) -> None:
    cache = RedisCache(redis_url, prefix)
    other = RedisCache(redis_url, prefix)  # another machine
    cache.set("q:ds|a", frame(), 0.3)
    cache.set("q:ds|b", {"x": 1}, 60)
    cache.set("q:autre|[c]*", {"x": 2}, 60)
    found, value = other.get("q:ds|a")
    assert found and list(value["v"].fillna(0)) == [1.5, 0]
    assert cache._client.pttl(prefix + "q:ds|a") <= 300  # SET … PX ttl
    found, _, left = other.get_with_ttl("q:ds|b")  # what a worker's front may keep it for
    assert found and 55 < left <= 60
    cache.clear_namespace("q:ds")
    assert other.get("q:ds|b") == (False, None) and other.get("q:autre|[c]*")[0]
    unrelated = RedisCache(redis_url, "autre-" + prefix)
    unrelated.set("q:ds|b", {"x": 1}, 60)
    cache.clear()
    assert unrelated.get("q:ds|b")[0]  # another prefix (another portal) is left alone
    unrelated.clear()


def test_redis_down_is_a_miss(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cache = RedisCache(f"redis://127.0.0.1:{port}/0", "p:", timeout=0.5)
    cache.set("q:ds|a", {"x": 1}, 60)
    assert cache.get("q:ds|a") == (False, None)


def _two_apps(tmp_path: Path, api: FakeApi, **settings: Any) -> tuple[Any, Any]:
    root = write_project(tmp_path / "projet", api.url, 9)
    first = make_app(root, tmp_path / "machine-1", **settings)
    second = make_app(root, tmp_path / ("machine-1" if "cache_url" not in settings else "machine-2"), **settings)
    return first, second


def _kpi(app: Any, client: Any) -> str:
    dashboard = app.server.extensions["pilotis"].registry.dashboards["sources"]
    return " ".join(texts(widget_content(client, dashboard, "ods", "departement:53", "all")))


def _shared(first: Any, second: Any, api: FakeApi) -> None:
    clients = []
    for app in (first, second):
        client = app.server.test_client()
        login_as(client, "admin")
        clients.append(client)
    api.requests.clear()
    shown = _kpi(first, clients[0])
    records = [p for p, _ in api.requests if p.endswith("/records")]
    assert len(records) == 1
    assert _kpi(second, clients[1]) == shown
    assert len([p for p, _ in api.requests if p.endswith("/records")]) == 1  # served from the cache


@pytest.mark.redis
def test_two_instances_share_results_through_redis(tmp_path: Path, redis_url: str, prefix: str) -> None:
    api = FakeApi(rows(10), FIELDS).start()
    try:
        first, second = _two_apps(tmp_path, api, cache_url=redis_url, cache_prefix=prefix)
        _shared(first, second, api)
        first.server.extensions["pilotis"].data.refresh("ods_indicateurs")  # seen by the other machine
        time.sleep(GENERATION_CHECK)  # …within the time a worker trusts its copy of the generation
        client = second.server.test_client()
        login_as(client, "admin")
        api.requests.clear()
        _kpi(second, client)
        assert [p for p, _ in api.requests if p == f"{ODS_PREFIX}indicateurs/records"]
    finally:
        api.stop()


def test_two_workers_share_the_file_cache(tmp_path: Path) -> None:
    api = FakeApi(rows(10), FIELDS).start()
    try:
        first, second = _two_apps(tmp_path, api)  # same instance folder: two workers of one machine
        _shared(first, second, api)
    finally:
        api.stop()


class Counting(DataSource):
    """A source counting its runs; fails on demand."""

    type_name = "counting"
    Config = DatasetBase

    def __init__(self, config: DatasetBase) -> None:
        super().__init__("compteur", config, Path("."), None)  # type: ignore[arg-type]
        self.runs = 0
        self.fail = False

    def schema(self) -> dict[str, str]:
        return {"v": "DOUBLE", "code": "VARCHAR"}

    def run(self, query: Query) -> pd.DataFrame:
        if self.fail:
            raise SourceError("source compteur injoignable", "unreachable")
        self.runs += 1
        return pd.DataFrame({"v": [float(self.runs)]})


def test_cache_key_holds_everything_that_changes_the_result() -> None:
    source = Counting(DatasetBase(type="counting", title="Compteur", retry=0))
    data = DataService({"compteur": source}, TTLCache())
    base = Query("compteur", (("v", parse_measure("sum(v)")),))
    data.query(base)
    data.query(base)
    assert source.runs == 1
    for variant in (
        base.with_filters([Filter("code", "=", "1")]),  # a filter
        base.with_filters([Filter("code", "=", "2")]),  # its value
        base.with_filters([Filter("epci_siren", "=", "200083392")]),  # a row rule
        Query("compteur", (("v", parse_measure("max(v)")),)),  # the measure
        Query("compteur", (("v", parse_measure("sum(v)")),), group_by=("code",)),
    ):
        data.query(variant)
    assert source.runs == 6
    data.refresh("compteur")
    data.query(base)
    assert source.runs == 7


def test_stale_result_and_status() -> None:
    now = [1_800_000_000.0]
    source = Counting(DatasetBase(type="counting", title="Compteur", ttl=5, retry=30))
    data = DataService({"compteur": source}, TTLCache(clock=lambda: now[0]), clock=lambda: now[0])
    query = Query("compteur", (("v", parse_measure("sum(v)")),))
    assert data.query(query).iloc[0]["v"] == 1
    now[0] += 6
    source.fail = True
    stale = data.query(query)
    assert stale.iloc[0]["v"] == 1 and stale.attrs["stale_since"] == 1_800_000_000.0
    status = data.last_status("compteur")
    assert status.failing and status.message == "source compteur injoignable"
    source.fail = False
    assert "stale_since" in data.query(query).attrs  # within `retry`: the source is left alone
    now[0] += 31
    fresh = data.query(query)
    assert "stale_since" not in fresh.attrs and fresh.iloc[0]["v"] == 2
    assert not data.last_status("compteur").failing


def test_a_success_is_written_again_only_after_a_while_or_a_failure() -> None:
    """A worker asking a source at every page change records its success once per
    SUCCESS_EVERY seconds (a write per source query cost ~0.5 ms of CPU); a failure recorded in
    between by another worker is followed by the next success at once: the state is never wrong."""
    cache = TTLCache()
    writes: list[str] = []
    set_ = cache.set

    def counted(key: str, value: Any, ttl: float) -> None:
        writes.append(key)
        set_(key, value, ttl)

    cache.set = counted  # type: ignore[method-assign,assignment]
    worker, other = StatusStore(cache), StatusStore(cache)
    worker.success("d", 1000.0)
    worker.success("d", 1000.0 + SUCCESS_EVERY - 1)
    assert writes == ["status:d|ok"] and worker.get("d").last_success == 1000.0
    other.failure("d", 1010.0, "source d injoignable", "unreachable")
    assert worker.get("d").failing
    worker.success("d", 1012.0)
    status = worker.get("d")
    assert not status.failing and status.last_success == 1012.0
    worker.success("d", 1012.0 + SUCCESS_EVERY)
    assert worker.get("d").last_success == 1012.0 + SUCCESS_EVERY


def test_refresh_windows() -> None:
    every = DatasetBase(type="x", title="t", refresh={"every": "15min"})
    moment = dt.datetime(2026, 11, 29, 10, 7, 30, tzinfo=dt.UTC)  # 11:07:30 in Paris
    lifetime, epoch = window(every, moment.timestamp())
    assert lifetime == pytest.approx(7.5 * 60) and epoch == "2026-11-29T11:00+01:00"
    at = DatasetBase(type="x", title="t", refresh={"at": ["06:30", "13:00"]})
    lifetime, epoch = window(at, moment.timestamp())
    assert lifetime == pytest.approx((1 * 60 + 52.5) * 60) and epoch == "2026-11-29T06:30+01:00"
    night = dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.UTC).timestamp()
    assert window(at, night)[1] == "2026-11-28T13:00+01:00"
    assert window(DatasetBase(type="x", title="t", ttl="1h"), 0) == (3600.0, "")
