"""Séance mode: YAML validation, routes and access, live refresh through a shared time-bucketed
cache (query counting with a fake clock), last good data, frozen snapshots, display links."""

from __future__ import annotations

import html
import json
import re
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from dash import Dash
from dash._utils import split_callback_id

from pilotis.accounts import display_links, snapshots
from pilotis.accounts.users import DEMO_USERS
from pilotis.core.access import Principal, can_view, can_view_seance
from pilotis.core.cache import TTLCache
from pilotis.core.data import DataService, time_bucket
from pilotis.core.errors import ConfigError
from pilotis.core.field_docs import field_descriptions
from pilotis.core.loader import load_registry
from pilotis.core.measures import Agg
from pilotis.core.query import Query
from pilotis.core.seances import SeanceSpec, pack
from pilotis.core.settings import ROOT, Settings
from pilotis.core.sources import SourceError
from pilotis.ui.seance_render import canonical, projected, split
from pilotis.web.seance_pages import live_page
from tests.helpers import csrf_headers, find_figures, login_as, texts

UPDATE = "/_dash-update-component"
ROUTER = "..page.children...page-title.children.."
T0 = 1_800_000_000.0  # a multiple of 60: periods start at T0 + k * 60
GOOD_SEANCE = """\
id: essai
title: Séance d'essai
refresh: 1min
items:
  - dashboard: rsa
    title: RSA — Laval Agglomération
    widgets: [foyers, evolution]
    filters: {territory: CA Laval Agglomération, period: latest}
    duration: 2s
  - dashboard: rsa
    widgets: [comparaison]
    duration: 2s
"""


# --------------------------------------------------------------------------- helpers


def copy_config(tmp: Path, seances: dict[str, str], rsa_copy: Path | None = None) -> Path:
    """A copy of config/ with these séance files (and rsa_communes read from ``rsa_copy``)."""
    config = tmp / "config"
    shutil.copytree(ROOT / "config", config, ignore=shutil.ignore_patterns("seances"))
    (config / "seances").mkdir()
    for name, text in seances.items():
        (config / "seances" / f"{name}.yaml").write_text(text, encoding="utf-8")
    if rsa_copy is not None:
        datasets = config / "datasets" / "solidarites.yaml"
        text = datasets.read_text(encoding="utf-8")
        assert "path: data/rsa_communes_mensuel.parquet" in text
        datasets.write_text(
            text.replace("path: data/rsa_communes_mensuel.parquet", f"path: {rsa_copy}"),
            encoding="utf-8",
        )
    return config


def make_app(
    settings: Settings,
    tmp: Path,
    config: Path,
    instance: Path | None = None,
    database: Path | None = None,
) -> Dash:
    from app import create_app
    from tests.conftest import DashClient

    other = replace(
        settings,
        config_dir=config,
        instance_dir=instance or tmp / "instance",
        database_url=f"sqlite:///{database or tmp / 'pilotis.accounts.db'}",
        cache_url="",
    )
    app = create_app(other)
    app.server.test_client_class = DashClient
    return app


def call(client: Any, body: dict[str, Any]) -> Any:
    return client.post(UPDATE, data=json.dumps(body), content_type="application/json", headers=csrf_headers(client))


def routed_text(client: Any, path: str) -> str:
    """The router's answer as text with its characters unescaped (the JSON encoder writes « é »
    as ``\\u00e9``)."""
    return json.dumps(router(client, path).get_json(), ensure_ascii=False)


def router(client: Any, path: str) -> Any:
    return call(
        client,
        {
            "output": ROUTER,
            "outputs": [
                {"id": "page", "property": "children"},
                {"id": "page-title", "property": "children"},
            ],
            "inputs": [{"id": "url", "property": "pathname", "value": path}],
            "changedPropIds": ["url.pathname"],
            "state": [],
        },
    )


def refresh_output(app: Dash, seance: Any) -> str:
    return next(o for o in app.callback_map if o.startswith(".." + seance.dom_id("s0-body")))


