"""REST and Opendatasoft sources against a real HTTP server on 127.0.0.1 (tests/fake_api.py)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from data_sources.http import get_json, quota_reset
from data_sources.opendatasoft import OpendatasoftSource, odsql_condition, odsql_literal
from data_sources.rest import RestSource
from pilotis.core.cache import TTLCache
from pilotis.core.data import DataService
from pilotis.core.measures import Agg, parse_measure
from pilotis.core.query import PERIOD, Filter, Query
from pilotis.core.sources import DuckRuntime, SourceError
from tests.fake_api import ODS_PREFIX, FakeApi

FIELDS = {"code_insee": "text", "epci": "text", "date": "date", "valeur": "double", "n": "int"}


def rows(communes: int = 300) -> list[dict[str, object]]:
    return [
        {
            "code_insee": f"53{i:03d}",
            "epci": f"E{i % 5}",
            "date": dt.date(2023 + m // 12, m % 12 + 1, 1),
            "valeur": float(i + m),
            "n": i % 7,
        }
        for i in range(communes)
        for m in range(24)
    ]


@pytest.fixture
def api() -> Iterator[FakeApi]:
    server = FakeApi(rows(), FIELDS).start()
    yield server
    server.stop()


def ods(api: FakeApi, tmp_path: Path, **options: object) -> OpendatasoftSource:
    options = {"timeout": "1s", **options}  # 1 s: the failure tests' slow server answers after 2.5 s
    config = OpendatasoftSource.Config(
        type="opendatasoft",
        title="Indicateurs",
        url=api.url,
        dataset_id="indicateurs",
        period={"column": "date", "grain": "month"},
        **options,
    )  # type: ignore[arg-type]
    return OpendatasoftSource("ind", config, tmp_path, DuckRuntime(work_dir=tmp_path))


def reference(query_rows: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame(query_rows)


def calls(api: FakeApi, endpoint: str) -> list[dict[str, str]]:
    return [p for path, p in api.requests if path == f"{ODS_PREFIX}indicateurs{endpoint}"]


def test_odsql_translation() -> None:
    assert odsql_condition(Filter("nom", "=", 'Saint-Jean "le" \\ Bas')) == '`nom` = "Saint-Jean \\"le\\" \\\\ Bas"'
    assert odsql_condition(Filter("date", ">=", dt.date(2024, 1, 1))) == "`date` >= date'2024-01-01'"
    assert odsql_condition(Filter("code", "in", ("a", 2))) == '(`code` = "a" OR `code` = 2)'
    assert odsql_condition(Filter("actif", "=", True)) == "`actif` = true"


def test_aggregation_is_pushed_down(api: FakeApi, tmp_path: Path) -> None:
    src = ods(api, tmp_path)
    assert src.schema()["date"] == "DATE"
    query = Query(
        "ind",
        (("v", parse_measure("sum(valeur)")), ("moy", parse_measure("sum(valeur) / count(*)"))),
        group_by=("epci",),
        filters=(
            Filter("date", ">=", dt.date(2024, 1, 1)),
            Filter("code_insee", "in", ("53001", "53002", "53006")),
        ),
    )
    result = src.run(query)
    frame = reference(rows())
    frame = frame[(frame["date"] >= dt.date(2024, 1, 1)) & frame["code_insee"].isin(["53001", "53002", "53006"])]
    expected = frame.groupby("epci")["valeur"].agg(["sum", "mean"])
    assert list(result["epci"]) == list(expected.index)
    assert list(result["v"]) == pytest.approx(list(expected["sum"]))
    assert list(result["moy"]) == pytest.approx(list(expected["mean"]))
    params = calls(api, "/records")[-1]
    assert params["select"] == "sum(`valeur`) as `m0`, count(*) as `m1`"
    assert params["group_by"] == "`epci` as `epci`"
    assert "`date` >= date'2024-01-01'" in params["where"]
    assert not calls(api, "/exports/json")  # 2 groups: one page of /records


def test_period_grains(api: FakeApi, tmp_path: Path) -> None:
    src = ods(api, tmp_path)
    yearly = src.run(
        Query(
            "ind",
            (("v", parse_measure("sum(valeur)")),),
            group_by=(PERIOD,),
            period_column="date",
            period_grain="year",
            native_grain="month",
        )
    )
    assert [d.date() for d in yearly[PERIOD]] == [dt.date(2023, 1, 1), dt.date(2024, 1, 1)]
    assert calls(api, "/records")[-1]["group_by"] == 'date_format(`date`, "yyyy") as `periode`'
    quarterly = src.run(
        Query(
            "ind",
            (("v", parse_measure("sum(valeur)")),),
            group_by=(PERIOD,),
            period_column="date",
            period_grain="quarter",
            native_grain="month",
        )
    )
    assert len(quarterly) == 8 and quarterly["v"].sum() == pytest.approx(yearly["v"].sum())
    export = calls(api, "/exports/json")[-1]  # no ODSQL quarter: needed columns exported
    assert export["select"] == "`date`, `valeur`" and export["limit"] == "-1"
    bounds = src.run(Query("ind", (("debut", Agg("min", "date")), ("fin", Agg("max", "date")))))
    assert bounds.iloc[0]["fin"] == pd.Timestamp("2024-12-01")


def test_paging_limits_are_respected(api: FakeApi, tmp_path: Path) -> None:
    # 300 communes × 24 months = 7 200 groups: one /records call (≤ 20 000 with group_by)
    src = ods(api, tmp_path, timeout="30s")  # 7 200 groups: over 1 s on a busy CI machine
    grouped = src.run(
        Query(
            "ind",
            (("v", parse_measure("sum(valeur)")),),
            group_by=("code_insee", PERIOD),
            period_column="date",
            period_grain="month",
            native_grain="month",
        )
    )
    assert len(grouped) == 7200
    assert [int(p["offset"]) + int(p["limit"]) for p in calls(api, "/records")] == [19999]  # below 20 000
    # pages of 1 000 groups: 8 calls, every one within the documented window
    small = ods(api, tmp_path, group_page_size=1000, timeout="30s")
    api.requests.clear()
    assert (
        len(
            small.run(
                Query(
                    "ind",
                    (("v", parse_measure("sum(valeur)")),),
                    group_by=("code_insee", PERIOD),
                    period_column="date",
                    period_grain="month",
                    native_grain="month",
                )
            )
        )
        == 7200
    )
    pages = calls(api, "/records")
    assert len(pages) == 8 and all(int(p["limit"]) + int(p["offset"]) < 20000 for p in pages)
    # raw rows (no group_by): 7 200 rows, /records would need offset > 10 000: export instead
    api.requests.clear()
    distinct = src.run(Query("ind", (("n", parse_measure("count_distinct(code_insee)")),)))
    assert int(distinct.iloc[0]["n"]) == 300
    assert calls(api, "/exports/json") and all(int(p.get("limit", 0)) <= 100 for p in calls(api, "/records"))


def test_more_than_ten_thousand_raw_rows_use_exports(tmp_path: Path) -> None:
    server = FakeApi(rows(500), FIELDS).start()  # 12 000 rows
    try:
        src = ods(server, tmp_path, timeout="30s")
        result = src.run(Query("ind", (("n", parse_measure("count_distinct(code_insee)")),)))
        assert int(result.iloc[0]["n"]) == 500
        assert calls(server, "/exports/json")
    finally:
        server.stop()


def test_records_paging_without_group_by(api: FakeApi, tmp_path: Path) -> None:
    src = ods(api, tmp_path)
    records = src.fetch({"select": "`code_insee`", "where": '`epci` = "E1"'})
    assert len(records) == 60 * 24  # 1 440 rows: 15 pages of 100
    pages = calls(api, "/records")
    assert len(pages) == 15 and {p["limit"] for p in pages} == {"100"}
    assert max(int(p["offset"]) for p in pages) == 1400


def test_api_key_header(api: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api.api_key = "s3cret"
    monkeypatch.setenv("PILOTIS_TEST_ODS_KEY", "s3cret")
    assert ods(api, tmp_path, api_key="${PILOTIS_TEST_ODS_KEY}").fields()
    with pytest.raises(SourceError) as refused:
        ods(api, tmp_path, api_key="mauvaise").fields()
    assert refused.value.kind == "auth" and "mauvaise" not in str(refused.value)


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        ("error", "unreachable"),
        ("timeout", "timeout"),
        ("malformed", "malformed"),
        ("auth", "auth"),
        ("reset", "unreachable"),
        ("columns", "columns"),
    ],
)
def test_failures_become_source_errors(api: FakeApi, tmp_path: Path, mode: str, kind: str) -> None:
    src = ods(api, tmp_path)
    query = Query("ind", (("v", parse_measure("sum(valeur)")),))
    assert src.run(query).iloc[0]["v"] > 0
    api.mode, api.delay = mode, 2.5
    src.invalidate()  # as a manual refresh would: read the fields again
    with pytest.raises(SourceError) as failed:
        src.run(query)
    assert failed.value.kind == kind
    assert "indicateurs" in str(failed.value) or "ind" in str(failed.value)
    api.mode = "ok"
    assert src.run(query).iloc[0]["v"] > 0


def test_unreachable_port(tmp_path: Path) -> None:
    server = FakeApi([], FIELDS)
    server.server.server_close()  # bound then closed: nothing listens there
    src = ods(server, tmp_path, columns={"valeur": {"type": "number"}})
    assert src.schema() == {"valeur": "DOUBLE"}  # declared columns while unreachable
    with pytest.raises(SourceError) as down:
        src.run(Query("ind", (("v", parse_measure("sum(valeur)")),)))
    assert down.value.kind == "unreachable" and "connexion refusée" in str(down.value)


def rest(api: FakeApi, tmp_path: Path, **options: object) -> RestSource:
    config = RestSource.Config(
        type="rest",
        title="API métier",
        timeout="1s",
        period={"column": "date", "grain": "month"},
        **options,
    )  # type: ignore[arg-type]
    return RestSource("api", config, tmp_path, DuckRuntime(work_dir=tmp_path))


def test_rest_page_pagination_and_sql(api: FakeApi, tmp_path: Path) -> None:
    src = rest(
        api,
        tmp_path,
        url=f"{api.url}/rest/items",
        records="data.items",
        pagination={"type": "page", "size": 1000},
    )
    assert src.schema()["date"] == "DATE"
    result = src.run(
        Query(
            "api",
            (("v", parse_measure("sum(valeur)")),),
            group_by=(PERIOD,),
            period_column="date",
            period_grain="year",
            native_grain="month",
            filters=(Filter("epci", "=", "E2"),),
        )
    )
    frame = reference(rows())
    frame = frame[frame["epci"] == "E2"]
    assert list(result["v"]) == pytest.approx(list(frame.groupby(frame["date"].map(lambda d: d.year))["valeur"].sum()))
    assert len([p for p, _ in api.requests if p == "/rest/items"]) == 8  # 7 200 rows: 7 full pages + 1 empty
    assert result.attrs["refreshed_at"] and result.attrs["valid_until"] > result.attrs["refreshed_at"]
    api.requests.clear()
    src.run(Query("api", (("n", parse_measure("count(*)")),)))
    assert not api.requests  # fetched once per refresh period


def test_rest_next_link_and_bearer_token(api: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api.token = "jeton"
    monkeypatch.setenv("PILOTIS_TEST_TOKEN", "jeton")
    src = rest(
        api,
        tmp_path,
        url=f"{api.url}/rest/cursor",
        records="items",
        headers={"Authorization": "Bearer ${PILOTIS_TEST_TOKEN}"},
        pagination={"type": "next", "next": "links.next"},
    )
    assert int(src.run(Query("api", (("n", parse_measure("count(*)")),))).iloc[0]["n"]) == 7200
    monkeypatch.setenv("PILOTIS_TEST_TOKEN", "faux")
    src.invalidate()
    with pytest.raises(SourceError) as refused:
        src.run(Query("api", (("n", parse_measure("count(*)")),)))
    assert refused.value.kind == "auth"


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        ("error", "unreachable"),
        ("timeout", "timeout"),
        ("malformed", "malformed"),
        ("columns", "columns"),
    ],
)
def test_rest_failures(api: FakeApi, tmp_path: Path, mode: str, kind: str) -> None:
    src = rest(
        api,
        tmp_path,
        url=f"{api.url}/rest/items",
        records="data.items",
        pagination={"type": "page", "size": 5000},
    )
    query = Query("api", (("v", parse_measure("sum(valeur)")),))
    assert src.run(query).iloc[0]["v"] > 0
    api.mode, api.delay = mode, 2.5
    src.invalidate()
    with pytest.raises(SourceError) as failed:
        src.run(query)
    assert failed.value.kind == kind


def test_rest_wrong_records_path(api: FakeApi, tmp_path: Path) -> None:
    src = rest(api, tmp_path, url=f"{api.url}/rest/items", records="data.absent")
    with pytest.raises(SourceError) as wrong:
        src.run(Query("api", (("n", parse_measure("count(*)")),)))
    assert wrong.value.kind == "malformed" and "data.absent" in str(wrong.value)


# --------------------------------------------------------------------------- the published API's rules
def raw_get(api: FakeApi, endpoint: str, **params: object) -> SourceError | object:
    """One request as sent by hand: the decoded answer, or the SourceError of a refusal."""
    try:
        return get_json("brut", f"{api.url}{ODS_PREFIX}indicateurs{endpoint}", dict(params))
    except SourceError as exc:
        return exc


def test_fake_server_refuses_what_the_reference_refuses(api: FakeApi) -> None:
    """The fake answers 400 where the published API does, so that the tests below mean something."""
    refused = {
        "exponent": raw_get(api, "/records", select="count(*) as n", where="`valeur` > 1e-05"),
        "bare keyword label": raw_get(api, "/records", select="count(*) as n", group_by="`epci` as year"),
        "bare keyword order": raw_get(api, "/records", select="count(*) as n", group_by="`n` as `n`", order_by="year"),
        "raw newline": raw_get(api, "/records", select="count(*) as n", where='`epci` = "a\nb"'),
        "max of text": raw_get(api, "/records", select="max(`epci`) as m"),
        "grouped window": raw_get(api, "/records", select="count(*) as n", group_by="`epci` as `epci`", limit=20000),
        "unknown zone": raw_get(api, "/records", select="count(*) as n", timezone="Mars/Olympus"),
    }
    for case, answer in refused.items():
        assert isinstance(answer, SourceError) and "HTTP 400" in str(answer), case
    accepted = raw_get(api, "/records", select="max(`valeur`) as `m`", where="`valeur` > 0.00001", limit=1)
    assert isinstance(accepted, dict) and accepted["results"][0]["m"] == 322.0
    grouped = raw_get(api, "/records", select="count(*) as n", group_by="`epci` as `year`", limit=19999)
    assert isinstance(grouped, dict) and grouped["total_count"] == 5


def test_decimals_are_written_without_exponent(api: FakeApi, tmp_path: Path) -> None:
    assert odsql_literal(1e-05) == "0.00001"
    assert odsql_literal(1e16) == "10000000000000000"
    assert odsql_literal(-2.5e-7) == "-0.00000025"
    assert odsql_literal(12.5) == "12.5" and odsql_literal(3) == "3"
    src = ods(api, tmp_path)
    query = Query(
        "ind",
        (("n", parse_measure("count(*)")),),
        filters=(Filter("valeur", ">=", 1e-05), Filter("valeur", "<", 1e16)),
    )
    assert int(src.run(query).iloc[0]["n"]) == 300 * 24 - 1  # every row but valeur = 0.0


KEYWORDS = {"year": "int", "group": "text", "date": "date", "valeur": "double"}


def keyword_rows() -> list[dict[str, object]]:
    return [
        {"year": 2020 + i % 3, "group": f"G{i % 2}", "date": dt.date(2020 + i % 3, 1 + i % 12, 1), "valeur": float(i)}
        for i in range(60)
    ]


def test_fields_named_like_keywords_are_back_quoted_everywhere(tmp_path: Path) -> None:
    server = FakeApi(keyword_rows(), KEYWORDS).start()
    try:
        src = ods(server, tmp_path)
        result = src.run(
            Query(
                "ind",
                (("v", parse_measure("sum(valeur)")),),
                group_by=("year",),
                filters=(Filter("group", "=", "G1"),),
            )
        )
        frame = reference(keyword_rows())
        expected = frame[frame["group"] == "G1"].groupby("year")["valeur"].sum()
        assert list(result["year"]) == list(expected.index)
        assert list(result["v"]) == pytest.approx(list(expected))
        params = calls(server, "/records")[-1]
        assert params["group_by"] == "`year` as `year`" and params["order_by"] == "`year`"
        assert params["where"] == '`group` = "G1"'
    finally:
        server.stop()


def test_back_quotes_in_names_and_control_characters_are_escaped(tmp_path: Path) -> None:
    fields = {"nom `court`": "text", "valeur": "double"}
    data = [
        {"nom `court`": "ligne\nsuite", "valeur": 1.0},
        {"nom `court`": "tab\there", "valeur": 2.0},
        {"nom `court`": "cloche\x07", "valeur": 4.0},
        {"nom `court`": 'guillemets "x" \\ fin', "valeur": 8.0},
    ]
    assert odsql_condition(Filter("nom `court`", "=", "a\nb\x07")) == '`nom \\`court\\`` = "a\\nb\\u0007"'
    server = FakeApi(data, fields).start()
    try:
        src = ods(server, tmp_path)
        for row in data:
            query = Query(
                "ind", (("v", parse_measure("sum(valeur)")),), filters=(Filter("nom `court`", "=", row["nom `court`"]),)
            )
            assert src.run(query).iloc[0]["v"] == row["valeur"]
        grouped = src.run(Query("ind", (("v", parse_measure("sum(valeur)")),), group_by=("nom `court`",)))
        assert sorted(grouped["nom `court`"]) == sorted(str(r["nom `court`"]) for r in data)
    finally:
        server.stop()


def test_min_max_of_text_are_computed_locally(api: FakeApi, tmp_path: Path) -> None:
    src = ods(api, tmp_path, timeout="30s")  # 7 200 rows exported
    bounds = src.run(
        Query(
            "ind",
            (("premier", Agg("min", "code_insee")), ("dernier", Agg("max", "code_insee"))),
            group_by=("epci",),
        )
    )
    assert list(bounds["epci"]) == ["E0", "E1", "E2", "E3", "E4"]
    assert list(bounds["premier"]) == ["53000", "53001", "53002", "53003", "53004"]
    assert list(bounds["dernier"]) == ["53295", "53296", "53297", "53298", "53299"]
    assert calls(api, "/exports/json")[-1]["select"] == "`code_insee`, `epci`"
    assert not any("min(" in p.get("select", "") or "max(" in p.get("select", "") for p in calls(api, "/records"))
    api.requests.clear()
    numbers = src.run(Query("ind", (("haut", Agg("max", "valeur")),)))  # numbers: still computed by the API
    assert numbers.iloc[0]["haut"] == 322.0 and calls(api, "/records") and not calls(api, "/exports/json")


EVENTS = {"horodatage": "datetime", "valeur": "double"}


def event_rows() -> list[dict[str, object]]:
    utc = [
        dt.datetime(2024, 1, 15, 12, 0),
        dt.datetime(2024, 1, 31, 23, 30),  # 1 February, 00:30 in Paris
        dt.datetime(2024, 2, 10, 8, 0),
        dt.datetime(2024, 6, 30, 22, 15),  # 1 July, 00:15 in Paris (summer time)
    ]
    return [{"horodatage": moment, "valeur": float(i + 1)} for i, moment in enumerate(utc)]


def test_datetimes_are_grouped_and_filtered_in_paris_time(tmp_path: Path) -> None:
    server = FakeApi(event_rows(), EVENTS).start()
    try:
        config = OpendatasoftSource.Config(
            type="opendatasoft",
            title="Évènements",
            url=server.url,
            dataset_id="indicateurs",
            timeout="1s",
            period={"column": "horodatage", "grain": "day"},
        )  # type: ignore[arg-type]
        src = OpendatasoftSource("ev", config, tmp_path, DuckRuntime(work_dir=tmp_path))
        monthly = src.run(
            Query(
                "ev",
                (("n", parse_measure("count(*)")),),
                group_by=(PERIOD,),
                period_column="horodatage",
                period_grain="month",
                native_grain="day",
            )
        )
        assert [d.date() for d in monthly[PERIOD]] == [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 7, 1)]
        assert list(monthly["n"]) == [1, 2, 1]
        february = Query(
            "ev",
            (("n", parse_measure("count(*)")),),
            filters=(Filter("horodatage", ">=", dt.date(2024, 2, 1)), Filter("horodatage", "<", dt.date(2024, 3, 1))),
        )
        assert int(src.run(february).iloc[0]["n"]) == 2
        last = src.run(Query("ev", (("fin", Agg("max", "horodatage")),)))
        assert last.iloc[0]["fin"] == pd.Timestamp("2024-07-01 00:15")  # Paris local time
        quarterly = src.run(  # no ODSQL quarter: rows exported, then grouped here, in Paris time too
            Query(
                "ev",
                (("n", parse_measure("count(*)")),),
                group_by=(PERIOD,),
                period_column="horodatage",
                period_grain="quarter",
                native_grain="day",
            )
        )
        assert list(quarterly["n"]) == [3, 1] and quarterly[PERIOD].iloc[-1] == pd.Timestamp("2024-07-01")
        assert {p.get("timezone") for _, p in server.requests} == {"Europe/Paris"}
    finally:
        server.stop()


def test_quota_exceeded_says_when_and_waits_until_then(api: FakeApi, tmp_path: Path) -> None:
    now = [time.time()]
    src = ods(api, tmp_path)
    data = DataService({"ind": src}, TTLCache(clock=lambda: now[0]), clock=lambda: now[0])
    query = Query("ind", (("v", parse_measure("sum(valeur)")),), filters=(Filter("epci", "=", "E3"),))
    api.mode = "quota"
    api.quota_reset = float(int(now[0]) + 3 * 3600)
    with pytest.raises(SourceError) as exhausted:
        data.query(query)
    local = dt.datetime.fromtimestamp(api.quota_reset, ZoneInfo("Europe/Paris"))
    when = f"nouvel essai après le {local:%d/%m/%Y} à {local:%H:%M} (heure de Paris)"
    assert exhausted.value.kind == "refused" and "quota d'appels dépassé" in str(exhausted.value)
    assert when in str(exhausted.value)
    asked = len(api.requests)
    api.mode = "ok"  # the portal would answer again, but the quota is not reset yet: do not ask
    now[0] += 3600
    with pytest.raises(SourceError) as waiting:
        data.query(query)
    assert when in str(waiting.value) and len(api.requests) == asked
    now[0] = api.quota_reset + 1
    assert data.query(query).iloc[0]["v"] > 0 and len(api.requests) > asked


def test_quota_reset_from_either_hint() -> None:
    now = 1_800_000_000.0
    header = Message()
    header["X-RateLimit-Reset"] = str(int(now) + 600)
    assert quota_reset(header, None, now) == now + 600
    assert (
        quota_reset(Message(), {"reset_time": "2027-02-01T00:00:00Z"}, now)
        == dt.datetime(2027, 2, 1, tzinfo=dt.UTC).timestamp()
    )
    retry = Message()
    retry["Retry-After"] = "120"
    assert quota_reset(retry, {}, now) == now + 120
    assert quota_reset(Message(), {"reset_time": "2020-01-01T00:00:00Z"}, now) is None  # already past
