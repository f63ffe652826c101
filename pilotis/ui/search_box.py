"""The search box of the header: a plain GET form to ``/recherche`` (the results page is drawn by
the server, so it works without JavaScript), with a label, ``role="search"`` and the keyboard of a
native form (Enter submits)."""

from __future__ import annotations

from dash import dcc, html

from pilotis.core.i18n import t

PATH = "/recherche"
INPUT_ID = "pilotis-search-q"


def search_box(lang: str) -> html.Form:
    """The header's search form."""
    return html.Form(
        [
            html.Label(t("search_label", lang), htmlFor=INPUT_ID, className="visually-hidden"),
            dcc.Input(
                id=INPUT_ID,
                name="q",
                type="search",
                maxLength=200,
                placeholder=t("search_placeholder", lang),
                className="form-control form-control-sm",
                autoComplete="off",
            ),
            html.Button(t("search_button", lang), type="submit", className="btn btn-sm btn-light"),
        ],
        action=PATH,
        method="get",
        role="search",
        className="d-flex gap-1 pilotis-search",
    )
