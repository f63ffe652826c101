"""Turn pydantic validation errors into French ``file:line:col`` issues with hints."""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from pilotis.core.errors import MAX_SHOWN_PER_FILE, ConfigIssue, closest, did_you_mean, possible_values
from pilotis.core.yamlmarks import Loc, MarkedDocument

_EXPECTED = {
    "string_type": "un texte",
    "int_type": "un nombre entier",
    "int_parsing": "un nombre entier",
    "int_from_float": "un nombre entier",
    "float_type": "un nombre",
    "float_parsing": "un nombre",
    "bool_type": "`true` ou `false`",
    "bool_parsing": "`true` ou `false`",
    "dict_type": "un bloc `clé: valeur`",
    "model_type": "un bloc `clé: valeur`",
    "model_attributes_type": "un bloc `clé: valeur`",
    "list_type": "une liste (`[a, b]` ou une ligne `- a` par élément)",
    "none_required": "vide",
}

REFERENCE_HINT = "voir la référence de cette clé dans docs/yaml-reference.md"
"""The hint of last resort: every issue has an « aide » line."""
DETAILED_HINTS = MAX_SHOWN_PER_FILE
"""Unknown keys of one document that get a « vouliez-vous dire » search; the others (never shown:
the report stops at :data:`~pilotis.errors.MAX_SHOWN_PER_FILE` per file) list the allowed keys."""

# Parts of a pydantic ``loc`` that name a union member rather than a key: ``str``,
# ``list[union[str,int]]``, ``literal['public-internal']``, ``AccessRule``, ``function-after[…]``.
_UNION_TAG = re.compile(r"^(str|int|float|bool|none|bytes|date|datetime|decimal)$|[\[\]]|^[A-Z]")


def _clean_loc(data: Any, loc: tuple[Any, ...]) -> tuple[Loc, bool]:
    """Keep the parts of a pydantic ``loc`` that exist in the data (drops union tags).

    Returns the location and whether every part of it exists in the data (a missing key
    is the one part that does not).
    """
    clean: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            clean.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            clean.append(part)
            node = node[part]
        elif isinstance(part, str) and _UNION_TAG.search(part):
            continue
        else:
            clean.append(part)
            return tuple(clean), False
    return tuple(clean), True


