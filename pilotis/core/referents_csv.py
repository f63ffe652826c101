"""A referents directory from a CSV file (``python -m pilotis referents import FILE``).

One line per person: ``type,id,position,name,service,email,phone,account`` where ``type`` is
``theme``, ``dashboard``, ``indicator`` or ``dataset`` (or ``thème``, ``tableau``, ``indicateur``,
``jeu``), ``position`` is ``titulaire`` or ``suppléant`` (``holder``, ``deputy``). Every line is
checked before anything is written; problems come as ``file:line: message`` in French. The
result is the content of ``config/referents.yaml``, which the loader then checks like any file.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from pilotis.core.errors import did_you_mean

COLUMNS = ("type", "id", "position", "name", "service", "email", "phone", "account")
REQUIRED = ("type", "id", "position", "name")
TYPES = {
    "theme": "themes",
    "thème": "themes",
    "dashboard": "dashboards",
    "tableau": "dashboards",
    "indicator": "indicators",
    "indicateur": "indicators",
    "dataset": "datasets",
    "jeu": "datasets",
}
POSITIONS = {
    "titulaire": "holder",
    "holder": "holder",
    "suppléant": "deputy",
    "suppleant": "deputy",
    "deputy": "deputy",
}


class CsvProblems(ValueError):
    """Every problem of a CSV file, one ``file:line: message`` per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def read_referents_csv(text: str, name: str) -> dict[str, Any]:
    """The ``config/referents.yaml`` content of a CSV file (``,`` or ``;``); raises
    :class:`CsvProblems` listing every problem."""
    text = text.lstrip("\ufeff")
    first = text.splitlines()[0] if text else ""
    reader = csv.DictReader(io.StringIO(text), delimiter=";" if first.count(";") > first.count(",") else ",")
    problems: list[str] = []
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        detail = "; ".join(
            [*(f"colonne `{c}` manquante" for c in missing), *(f"colonne `{c}` inconnue" for c in unknown)]
        )
        raise CsvProblems([f"{name}:1: {detail} (colonnes attendues : {', '.join(COLUMNS)})"])
    result: dict[str, dict[str, dict[str, Any]]] = {}
    seen: dict[tuple[str, str, str], int] = {}
    for number, raw in enumerate(reader, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        where = f"{name}:{number}"
        empty = [c for c in REQUIRED if not row.get(c)]
        if empty:
            problems.append(f"{where}: colonne `{empty[0]}` vide")
            continue
        section = TYPES.get(row["type"].lower())
        position = POSITIONS.get(row["position"].lower())
        if section is None:
            problems.append(f"{where}: type `{row['type']}` inconnu ({did_you_mean(row['type'], TYPES, 'types')})")
            continue
        if position is None:
            problems.append(f"{where}: position `{row['position']}` inconnue (titulaire ou suppléant)")
            continue
        key = (section, row["id"], position)
        if key in seen:
            problems.append(f"{where}: deuxième {row['position']} pour `{row['id']}` (déjà à la ligne {seen[key]})")
            continue
        seen[key] = number
        person = {c: row[c] for c in ("name", "service", "email", "phone", "account") if row.get(c)}
        result.setdefault(section, {}).setdefault(row["id"], {})[position] = person
    for (section, ident, position), number in seen.items():
        if position == "deputy" and "holder" not in result[section][ident]:
            problems.append(f"{name}:{number}: suppléant sans titulaire pour `{ident}`")
    if problems:
        raise CsvProblems(problems)
    return result
