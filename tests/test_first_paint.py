"""The page's HTML first paint (pilotis/web/first_paint.py): what it shows, to whom, and how
the index page loads its scripts. Through the real app and its login form (Flask test client)."""

from __future__ import annotations

import re

from dash import dcc, html

from pilotis.web import first_paint

COPY = re.compile(r'<div class="pilotis-first-paint" inert>(.*?)<div id="react-entry-point">', re.S)


def _copy(page: str) -> str | None:
    found = COPY.search(page)
    return found.group(1) if found else None


def test_a_dashboard_arrives_painted_in_html(president_client) -> None:  # type: ignore[no-untyped-def]
    page = president_client.get("/rsa").get_data(as_text=True)
    copy = _copy(page)
    assert copy is not None and '<body class="pilotis-ssr">' in page
    assert "Observatoire du RSA</h1>" in copy and "Foyers allocataires</h2>" in copy
    assert "Les effectifs départementaux sont ceux publiés par la" in copy  # a static text widget
    assert 'aria-current="page"' in copy and "pilotis-widget-body" in copy
    assert " id=" not in copy and " for=" not in copy and "aria-labelledby" not in copy  # ids stay unique
    assert "csrf_token" in copy and 'name="csrf_token" value=' not in copy  # the live form has the token


def test_no_copy_of_a_dashboard_the_user_may_not_see(login_as, app) -> None:  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    login_as(client, "agent.rh")
    page = client.get("/rsa").get_data(as_text=True)
    assert _copy(page) is None and "Observatoire du RSA" not in page
    home = _copy(client.get("/").get_data(as_text=True))
    assert home is not None and "Observatoire du RSA" not in home  # the menu lists what they may see


def test_a_territory_restricted_agent_sees_only_their_territory(login_as, app) -> None:  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    login_as(client, "agent.laval")
    copy = _copy(client.get("/rsa").get_data(as_text=True))
    assert copy is not None
    chosen = re.findall(r"<option selected>([^<]*)</option>", copy)
    assert chosen[0] == "CA Laval Agglomération"  # the territory filter, first on the page


def test_seance_screens_and_signed_out_pages_have_no_copy(agent_client, client) -> None:  # type: ignore[no-untyped-def]
    assert _copy(agent_client.get("/seance/commission-rsa").get_data(as_text=True)) is None
    assert _copy(client.get("/login").get_data(as_text=True)) is None


def test_scripts_wait_for_the_first_frame_plotly_is_not_linked_and_unused_bundles_are_gone(president_client) -> None:  # type: ignore[no-untyped-def]
    page = president_client.get("/rsa").get_data(as_text=True)
    # No script tag the parser would fetch or run before the first paint: the loader appends
    # each of Dash's scripts, in order, once the page's HTML is painted.
    assert not re.findall(r"<script[^>]* src=", page) and "preload" not in page
    urls = re.findall(r'<template data-pilotis-src="([^"]+)"></template>', page)
    assert len(urls) >= 10
    assert "dash_renderer" in urls[-4] and urls[-1].startswith("/_dash-component-suites/dash/html/")
    assert not [u for u in urls if "plotly-pilotis" in u or "polyfill@" in u or "dash_table/bundle" in u]
    meta = re.search(r'<meta name="pilotis-plotly" content="([^"]+)">', page)
    assert meta
    with president_client.get(meta.group(1)) as bundle:
        assert bundle.status_code == 200 and b"var Plotly=" in bundle.get_data()[:400]
    assert "new DashRenderer()" in page and "first-contentful-paint" in page


def test_render_writes_dash_markup_without_ids() -> None:
    tree = html.Div(
        [
            html.Label("Nom", htmlFor="nom", className="form-label"),
            dcc.Input(id="nom", type="search", placeholder="…", value="secret"),
            html.Div(hidden=True, id="x", style={"display": "none"}, **{"aria-label": "a < b"}),
            dcc.Location(id="url"),
            "1 < 2",
        ],
        id="page",
        className="c",
    )
    out = first_paint.render(tree)
    assert out.startswith('<div class="c">') and "id=" not in out and "secret" not in out
    assert 'aria-label="a &lt; b"' in out and "1 &lt; 2" in out and " hidden" in out
    assert '<input class="dash-input-element" placeholder="…" type="search">' in out