def refresh_body(app: Dash, seance: Any, search: str = "", hashes: dict | None = None) -> dict[str, Any]:
    output = refresh_output(app, seance)
    return {
        "output": output,
        "outputs": split_callback_id(output),
        "inputs": [
            {"id": seance.dom_id("tick"), "property": "n_intervals", "value": 1},
            {"id": "url", "property": "search", "value": search},
        ],
        "state": [{"id": seance.dom_id("hashes"), "property": "data", "value": hashes or {}}],
        "changedPropIds": [seance.dom_id("tick") + ".n_intervals"],
    }


def refreshed(client: Any, app: Dash, seance: Any, search: str = "") -> dict[str, Any]:
    response = call(client, refresh_body(app, seance, search))
    assert response.status_code == 200, response.data[:400]
    return response.get_json()["response"]


def freeze_body(seance: Any, search: str = "") -> dict[str, Any]:
    return {
        "output": f"{seance.dom_id('frozen')}.children",
        "outputs": {"id": seance.dom_id("frozen"), "property": "children"},
        "inputs": [{"id": seance.dom_id("freeze"), "property": "n_clicks", "value": 1}],
        "state": [{"id": "url", "property": "search", "value": search}],
        "changedPropIds": [seance.dom_id("freeze") + ".n_clicks"],
    }


def figures_of(response: dict[str, Any], seance: Any) -> dict[int, Any]:
    return {
        slot.index: response[seance.dom_id(f"s{slot.index}-graph")]["figure"]
        for slot in seance.slots
        if seance.dom_id(f"s{slot.index}-graph") in response
        and response[seance.dom_id(f"s{slot.index}-graph")].get("figure")
    }


def page_text(response: Any) -> str:
    """An HTML page as a person reads it (entities decoded)."""
    return html.unescape(response.get_data(as_text=True))


def principal_of_demo(username: str) -> Principal:
    user = next(u for u in DEMO_USERS if u.username == username)
    return Principal(user.username, user.department, frozenset(user.roles), user.territory)


# --------------------------------------------------------------------------- YAML


def test_declared_seance_is_loaded_and_resolved(portal) -> None:  # type: ignore[no-untyped-def]
    seance = portal.registry.seances["commission-rsa"]
    assert seance.url == "/seance/commission-rsa"
    assert seance.dashboards == ("rsa",)
    laval = seance.spec.items[1]
    assert laval.filters.territory == "epci:200083392"  # written as a name in the YAML
    by_item = [[[s.widget for s in slide.slots] for slide in seance.slides if slide.item == i] for i in range(3)]
    assert by_item[1:] == [[["foyers", "taux"], ["carte"]], [["depenses", "comparaison"]]]
    assert by_item[0][0] == ["foyers", "taux", "depenses"]  # the dashboard's first row
    assert all(slot.widget != "communes" for slot in seance.slots)  # tables only when listed
    implicit = portal.registry.seance("@rsa")
    assert implicit is not None and implicit.url == "/seance/d/rsa" and implicit.implicit


def test_rows_of_twelve_columns_become_slides() -> None:
    assert pack([4, 4, 4, 8, 4, 7, 5, 12]) == [[0, 1, 2], [3, 4], [5, 6], [7]]
    assert pack([12]) == [[0]]


def test_every_seance_key_is_documented() -> None:
    from pilotis.core.seances import SeanceFilters, SeanceItem

    for model in (SeanceSpec, SeanceItem, SeanceFilters):
        for name, text in field_descriptions(model).items():
            assert text and len(text) > 10, (model.__name__, name)


BAD = """\
id: mauvaise
title: Séance fautive
items:
  - dashboard: rsaa
  - dashboard: rsa
    widgets: [foyer, carte]
  - dashboard: rsa
    filters: {territory: Laval Agglo, period: 1999}
  - dashboard: rsa
    duree: 30s
"""


