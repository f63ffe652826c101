"""Static blocks (pilotis/ui/static_html.py): what no callback touches is sent as one component
whose HTML is built and escaped on the server, and the first paint draws the same markup."""

from __future__ import annotations

from typing import Any

import pytest
from dash import dcc, html

from pilotis.ui.static_html import DATA_HTML, STATIC_CLASS, Tag, markup, static
from pilotis.web import first_paint


def test_a_subtree_becomes_one_component_with_its_markup_escaped() -> None:
    block = static(
        [
            html.H2("Dépenses <2020>", id="titre", lang="fr", className="h6"),
            html.A(["« CSV » ", html.Span('— "x" & y', className="visually-hidden")], href="/e?a=1&b=2"),
            html.Button("Trier", type="button", n_clicks=0, **{"aria-describedby": "titre", "data-action": "sort"}),
        ],
        "pilotis-widget-foot",
        id="bloc",
    )
    sent = block.to_plotly_json()
    assert sent["type"] == "Div" and sent["props"].get("children") is None  # one component, no children
    assert sent["props"]["className"] == f"{STATIC_CLASS} pilotis-widget-foot" and sent["props"]["id"] == "bloc"
    assert sent["props"][DATA_HTML] == (
        '<h2 class="h6" id="titre" lang="fr">Dépenses &lt;2020&gt;</h2>'
        '<a href="/e?a=1&amp;b=2">« CSV » <span class="visually-hidden">— &quot;x&quot; &amp; y</span></a>'
        '<button aria-describedby="titre" data-action="sort" type="button">Trier</button>'
    )


def test_what_would_not_be_drawn_as_written_is_refused() -> None:
    with pytest.raises(ValueError, match="dash.html"):
        markup(html.Div(dcc.Graph(id="g")))  # needs React
    with pytest.raises(ValueError, match="CSP"):
        markup(html.P("x", style={"color": "red"}))  # a style attribute is blocked by the CSP


def test_an_address_that_could_run_code_is_left_out() -> None:
    """React refuses `javascript:` in an href; written through innerHTML, the check is ours (an
    address may come from a YAML file: a dataset's source link)."""
    text = markup(
        [
            html.A("a", href="javascript:alert(1)"),
            html.A("b", href=" Java\tScript:alert(1)"),
            html.A("c", href="data:text/html,<script>alert(1)</script>"),
            html.A("d", href="https://www.data.gouv.fr/x"),
            html.A("e", href="/exports/rsa/foyers.csv?territoire=departement:53"),
            html.A("f", href="mailto:sig@lamayenne.fr"),
        ]
    )
    assert "javascript" not in text.lower() and "data:" not in text
    assert text.count("href=") == 3 and 'href="https://www.data.gouv.fr/x"' in text


def test_the_first_paint_draws_the_block_inline_without_ids() -> None:
    tree = html.Section(
        static([html.H2("Titre", id="t"), html.Label("Nom", htmlFor="nom")]), **{"aria-labelledby": "t"}
    )
    out = first_paint.render(tree)
    assert out == f'<section><div class="{STATIC_CLASS}"><h2>Titre</h2><label>Nom</label></div></section>'


def test_a_tag_is_written_as_the_dash_component_of_the_same_props() -> None:
    """Tables built on every filter change use :class:`Tag` (no Dash constructor): the same
    markup as ``dash.html``, escaping, address and id rules included."""
    props: dict[str, Any] = {
        "className": "c <x>",
        "id": "i",
        "lang": None,
        "tabIndex": "0",
        "hidden": "hidden",
        "href": "javascript:alert(1)",
        "aria-labelledby": "t",
        "data-rows": '[["a & b","<c>"]]',
        "n_clicks": 0,
    }
    children = ["« x » & <y>", html.Span('"z"', className="visually-hidden"), None, 3]
    tags = Tag("a", [*children[:1], Tag("span", '"z"', className="visually-hidden"), *children[2:]], **props)
    assert markup(tags) == markup(html.A(children, **props))
    assert markup(Tag("div", Tag("p"))) == markup(html.Div(html.P())) == "<div><p></p></div>"
    with pytest.raises(ValueError, match="CSP"):
        markup(Tag("p", "x", style={"color": "red"}))
