"""Query-string parameters of the API, checked one by one: a bad value is a 400 naming it."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import flask

from pilotis.core.query import PERIOD, Filter
from pilotis.core.territory import Territory
from pilotis.ui.portal import Portal
from pilotis.web.api.errors import invalid

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 1_000
MAX_OFFSET = 1_000_000
MAX_MEASURES = 10
MAX_GROUPS = 5
MAX_FILTERS = 20
ALIAS = re.compile(r"[a-z_][a-z0-9_]{0,39}")
OPS = {"eq": "=", "in": "in", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
"""Filter operators of ``filter=colonne:op:valeur`` and the query's own."""
GRAINS = ("day", "month", "quarter", "year")
FORMATS = ("json", "csv")


def args() -> Any:
    """The request's query string."""
    return flask.request.args


def one(name: str, limit: int = 200) -> str | None:
    """A single-valued parameter (None when absent); too long or repeated: 400."""
    values = args().getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise invalid(name, f"le paramètre `{name}` ne peut être donné qu'une fois")
    if len(values[0]) > limit:
        raise invalid(name, f"le paramètre `{name}` dépasse {limit} caractères")
    return str(values[0])


def integer(name: str, default: int | None, low: int, high: int) -> int | None:
    """An integer between ``low`` and ``high``."""
    text = one(name, 12)
    if text is None or text == "":
        return default
    if not re.fullmatch(r"-?[0-9]{1,10}", text) or not low <= int(text) <= high:
        raise invalid(name, f"`{name}` doit être un entier entre {low} et {high}")
    return int(text)


def output_format() -> str:
    """``json`` (default) or ``csv``."""
    value = one("format", 10) or "json"
    if value not in FORMATS:
        raise invalid("format", "`format` vaut `json` ou `csv`")
    return value


def year() -> int | None:
    """The year asked (``year=2024``), None: every period (datasets) or the latest (indicators)."""
    return integer("year", None, 1900, 2100)


def territory(portal: Portal) -> Territory | None:
    """``territory=epci:200083392`` (a known département, EPCI or commune), None when absent."""
    text = one("territory", 40)
    if text is None or text == "":
        return None
    level, sep, code = text.partition(":")
    found = Territory(level, code) if sep and level in ("departement", "epci", "commune") and code else None
    if found is None or not portal.territories.is_known(found):
        raise invalid("territory", "territoire inconnu : écrivez `departement:CODE`, `epci:SIREN` ou `commune:INSEE`")
    return found