def test_errors_are_reported_with_file_line_and_hint(tmp_path: Path) -> None:
    config = copy_config(tmp_path, {"mauvaise": BAD, "double": "id: x--y\ntitle: T\nitems: []\n"})
    with pytest.raises(ConfigError) as raised:
        load_registry(ROOT, config, ROOT / "dashboards", instance_dir=tmp_path / "instance")
    report = raised.value.report()
    path = re.escape(str(config / "seances" / "mauvaise.yaml").removeprefix(str(Path.cwd()) + "/"))
    expected = [
        (rf"{path}:4:\d+: tableau de bord `rsaa` inconnu", "vouliez-vous dire `rsa` ?"),
        (
            rf"{path}:6:\d+: widget `foyer` absent du tableau de bord `rsa`",
            "vouliez-vous dire `foyers` ?",
        ),
        (rf"{path}:8:\d+: territoire `Laval Agglo` inconnu", "CA Laval Agglomération"),
        (rf"{path}:8:\d+: année 1999 absente des données", "années disponibles"),
        (rf"{path}:10:\d+: clé `duree` inconnue", "`duration`"),
    ]
    for pattern, hint in expected:
        match = re.search(pattern + r"[^\n]*\n\s+aide : ([^\n]*)", report)
        assert match, (pattern, report)
        assert hint in match.group(1), (hint, match.group(0))
    assert re.search(r"double\.yaml:1:\d+: .*id", report), report  # `--` is not allowed in an id


def test_a_good_seance_loads(tmp_path: Path) -> None:
    config = copy_config(tmp_path, {"essai": GOOD_SEANCE})
    registry = load_registry(ROOT, config, ROOT / "dashboards", instance_dir=tmp_path / "instance")
    seance = registry.seances["essai"]
    assert seance.refresh == 60
    slides = [[s.widget for s in slide.slots] for slide in seance.slides]
    assert slides == [["foyers", "evolution"], ["comparaison"]]  # 4 + 8 columns: one row
    assert registry.seance_of(seance.dom_id("s0-body")) is seance
    assert registry.seance_of("rsa--foyers") is None
    assert registry.seance_by_path("/seance/essai/instantane/abc") == (seance, "abc")
    assert registry.seance_by_path("/seance/inconnue") is None


# --------------------------------------------------------------------------- projection


def test_graph_is_taken_out_of_the_widget_and_enlarged() -> None:
    tree = {
        "type": "Div",
        "namespace": "dash_html_components",
        "props": {
            "className": "pilotis-widget-data",
            "children": [
                {
                    "type": "Div",
                    "namespace": "dash_html_components",
                    "props": {
                        "className": "pilotis-graph",
                        "children": [
                            {
                                "type": "Graph",
                                "namespace": "dash_core_components",
                                "props": {
                                    "figure": {
                                        "data": [{"type": "bar", "y": [1]}],
                                        "layout": {
                                            "height": 320,
                                            "yaxis": {"title": {"text": "t"}},
                                        },
                                    }
                                },
                            }
                        ],
                    },
                },
                {
                    "type": "P",
                    "namespace": "dash_html_components",
                    "props": {
                        "className": "pilotis-freshness small",
                        "children": "Mis à jour le …",
                    },
                },
            ],
        },
    }
    body, figure = split(tree)
    assert figure is not None and "Mis à jour" not in json.dumps(body) and "Graph" not in json.dumps(body)
    big = projected(figure)
    assert "height" not in big["layout"] and big["layout"]["font"]["size"] >= 28
    assert big["layout"]["yaxis"]["tickfont"]["size"] >= 28
    assert figure["layout"]["height"] == 320  # the original is not modified


# --------------------------------------------------------------------------- routes and access


@pytest.mark.parametrize("username", [u.username for u in DEMO_USERS])
def test_seance_pages_follow_the_dashboards_rights(app, portal, username: str) -> None:  # type: ignore[no-untyped-def]
    """Generated like the access matrix: every demo user × every séance (declared and implicit):
    page, router, refresh callback and callback graph allowed iff every dashboard is."""
    principal = principal_of_demo(username)
    registry = portal.registry
    seances = [registry.seance(k) for k in [*registry.seances, *(f"@{d}" for d in registry.dashboards)]]
    with app.server.test_client() as client:
        login_as(client, username)
        listed = {cb["output"] for cb in client.get("/_dash-dependencies").get_json()}
        for seance in seances:
            assert seance is not None
            allowed = all(can_view(principal, registry.dashboards[d].spec) for d in seance.dashboards)
            page = client.get(seance.url)
            assert page.status_code == (200 if allowed else 403), (username, seance.key)
            routed = routed_text(client, seance.url)
            assert (seance.dom_id("root") in routed) == allowed, (username, seance.key)
            response = call(client, refresh_body(app, seance))
            assert response.status_code == (200 if allowed else 403), (username, seance.key)
            assert (refresh_output(app, seance) in listed) == allowed
            if not allowed:
                assert registry.dashboards[seance.dashboards[0]].spec.title not in routed


