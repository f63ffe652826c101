"""What a request says about itself beyond the signed-in user: the interface language.

Below :mod:`pilotis.web.wiring` and :mod:`pilotis.web.seance_view`, which both read it (the
signed-in principal is :func:`pilotis.web.enforce.current_principal`).
"""

from __future__ import annotations

import flask

from pilotis.core.i18n import LANGUAGES


def current_lang(default: str = "fr") -> str:
    """The interface language of this request (cookie ``pilotis_lang``)."""
    try:
        value = flask.request.cookies.get("pilotis_lang", default)
    except RuntimeError:
        return default
    return value if value in LANGUAGES else default
