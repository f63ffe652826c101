"""French (and English) number and date formatting for KPI cards and tables."""

from __future__ import annotations

import datetime as dt
import math
import unicodedata

NNBSP = "\u202f"
"""Narrow no-break space: the French thousands separator (« 1 234,5 »)."""

MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_number(value: float | int | None, decimals: int = 0, lang: str = "fr") -> str:
    """``1234.5`` → ``"1 234,5"`` in French, ``"1,234.5"`` in English; ``None`` → ``"–"``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if value < 0 and round(-value, decimals) == 0:
        value = 0  # no « −0 » for a small negative value
    text = f"{value:,.{decimals}f}"
    if lang == "fr":
        text = text.replace(",", NNBSP).replace(".", ",")
    return text.replace("-", "−")


def format_value(
    value: float | int | None, fmt: str = "number", decimals: int = 0, unit: str = "", lang: str = "fr"
) -> str:
    """A value as a user reads it: number, percent (of a 0–1 fraction) or euros."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if fmt == "percent":
        return f"{format_number(value * 100, decimals, lang)}{NNBSP if lang == 'fr' else ''}%"
    if fmt == "euro":
        if abs(value) >= 1_000_000:
            short = "M€" if lang == "fr" else "M€"
            return f"{format_number(value / 1_000_000, max(decimals, 1), lang)}{NNBSP}{short}"
        return f"{format_number(value, decimals, lang)}{NNBSP}€"
    text = format_number(value, decimals, lang)
    return f"{text}{NNBSP}{unit}" if unit else text


def format_date(value: dt.date | dt.datetime | None, lang: str = "fr") -> str:
    """``29/11/2026`` in French, ``2026-11-29`` in English."""
    if value is None:
        return "–"
    return value.strftime("%d/%m/%Y") if lang == "fr" else value.strftime("%Y-%m-%d")


def format_period(value: dt.date, grain: str, lang: str = "fr") -> str:
    """A period label: ``octobre 2020``, ``T3 2017``, ``2019`` or a full date."""
    if grain == "year":
        return str(value.year)
    if grain == "quarter":
        quarter = (value.month - 1) // 3 + 1
        return f"T{quarter} {value.year}" if lang == "fr" else f"Q{quarter} {value.year}"
    if grain == "month":
        months = MONTHS_FR if lang == "fr" else MONTHS_EN
        return f"{months[value.month - 1]} {value.year}"
    return format_date(value, lang)


def french_fold(text: object) -> str:
    """``text`` without accents nor case (« Évron » → « evron », « Œuvre » → « oeuvre »)."""
    value = "" if text is None else str(text)
    base = "".join(c for c in unicodedata.normalize("NFD", value) if not unicodedata.combining(c))
    return base.casefold().replace("œ", "oe").replace("æ", "ae")


def french_sort_key(text: object) -> tuple[str, str]:
    """A key that sorts names as a French reader expects: accents and case ignored at first
    (« Mée » before « Moulay », « Évron » among the E), ties broken by the exact text.

    No ICU on these machines: :func:`french_fold` strips the combining marks (NFD) and folds
    the case; the original text breaks ties, so that the order is total and stable.
    """
    value = "" if text is None else str(text)
    return french_fold(value), value