def page() -> tuple[int, int]:
    """``(limit, offset)``."""
    limit = integer("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = integer("offset", 0, 0, MAX_OFFSET)
    return limit or DEFAULT_LIMIT, offset or 0


def measures(named: dict[str, str]) -> dict[str, str]:
    """``measure=taux_subvention`` (a named measure) or ``measure=total=sum(montant)`` (alias and
    expression), repeated; default: the number of rows, ``lignes=count(*)``."""
    given = args().getlist("measure")
    if len(given) > MAX_MEASURES:
        raise invalid("measure", f"au plus {MAX_MEASURES} mesures")
    found: dict[str, str] = {}
    for index, text in enumerate(given, start=1):
        if len(text) > 500:
            raise invalid("measure", "une mesure dépasse 500 caractères")
        alias, sep, expression = text.partition("=")
        if not sep:
            alias, expression = (text, text) if text in named else (f"mesure_{index}", text)
        alias = alias.strip()
        if not ALIAS.fullmatch(alias):
            raise invalid("measure", f"nom de mesure `{alias[:40]}` : lettres minuscules, chiffres et `_`")
        if alias in found:
            raise invalid("measure", f"la mesure `{alias}` est demandée deux fois")
        found[alias] = expression.strip()
    return found or {"lignes": "count(*)"}


def group_by(columns: set[str], has_period: bool) -> tuple[str, ...]:
    """``group_by=section,periode``: known columns, or ``periode`` on a dataset with a period."""
    text = one("group_by", 400)
    names = tuple(name.strip() for name in (text or "").split(",") if name.strip())
    if len(names) > MAX_GROUPS or len(set(names)) != len(names):
        raise invalid("group_by", f"au plus {MAX_GROUPS} colonnes, chacune une fois")
    for name in names:
        if name == PERIOD and has_period:
            continue
        if name not in columns:
            raise invalid("group_by", f"colonne `{name[:60]}` inconnue de ce jeu de données")
    return names


def grain() -> str | None:
    """``grain`` of ``periode`` in ``group_by`` (default: the dataset's own)."""
    value = one("grain", 10)
    if value in (None, ""):
        return None
    if value not in GRAINS:
        raise invalid("grain", "`grain` vaut `day`, `month`, `quarter` ou `year`")
    return value


INT64 = 2**63
NUMBER_WORDS = ("DOUBLE", "FLOAT", "DECIMAL", "REAL", "NUMBER", "NUMERIC")


def numeric(kind: str) -> bool:
    """A column type that ``sum`` and ``avg`` accept (DuckDB's names or the declared ones)."""
    upper = kind.upper()
    return "INT" in upper or any(word in upper for word in NUMBER_WORDS)


def typed(value: str, kind: str, column: str) -> str | int | float | bool | dt.date:
    """``value`` as the column's type (``kind``: the source's type name, DuckDB's or declared).

    Checked here, never by the source: a value the database refuses would count as a failure
    of the source (served stale to everyone for its ``retry`` delay)."""
    upper = kind.upper()
    try:
        if "INT" in upper:
            number = int(value)
            if not -INT64 <= number < INT64:
                raise ValueError(value)
            return number
        if any(word in upper for word in NUMBER_WORDS):
            real = float(value)
            if not math.isfinite(real):
                raise ValueError(value)
            return real
        if "DATE" in upper or "TIMESTAMP" in upper:
            return dt.date.fromisoformat(value)
        if "BOOL" in upper:
            if value not in ("true", "false"):
                raise ValueError(value)
            return value == "true"
    except ValueError:
        raise invalid("filter", f"valeur `{value[:40]}` invalide pour la colonne `{column}` ({kind})") from None
    return value


def filters(columns: dict[str, str]) -> tuple[Filter, ...]:
    """``filter=colonne:op:valeur`` (op: eq, in, gt, gte, lt, lte; ``in``: values separated by ``|``)."""
    given = args().getlist("filter")
    if len(given) > MAX_FILTERS:
        raise invalid("filter", f"au plus {MAX_FILTERS} filtres")
    found: list[Filter] = []
    for text in given:
        column, _, rest = text.partition(":")
        op, sep, value = rest.partition(":")
        if not sep or op not in OPS:
            raise invalid("filter", "écrivez `filter=colonne:op:valeur`, op parmi eq, in, gt, gte, lt, lte")
        if column not in columns:
            raise invalid("filter", f"colonne `{column[:60]}` inconnue de ce jeu de données")
        if len(value) > 1000:
            raise invalid("filter", "une valeur de filtre dépasse 1000 caractères")
        if op == "in":
            parts = value.split("|")
            if len(parts) > 200:
                raise invalid("filter", "au plus 200 valeurs pour `in`")
            found.append(Filter(column, "in", tuple(typed(v, columns[column], column) for v in parts)))
        else:
            found.append(Filter(column, OPS[op], typed(value, columns[column], column)))
    return tuple(found)


def dates(column: str | None) -> tuple[Filter, ...]:
    """``from`` / ``to`` (ISO dates, both included) on the dataset's period column."""
    result: list[Filter] = []
    for name, op in (("from", ">="), ("to", "<=")):
        text = one(name, 10)
        if text in (None, ""):
            continue
        if column is None:
            raise invalid(name, "ce jeu de données n'a pas de période")
        try:
            result.append(Filter(column, op, dt.date.fromisoformat(text or "")))
        except ValueError:
            raise invalid(name, f"`{name}` doit être une date AAAA-MM-JJ") from None
    return tuple(result)
