"""The search (/recherche, the header's search box): dashboards, indicators, datasets, fields
and referents, found without caring for accents or case, ranked, and never anything the user
may not open."""

from __future__ import annotations

import re

import pytest

from pilotis.accounts.users import DEMO_USERS
from pilotis.core.search import Entry, SearchIndex
from tests.helpers import login_as

QUERIES = ("foyers", "depenses", "effectif", "fibre", "commune", "observatoire", "date", "agent", "population")


def _hits(client, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    response = client.get("/recherche", query_string={"q": query})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    results = page.split('class="list-unstyled pilotis-search-results"', 1)
    return re.findall(r'<a href="([^"]+)"', results[1].split("</ol>", 1)[0]) if len(results) > 1 else []


def test_anonymous_visitors_are_sent_to_the_login_page(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/recherche?q=rsa")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("username", [u.username for u in DEMO_USERS])
def test_a_user_is_never_shown_what_they_may_not_open(app, username: str) -> None:  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    login_as(client, username)
    for query in QUERIES:
        for href in _hits(client, query):
            page = href.split("#", 1)[0]
            assert client.get(page).status_code == 200, f"{username} « {query} » → {href}, refused"


def test_agents_of_one_theme_do_not_find_another_themes_content(app) -> None:  # type: ignore[no-untyped-def]
    rsa, rh = app.server.test_client(), app.server.test_client()
    login_as(rsa, "agent.rsa")
    login_as(rh, "agent.rh")
    assert "/donnees/rsa_communes" in _hits(rsa, "foyers")
    assert not any("rsa" in h for h in _hits(rh, "foyers allocataires"))
    assert not any(h.startswith(("/rh", "/donnees/rh", "/indicateurs/rh")) for h in _hits(rsa, "effectif"))


def test_accents_and_case_do_not_matter(agent_client) -> None:  # type: ignore[no-untyped-def]
    plain = _hits(agent_client, "depenses aide sociale")
    assert "/donnees/aide_sociale" in plain
    assert _hits(agent_client, "DÉPENSES Aide SOCIALE") == plain
    assert _hits(agent_client, "dépenses aide sociale") == plain


def test_ranking_prefers_titles_whole_words_then_prefixes() -> None:
    def entry(ident: str, title: str, text: str = "") -> Entry:
        return Entry("dataset", ident, title, text, f"/donnees/{ident}", ("dataset", ident))

    index = SearchIndex(
        [
            entry("texte", "Autre chose", "on y parle de foyers"),
            entry("prefixe", "Foyersmonoparentaux suivis"),
            entry("titre", "Foyers allocataires"),
            entry("cache", "Foyers secrets"),
        ]
    )
    hits = index.search("foyers", lambda e: e.ident != "cache")
    assert [h.entry.ident for h in hits] == ["titre", "prefixe", "texte"]
    assert [h.entry.ident for h in index.search("foy", lambda e: True)][-1] == "texte"
    assert index.search("foyers inexistant", lambda e: True) == []


def test_a_field_is_found_by_its_label_and_leads_to_its_dataset(agent_client) -> None:  # type: ignore[no-untyped-def]
    assert "/donnees/rsa_communes#champ-code_insee" in _hits(agent_client, "code insee")


def test_the_header_has_an_accessible_search_form(agent_client) -> None:  # type: ignore[no-untyped-def]
    page = agent_client.get("/referents").get_data(as_text=True)
    form = page.split('role="search"', 1)[1].split("</form>", 1)[0]
    assert 'for="pilotis-search-q"' in form and 'id="pilotis-search-q"' in form and 'name="q"' in form
