"""English mode: every French label that older modules write as constants has an English
translation (a new audit event or source error kind without one would show French in English)."""

from __future__ import annotations

import pytest

from pilotis.accounts.audit import EVENTS
from pilotis.core.formatting import french_sort_key
from pilotis.core.i18n import TEXTS, translate
from pilotis.core.sources import ERROR_KINDS
from pilotis.web.auth import LOGGED_OUT, LOGIN_FAILED, LOGIN_REQUIRED
from pilotis.web.csrf import EXPIRED
from pilotis.web.responses import DENIED_TEXT

CONSTANTS = [*EVENTS.values(), *ERROR_KINDS.values(), LOGGED_OUT, LOGIN_FAILED, LOGIN_REQUIRED, EXPIRED, DENIED_TEXT]


@pytest.mark.parametrize("french", CONSTANTS)
def test_french_constants_have_an_english_text(french: str) -> None:
    english = translate(french, "en")
    assert english != french, f"no English text for « {french} » in pilotis/i18n.py"
    assert translate(french, "fr") == french


def test_every_text_has_both_languages_and_the_same_placeholders() -> None:
    for key, entry in TEXTS.items():
        assert set(entry) == {"fr", "en"}, key
        fr_fields = sorted(part.split("}")[0] for part in entry["fr"].split("{")[1:])
        en_fields = sorted(part.split("}")[0] for part in entry["en"].split("{")[1:])
        assert fr_fields == en_fields, key


def test_french_sort_key_ignores_accents_and_case_first() -> None:
    names = ["Moulay", "Mée", "évron", "Évron", "Ernée", "Œuvre", "Oisseau", "laval", "Laval"]
    assert sorted(names, key=french_sort_key) == [
        "Ernée",
        "Évron",
        "évron",
        "Laval",
        "laval",
        "Mée",
        "Moulay",
        "Œuvre",  # œ is read « oe »
        "Oisseau",
    ]
