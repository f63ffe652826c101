"""The « Référent » line of a dashboard, an indicator card or a catalogue entry: the contact of
its role in the referents directory (:mod:`pilotis.core.referents`), linked to ``/referents``.
A holder whose account left is never shown: « référent à désigner » (and the deputy, if any)."""

from __future__ import annotations

from typing import Any

from dash import html

from pilotis.core.i18n import t
from pilotis.core.referents import Directory, Person, anchor

PAGE = "/referents"


def _person(person: Person) -> list[Any]:
    parts: list[Any] = [person.name]
    if person.email:
        parts += [" — ", html.A(person.email, href=f"mailto:{person.email}")]
    if person.phone:
        parts.append(f" — {person.phone}")
    return parts


def referent_parts(directory: Directory, departed: set[str], kind: str, ident: str, lang: str) -> list[Any] | None:
    """The contact of the role of ``kind``/``ident`` as Dash children (None: no role declared)."""
    role = directory.role(kind, ident)
    if role is None:
        return None
    contact = directory.contact(role, departed)
    parts: list[Any] = (
        _person(contact.holder) if contact.holder else [html.Em(t("referent_vacant", lang), className="pilotis-vacant")]
    )
    if contact.deputy:
        parts += [html.Br(), t("deputy", lang), " : " if lang == "fr" else ": ", *_person(contact.deputy)]
    parts += [" ", html.A(t("referents_see", lang), href=f"{PAGE}#{anchor(kind, ident)}", className="small")]
    return parts


def referent_line(directory: Directory, departed: set[str], kind: str, ident: str, lang: str) -> html.P | None:
    """« Référent : … » as a paragraph (None: no role declared for this subject)."""
    parts = referent_parts(directory, departed, kind, ident, lang)
    if parts is None:
        return None
    colon = " : " if lang == "fr" else ": "
    return html.P([html.Strong(t("referent", lang)), colon, *parts], className="small pilotis-referent mb-2")