def test_anonymous_visitors_are_sent_to_the_login_page(app, portal) -> None:  # type: ignore[no-untyped-def]
    seance = portal.registry.seances["commission-rsa"]
    with app.server.test_client() as client:
        page = client.get(seance.url)
        assert page.status_code == 302 and page.headers["Location"].startswith("/login")
        assert call(client, refresh_body(app, seance)).status_code == 401


def test_bare_shell_and_unknown_seances(app, agent_client) -> None:  # type: ignore[no-untyped-def]
    page = agent_client.get("/seance/commission-rsa")
    assert page.status_code == 200 and '<body class="pilotis-bare">' in page.get_data(as_text=True)
    assert '<body class="pilotis-bare">' not in agent_client.get("/rsa").get_data(as_text=True)
    bare = agent_client.get("/_dash-layout", headers={"Referer": "http://localhost/seance/commission-rsa"})
    full = agent_client.get("/_dash-layout", headers={"Referer": "http://localhost/rsa"})
    assert "pilotis-navbar" not in bare.get_data(as_text=True)
    assert "pilotis-navbar" in full.get_data(as_text=True)
    for path in (
        "/seance/inconnue",
        "/seance/d/inconnu",
        "/seance/commission-rsa/instantane/nope",
        "/seance/commission-rsa/autre/chose",
    ):
        assert agent_client.get(path).status_code == 404, path
    dashboard = agent_client.get("/rsa")
    assert dashboard.status_code == 200
    routed = json.dumps(router(agent_client, "/rsa").get_json(), ensure_ascii=False)
    assert '"/seance/d/rsa"' in routed and "Présenter" in routed


def test_live_refresh_fills_every_slot(app, portal, agent_client) -> None:  # type: ignore[no-untyped-def]
    seance = portal.registry.seances["commission-rsa"]
    response = refreshed(agent_client, app, seance)
    assert "is-fresh" in response[seance.dom_id("status")]["className"]
    assert response[seance.dom_id("status")]["children"].startswith("Actualisé à")
    stamp = response[seance.dom_id("stamp-0")]["children"]
    assert re.match(r"Données au \d\d/\d\d/\d{4} à \d\d:\d\d — Sources : ", stamp), stamp
    laval = next(slide.index for slide in seance.slides if slide.item == 1)
    assert response[seance.dom_id(f"sub-{laval}")]["children"].startswith("CA Laval Agglomération")
    figures = figures_of(response, seance)
    graphs = [
        s.index
        for s in seance.slots
        if portal.registry.dashboards[s.dashboard].widget(s.widget).type in ("line", "bar", "choropleth")
    ]
    assert set(graphs) <= set(figures)
    for figure in figures.values():
        assert figure["layout"]["font"]["size"] >= 28 and "height" not in figure["layout"]
    assert response[seance.dom_id("tick")]["interval"] == seance.refresh * 1000
    # a screen that already shows everything receives no slot again: nothing flickers
    again = call(agent_client, refresh_body(app, seance, hashes=response[seance.dom_id("hashes")]["data"]))
    payload = again.get_json()["response"]
    assert not any(k.endswith(("-body", "-graph", "-figure")) for k in payload), sorted(payload)[:5]
    chosen = refreshed(agent_client, app, seance, "?rafraichissement=30s")
    assert chosen[seance.dom_id("tick")]["interval"] == 30_000


def test_present_button_carries_the_filters(app, portal, agent_client) -> None:  # type: ignore[no-untyped-def]
    seance = portal.registry.seance("@rsa")
    response = refreshed(agent_client, app, seance, "?territoire=epci:200083392&periode=all")
    assert response[seance.dom_id("sub-0")]["children"] == "CA Laval Agglomération · toute la période"
    assert agent_client.get("/seance/d/rsa?territoire=epci:200083392").status_code == 200