def annotation_leaves(annotation: Any) -> list[Any]:
    """The members of a union / ``Annotated`` / ``Optional`` annotation (itself otherwise)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return annotation_leaves(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [leaf for arg in typing.get_args(annotation) for leaf in annotation_leaves(arg)]
    return [annotation]


def is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def models_at(model: type[BaseModel], loc: Loc) -> list[type[BaseModel]]:
    """The models that may describe the value found at ``loc`` below ``model``."""
    current: list[Any] = [model]
    for part in loc:
        following: list[Any] = []
        for annotation in (leaf for a in current for leaf in annotation_leaves(a)):
            origin = typing.get_origin(annotation)
            if is_model(annotation):
                info = annotation.model_fields.get(part) if isinstance(part, str) else None
                if info is not None:
                    following.append(info.annotation)
            elif origin is dict:
                following.append(typing.get_args(annotation)[1])
            elif origin is list and isinstance(part, int):
                following.append(typing.get_args(annotation)[0])
        current = following
    return [leaf for a in current for leaf in annotation_leaves(a) if is_model(leaf)]


def _fields(model: type[BaseModel], loc: Loc) -> list[str]:
    """Keys allowed at ``loc`` (for the « did you mean » hint): a field's alias when it has one
    (``for``, a Python keyword, is the field ``for_``), never a field filled by the loader (``exclude``)."""
    return list(
        dict.fromkeys(
            info.alias or name
            for m in models_at(model, loc)
            for name, info in m.model_fields.items()
            if not info.exclude
        )
    )


def shown_value(value: Any) -> str:
    """How a received value is named in a message."""
    if isinstance(value, dict):
        return "un bloc `clé: valeur`"
    if isinstance(value, list):
        return "une liste"
    if value is None:
        return "rien"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    text = str(value)
    if len(text) > 40:
        text = text[:37] + "…"
    return f"`{text}`"


def _where(data: Any, loc: Loc, prefix: Loc = ()) -> str:
    """« dans le widget `carte` », « dans `collectivite` »: where a missing key belongs."""
    full = (*prefix, *loc)
    if not full:
        return ""
    node = data
    for part in loc:
        node = node[part]
    if isinstance(full[-1], int):
        name = node.get("id") if isinstance(node, dict) else None
        owner = "le widget" if full[0] == "widgets" and len(full) == 2 else "l'élément"
        return f" dans {owner} `{name}`" if isinstance(name, str) else f" dans {owner} n° {full[-1] + 1}"
    return f" dans `{full[-1]}`"


def pydantic_issues(
    exc: ValidationError, doc: MarkedDocument, model: type[BaseModel], data: Any, prefix: Loc = ()
) -> list[ConfigIssue]:
    """One issue per distinct location in ``exc``; ``prefix`` locates ``data`` in ``doc``."""
    grouped: dict[Loc, list[Any]] = {}
    complete: dict[Loc, bool] = {}
    for error in exc.errors():
        loc, whole = _clean_loc(data, tuple(error["loc"]))
        grouped.setdefault(loc, []).append(error)
        complete[loc] = whole
    # A value that failed every member of a union: keep the member error that went deepest
    # (``access: {departements: …}`` is a misspelt key of the mapping form, not a bad literal).
    # (Linear in the number of errors: a file with thousands of unknown keys is checked in
    # proportion to its size, never by comparing every error with every other.)
    prefixes = {loc[:length] for loc in grouped for length in range(len(loc))}
    for loc in [loc for loc in grouped if loc in prefixes]:
        del grouped[loc]
    # An unknown key that is a typo of a missing required key is one mistake, reported once.
    unknown = {loc: error for loc, errors in grouped.items() for error in errors if error["type"] == "extra_forbidden"}
    missing_in: dict[Loc, list[str | int]] = {}
    for loc, errors in grouped.items():
        if loc and any(e["type"] == "missing" for e in errors):
            missing_in.setdefault(loc[:-1], []).append(loc[-1])
    suggestions: dict[Loc, str | None] = {}
    for loc in list(unknown)[:DETAILED_HINTS]:
        missing = missing_in.get(loc[:-1])
        suggestions[loc] = closest(str(loc[-1]), missing) if missing else None
    typos = {(*loc[:-1], key) for loc, key in suggestions.items() if key is not None}

    detailed = 0
    present: dict[Loc, set[str]] = {}
    fields: dict[Loc, list[str]] = {}
    issues: list[ConfigIssue] = []
    for loc, errors in grouped.items():
        kinds = {e["type"] for e in errors}
        full = (*prefix, *loc)
        if "extra_forbidden" in kinds:
            key = str(loc[-1])
            suggestion = suggestions.get(loc)
            detailed += 1
            if suggestion is not None:
                hint = f"vouliez-vous dire `{suggestion}` ?"
            else:
                parent = loc[:-1]
                if parent not in fields:
                    fields[parent] = _fields(model, parent)
                    present[parent] = _present(data, parent)
                allowed = [f for f in fields[parent] if f not in present[parent]] or fields[parent]
                if detailed <= DETAILED_HINTS:
                    hint = did_you_mean(key, allowed, "clés possibles")
                else:  # beyond what the report shows: no typo search (it costs more than the rest)
                    hint = possible_values(allowed, "clés possibles")
            issues.append(doc.issue(full, f"clé `{key}` inconnue", hint, key=True))
        elif "missing" in kinds:
            if loc in typos:
                continue
            key = str(loc[-1])
            issues.append(
                doc.issue(
                    full[:-1],
                    f"clé `{key}` obligatoire manquante{_where(data, loc[:-1], prefix)}",
                    f"ajoutez `{key}: …`",
                    key=True,
                )
            )
        else:
            name = f"`{loc[-1]}`" if loc else "le document"
            message, hint = _message(errors, name, model, loc)
            issues.append(doc.issue(full, message, hint, key=not complete[loc]))
    return issues


def _present(data: Any, loc: Loc) -> set[str]:
    node = data
    for part in loc:
        node = node[part]
    return set(node) if isinstance(node, dict) else set()


def _literals(errors: list[Any]) -> list[str]:
    expected: list[str] = []
    for error in errors:
        if error["type"] == "literal_error":
            text = str((error.get("ctx") or {}).get("expected", ""))
            expected += [e.strip(" '\"") for e in text.replace(" or ", ",").split(",") if e.strip(" '\"")]
    return expected


def _message(errors: list[Any], name: str, model: type[BaseModel], loc: Loc) -> tuple[str, str]:
    """Message and hint for the errors found at one location."""
    value = errors[0].get("input")
    kinds = [e["type"] for e in errors]
    if len(set(kinds)) > 1:  # a union: name every accepted form
        literals = _literals(errors)
        forms = [f"`{v}`" for v in literals]
        for kind in dict.fromkeys(kinds):
            if kind in ("model_type", "dict_type"):
                keys = ", ".join(f"`{f}`" for f in _fields(model, loc))
                forms.append(f"un bloc `clé: valeur` ({keys})" if keys else _EXPECTED[kind])
            elif kind in _EXPECTED and _EXPECTED[kind] not in forms:
                forms.append(_EXPECTED[kind])
        match = closest(str(value), literals) if literals and isinstance(value, str) else None
        hint = f"vouliez-vous dire `{match}` ? " if match else ""
        hint += "valeurs acceptées : " + " ou ".join(dict.fromkeys(forms))
        return f"{name} : valeur {shown_value(value)} non permise", hint
    error = errors[0]
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _EXPECTED:
        return f"{name} doit être {_EXPECTED[kind]} (reçu : {shown_value(value)})", _type_hint(kind, value)
    if kind == "literal_error":
        literals = _literals(errors)
        return f"{name} : valeur {shown_value(value)} non permise", did_you_mean(str(value), literals) or REFERENCE_HINT
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        if "a-z][a-z0-9_-]" in pattern:
            hint = "lettres minuscules sans accent, chiffres, `_` ou `-`, en commençant par une lettre"
            suggestion = re.sub(r"[^a-z0-9_-]+", "_", str(value).lower()).strip("_-")
            if re.match(r"^[a-z][a-z0-9_-]*$", suggestion):
                hint += f" (par exemple `{suggestion}`)"
        elif pattern.startswith("^/"):
            hint = "une adresse commence par `/` : lettres minuscules, chiffres, `-`, `_` (ex. `/finances`)"
        else:
            hint = f"format attendu : {pattern}"
        return f"{name} : {shown_value(value)} n'a pas le bon format", hint
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = ctx.get("ge", ctx.get("le", ctx.get("gt", ctx.get("lt"))))
        word = {
            "greater_than_equal": "≥",
            "less_than_equal": "≤",
            "greater_than": ">",
            "less_than": "<",
        }[kind]
        return f"{name} doit être {word} {bound} (reçu : {value})", f"écrivez un nombre {word} {bound}"
    if kind == "too_short":
        return (
            f"{name} doit contenir au moins {ctx.get('min_length')} élément(s)",
            "ajoutez des éléments (lignes commençant par `- `)",
        )
    if kind == "too_long":
        limit = ctx.get("max_length")
        return f"{name} a trop d'éléments (au plus {limit})", f"gardez au plus {limit} élément(s)"
    if kind == "string_too_short":
        limit = ctx.get("min_length")
        if limit == 1:
            return f"{name} ne doit pas être vide", "écrivez un texte après les deux-points"
        return f"{name} est trop court (au moins {limit} caractères)", "complétez la valeur"
    if kind == "string_too_long":
        limit = ctx.get("max_length")
        if limit == 1:
            return (
                f"{name} doit être un seul caractère (reçu : {shown_value(value)})",
                'écrivez un caractère entre guillemets, ex. `";"`',
            )
        return f"{name} est trop long (au plus {limit} caractères)", "raccourcissez la valeur"
    if kind in ("value_error", "assertion_error"):
        cause = ctx.get("error")
        hint = str(getattr(cause, "hint", "")) or REFERENCE_HINT
        return f"{name} : {cause if cause is not None else 'valeur non valide'}", hint
    # A kind without a French wording (pydantic's own message is in English): say it plainly.
    return f"{name} : valeur {shown_value(value)} non valide", REFERENCE_HINT


def _type_hint(kind: str, value: Any) -> str:
    """What to write instead of a value of the wrong type."""
    if kind == "string_type":
        if value is None:
            return "écrivez une valeur après les deux-points, ou supprimez la ligne"
        if isinstance(value, bool | int | float | dt.date):
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            return f'mettez la valeur entre guillemets : `"{shown}"`'
        if isinstance(value, list | dict):
            return "un texte qui commence par `[` ou `{` s'écrit entre guillemets"
    if kind in ("int_parsing", "float_parsing", "int_type", "float_type", "int_from_float"):
        return (
            "écrivez un nombre sans guillemets ni unité (ex. `6`)"
            if kind != "int_from_float"
            else "écrivez un nombre entier (sans décimales)"
        )
    if kind in ("bool_parsing", "bool_type"):
        return "écrivez `true` ou `false`"
    if kind == "list_type":
        return "écrivez `[a, b]` ou une ligne `- a` par élément, indentée sous la clé"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "écrivez les sous-clés sur les lignes suivantes, indentées de deux espaces"
    if kind == "none_required":
        return "supprimez la valeur après les deux-points"
    return REFERENCE_HINT