def test_a_restricted_agent_never_sees_other_rows(app, portal) -> None:  # type: ignore[no-untyped-def]
    """agent.laval (restricted to Laval Agglomération) asks the département: clamped to its EPCI."""
    seance = portal.registry.seance("@rsa")
    with app.server.test_client() as client:
        login_as(client, "agent.laval")
        response = refreshed(client, app, seance, "?territoire=departement:53")
        assert response[seance.dom_id("sub-0")]["children"].startswith("CA Laval Agglomération")


# --------------------------------------------------------------------------- cheap live refresh


def test_time_bucket_shares_one_query_per_period() -> None:
    """The data service alone: 5 clients asking the same query in the same period → 1 run."""
    from pilotis.core.loader import load_registry as load

    registry = load(ROOT)
    source = registry.datasets["rsa_departements"]
    runs: list[float] = []
    original = source.run
    now = [T0]

    def counted(query: Query) -> Any:
        runs.append(now[0])
        return original(query)

    source.run = counted  # type: ignore[method-assign]
    data = DataService(registry.datasets, TTLCache(clock=lambda: now[0]), clock=lambda: now[0])
    query = Query(dataset="rsa_departements", measures=(("n", Agg("sum", "foyers_allocataires")),))
    for period in range(4):
        for client in range(5):
            now[0] = T0 + period * 60 + 3 + client * 11
            with time_bucket(60):
                data.query(query)
    assert len(runs) == 4 and [int((t - T0) // 60) for t in runs] == [0, 1, 2, 3]


@pytest.fixture(scope="module")
def two_workers(settings, tmp_path_factory) -> tuple[Dash, Dash]:  # type: ignore[no-untyped-def]
    """Two apps on the same instance folder (file cache) and database: two gunicorn workers."""
    tmp = tmp_path_factory.mktemp("workers")
    config = copy_config(tmp, {"essai": GOOD_SEANCE})
    first = make_app(settings, tmp, config)
    second = make_app(settings, tmp, config)
    return first, second


def test_screens_and_workers_share_one_query_per_period(two_workers, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """5 screens on 2 workers showing the same séance, over 4 refresh periods (fake clock):
    only the first screen of each period reaches the data sources; the other 4 screens, on
    either worker, read the shared cache."""
    apps = two_workers
    now = [T0 - 60]
    runs: list[tuple[int, str]] = []  # (period, dataset)
    for app in apps:
        portal = app.server.extensions["pilotis"]
        monkeypatch.setattr(portal.data, "clock", lambda: now[0])
        for dataset, source in portal.registry.datasets.items():

            def counted(query: Query, _run: Any = source.run, _dataset: str = dataset) -> Any:
                runs.append((int((now[0] - T0) // 60), _dataset))
                return _run(query)

            monkeypatch.setattr(source, "run", counted)
    clients = []
    for index in range(5):
        client = apps[index % 2].server.test_client()
        login_as(client, "agent.rsa")
        clients.append((apps[index % 2], client))
    seance = apps[0].server.extensions["pilotis"].registry.seances["essai"]
    refreshed(clients[0][1], clients[0][0], seance)  # warm-up: territory reference, years
    runs.clear()
    per_client: dict[tuple[int, int], int] = Counter()
    for period in range(4):
        for index, (app, client) in enumerate(clients):
            now[0] = T0 + period * 60 + 2 + index * 9
            before = len(runs)
            refreshed(client, app, seance)
            per_client[(period, index)] = len(runs) - before
    for period in range(4):
        assert per_client[(period, 0)] > 0, "each period reads the sources again"
        assert all(per_client[(period, i)] == 0 for i in range(1, 5)), per_client
    by_dataset = Counter(runs)
    first = {d: n for (p, d), n in by_dataset.items() if p == 0}
    for (_period, dataset), count in by_dataset.items():
        assert count == first[dataset], "same number of queries per dataset in every period"


def test_source_down_keeps_the_last_good_figures(two_workers, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    app = two_workers[0]
    portal = app.server.extensions["pilotis"]
    seance = portal.registry.seances["essai"]
    now = [T0 + 3600]
    monkeypatch.setattr(portal.data, "clock", lambda: now[0])
    client = app.server.test_client()
    login_as(client, "agent.rsa")
    good = refreshed(client, app, seance)
    assert "is-fresh" in good[seance.dom_id("status")]["className"]

    def down(query: Query) -> Any:
        raise SourceError("connexion refusée par le serveur de fichiers")

    for dataset in ("rsa_communes", "rsa_departements"):
        monkeypatch.setattr(portal.registry.datasets[dataset], "run", down)
    now[0] += 60  # next period: the séance asks the sources again
    stale = refreshed(client, app, seance)
    status = stale[seance.dom_id("status")]
    assert "is-stale" in status["className"]
    assert re.match(r"Données non actualisées depuis le \d\d/\d\d/\d{4} à \d\d:\d\d", status["children"])
    text = " ".join(texts(stale))
    assert "Données non actualisées depuis le" in text
    assert "Données indisponibles" not in text and "n'a pas pu être affiché" not in text
    assert figures_of(stale, seance) == figures_of(good, seance)  # the same figures, not a blank


# --------------------------------------------------------------------------- snapshots


def test_a_frozen_seance_shows_the_same_figures_after_the_data_changes(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rsa_copy = tmp_path / "rsa_communes.parquet"
    shutil.copy(ROOT / "data" / "rsa_communes_mensuel.parquet", rsa_copy)
    app = make_app(settings, tmp_path, copy_config(tmp_path, {"essai": GOOD_SEANCE}, rsa_copy))
    portal = app.server.extensions["pilotis"]
    seance = portal.registry.seances["essai"]
    client = app.server.test_client()
    login_as(client, "agent.rsa")
    live = refreshed(client, app, seance)
    frozen = call(client, freeze_body(seance))
    assert frozen.status_code == 200, frozen.data[:300]
    link = next(
        n
        for n in json.loads(frozen.data)["response"][seance.dom_id("frozen")]["children"]
        if isinstance(n, dict) and n.get("type") == "A"
    )["props"]["href"]
    assert re.fullmatch(r"/seance/essai/instantane/[A-Za-z0-9_-]{24}", link), link
    snapshot = snapshots.load(app.server.extensions["pilotis_db"], link.rsplit("/", 1)[1])
    assert snapshot is not None and snapshot.intact() and snapshot.author == "agent.rsa"
    elsewhere = link.replace("/seance/essai/", "/seance/d/rsa/")  # another séance's address
    assert client.get(elsewhere).status_code == 404, "a snapshot opens at its own séance's address only"
    stored = [s["figure"] for slide in snapshot.content["slides"] for s in slide["slots"] if s["figure"]]
    assert [json.loads(canonical(f)) for f in stored] == [
        json.loads(canonical(f)) for f in figures_of(live, seance).values()
    ]

    def page_figures(path: str) -> list[bytes]:
        routed = router(client, path)
        assert routed.status_code == 200
        return [canonical(f) for f in find_figures(routed.get_json()["response"]["page"]["children"]) if f.get("data")]

    before = page_figures(link)
    frame = pd.read_parquet(rsa_copy)
    frame["foyers_allocataires"] = frame["foyers_allocataires"] * 3
    frame.to_parquet(rsa_copy)
    portal.data.refresh("rsa_communes")
    portal.data.cache.clear()
    changed = refreshed(client, app, seance, "?rafraichissement=11s")  # another bucket: fresh data
    assert canonical(figures_of(changed, seance)[1]) != canonical(figures_of(live, seance)[1])
    after = page_figures(link)
    assert after == before and len(after) == len(stored)  # byte for byte the same figure JSON
    redirected = client.get(f"/seance/essai?snapshot={link.rsplit('/', 1)[1]}")
    assert redirected.status_code == 302 and redirected.headers["Location"].endswith(link)
    text = routed_text(client, link)
    assert "Instantané du" in text and snapshots.short(snapshot.sha256) in text
    # access: like the live view
    with app.server.test_client() as other:
        login_as(other, "agent.rh")
        assert other.get(link).status_code == 403
        assert "Instantané du" not in routed_text(other, link)


# --------------------------------------------------------------------------- display links


@pytest.fixture
def screen(app):  # type: ignore[no-untyped-def]
    """A browser session opened with a valid display link to commission-rsa (no sign-in)."""
    db = app.server.extensions["pilotis_db"]
    link, token = display_links.create(db, app.server.secret_key, "commission-rsa", 30, label="hall")
    client = app.server.test_client()
    first = client.get(f"/seance/commission-rsa?jeton={token}")
    assert first.status_code == 302 and first.headers["Location"] == "/seance/commission-rsa"
    return client, link, token


def test_display_link_opens_its_seance_only(app, portal, screen) -> None:  # type: ignore[no-untyped-def]
    client, _link, _token = screen
    seance = portal.registry.seances["commission-rsa"]
    assert client.get("/seance/commission-rsa").status_code == 200
    routed = routed_text(client, seance.url)
    assert seance.dom_id("root") in routed and seance.dom_id("freeze") not in routed
    assert "is-fresh" in refreshed(client, app, seance)[seance.dom_id("status")]["className"]
    # every other page, and every other callback, is refused
    for path in ("/", "/rsa", "/finances", "/seance/d/rsa", "/admin/audit", "/admin/sources"):
        response = client.get(path)
        assert response.status_code == 403, (path, response.status_code)
    assert client.get("/api/inconnue").status_code in (403, 404)
    for path in ("/", "/rsa", "/seance/d/rsa"):
        assert seance.dom_id("root") not in routed_text(client, path)
        assert "Accès refusé" in routed_text(client, path)
    listed = {cb["output"] for cb in client.get("/_dash-dependencies").get_json()}
    for output, spec in app.callback_map.items():
        parts = split_callback_id(output)
        ids = [p["id"] for p in (parts if isinstance(parts, list) else [parts])]
        ours = all(i in ("page", "page-title") or str(i).startswith(seance.dom_id("")) for i in ids)
        assert (output in listed) == ours, output
        if not ours and "callback" in spec:
            body = {
                "output": output,
                "outputs": parts,
                "state": [],
                "inputs": [{"id": i["id"], "property": i["property"], "value": None} for i in spec["inputs"]],
            }
            assert call(client, body).status_code == 403, output
    frozen = call(client, freeze_body(seance))
    assert "ne peut pas figer" in frozen.get_data(as_text=True)


def test_revoked_expired_tampered_or_misused_links_are_refused(app, screen) -> None:  # type: ignore[no-untyped-def]
    client, link, token = screen
    db = app.server.extensions["pilotis_db"]
    secret = app.server.secret_key
    seance = app.server.extensions["pilotis"].registry.seances["commission-rsa"]
    with app.server.test_client() as fresh:
        tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
        page = fresh.get(f"/seance/commission-rsa?jeton={tampered}")
        assert page.status_code == 403 and "n'est pas valide" in page_text(page)
        wrong = fresh.get(f"/seance/d/rsa?jeton={token}")
        assert wrong.status_code == 403 and "qu'à la séance" in page_text(wrong)
    with pytest.raises(display_links.LinkRefused) as expired:
        display_links.verify(db, secret, token, now=link.expires_at.timestamp() + 10 * 86400)
    assert expired.value.reason == "expired"
    old, old_token = display_links.create(db, secret, "commission-rsa", 1)
    from sqlalchemy import update

    from pilotis.accounts.models import DisplayLink

    with db.session() as session:
        session.execute(
            update(DisplayLink)
            .where(DisplayLink.id == old.id)
            .values(expires_at=old.expires_at.replace(year=old.expires_at.year - 1))
        )
    with app.server.test_client() as fresh:
        page = fresh.get(f"/seance/commission-rsa?jeton={old_token}")
        assert page.status_code == 403 and "expiré" in page_text(page)
    assert display_links.revoke(db, link.id, "admin")
    assert call(client, refresh_body(app, seance)).status_code == 401  # the screen stops at once
    page = client.get("/seance/commission-rsa")
    assert page.status_code in (302, 403)
    with app.server.test_client() as fresh:
        page = fresh.get(f"/seance/commission-rsa?jeton={token}")
        assert page.status_code == 403 and "révoqué" in page_text(page)


def test_every_display_link_id_can_be_revoked_from_the_command_line(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An id starting with `-` was read by argparse as an option (`revoke` then failed, about 1 link in 64)."""
    from pilotis.accounts import display_links
    from pilotis.accounts.db import Database
    from pilotis.cli.main import build_parser

    db = Database(f"sqlite:///{tmp_path / 'ids.db'}")
    db.upgrade()
    parser = build_parser()  # once: building it 300 times cost 1 s (10 s on a busy machine)
    try:
        for _ in range(300):
            link, _token = display_links.create(db, settings.secret_key, "commission-rsa", 1)
            assert parser.parse_args(["display-link", "revoke", link.id]).id == link.id
    finally:
        db.dispose()


def test_display_link_command_line(settings, tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from pilotis.cli.main import main

    database = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("PILOTIS_DATABASE_URL", database)
    monkeypatch.setenv("PILOTIS_INSTANCE_DIR", str(tmp_path / "instance"))
    assert (
        main(
            [
                "display-link",
                "create",
                "commission-rsa",
                "--days",
                "2",
                "--label",
                "hall",
                "--base-url",
                "https://pilotis.example",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    url = next(line for line in out.splitlines() if line.startswith("https://"))
    assert urlsplit(url).path == "/seance/commission-rsa"
    token = parse_qs(urlsplit(url).query)["jeton"][0]
    assert main(["display-link", "list"]) == 0
    link_id = re.search(r"Lien d'affichage (\S+) pour", out).group(1)  # type: ignore[union-attr]
    assert link_id in capsys.readouterr().out
    assert main(["display-link", "create", "commision-rsa"]) == 1
    assert "vouliez-vous dire `commission-rsa`" in capsys.readouterr().err
    assert main(["display-link", "revoke", link_id]) == 0
    assert main(["display-link", "revoke", link_id]) == 1
    from pilotis.accounts.db import Database

    with Database(database) as db:
        with pytest.raises(display_links.LinkRefused) as refused:
            display_links.verify(db, Settings.from_env().secret_key, token)
        assert refused.value.reason == "revoked"


def test_can_view_seance_decision() -> None:
    from pilotis.core.schema import DashboardSpec

    spec = DashboardSpec(id="rsa", title="RSA", access={"departments": ["solidarites"]}, widgets=[{}])
    other = DashboardSpec(id="rh", title="RH", access={"departments": ["rh"]}, widgets=[{}])
    agent = Principal("a", "solidarites", frozenset({"agent"}))
    screen = Principal("affichage:x", roles=frozenset({"display"}), seance="commission-rsa")
    assert can_view_seance(agent, "s", [spec]) and not can_view_seance(agent, "s", [spec, other])
    assert not can_view_seance(agent, "s", []) and not can_view_seance(agent, "s", [None])
    assert can_view_seance(screen, "commission-rsa", [other]) and not can_view_seance(screen, "s", [spec])
    assert not can_view(screen, DashboardSpec(id="p", title="P", access="public-internal", widgets=[{}]))
    assert not can_view_seance(None, "s", [spec])


def test_seance_charts_use_the_page_language(portal) -> None:  # type: ignore[no-untyped-def]
    """An English séance draws its date axes in English (plotly's locale), a French one in French."""
    seance = portal.registry.seances["commission-rsa"]
    president = Principal("president", None, frozenset({"president"}))
    for lang in ("fr", "en"):
        page = live_page(portal, seance, lang, president).to_plotly_json()
        locales = {c["props"]["config"]["locale"] for c in _graphs(page)}
        assert locales == {lang}, (lang, locales)


def _graphs(tree: Any) -> list[dict[str, Any]]:
    """Every dcc.Graph of a layout as JSON."""
    if hasattr(tree, "to_plotly_json"):
        tree = tree.to_plotly_json()
    if isinstance(tree, list):
        return [g for item in tree for g in _graphs(item)]
    if not isinstance(tree, dict) or "props" not in tree:
        return []
    own = [tree] if tree.get("type") == "Graph" else []
    return own + [g for value in tree["props"].values() for g in _graphs(value)]
