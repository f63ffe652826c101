"""Turn pydantic validation errors into French ``file:line:col`` issues with hints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from pilotis.errors import ConfigIssue, did_you_mean
from pilotis.yamlmarks import Loc, MarkedDocument

_TYPES = {
    "string_type": "doit être un texte",
    "int_type": "doit être un nombre entier",
    "int_parsing": "doit être un nombre entier",
    "int_from_float": "doit être un nombre entier",
    "float_type": "doit être un nombre",
    "float_parsing": "doit être un nombre",
    "bool_type": "doit être `true` ou `false`",
    "bool_parsing": "doit être `true` ou `false`",
    "dict_type": "doit être un bloc `clé: valeur`",
    "model_type": "doit être un bloc `clé: valeur`",
    "model_attributes_type": "doit être un bloc `clé: valeur`",
    "list_type": "doit être une liste (lignes commençant par `- `)",
}


def _clean_loc(data: Any, loc: tuple[Any, ...]) -> tuple[Loc, bool]:
    """Keep the parts of a pydantic ``loc`` that exist in the data (drops union tags)."""
    clean: list[str | int] = []
    node = data
    complete = True
    for part in loc:
        if isinstance(node, dict) and part in node:
            clean.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            clean.append(part)
            node = node[part]
        elif isinstance(part, str) and ("[" in part or part[:1].isupper()):
            continue  # a union member tag such as "literal['public-internal']" or "AccessRule"
        else:
            clean.append(part)
            complete = False
            break
    return tuple(clean), complete


def _fields(model: type[BaseModel], loc: Loc) -> list[str]:
    """Field names allowed at ``loc`` (best effort, for the « did you mean » hint)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        info = getattr(current, "model_fields", {}).get(part)
        if info is None:
            return []
        annotation = info.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            for arg in candidates:
                nested += [
                    a for a in getattr(arg, "__args__", ()) if isinstance(a, type) and issubclass(a, BaseModel)
                ]
        if not nested:
            return []
        current = nested[0]
    return list(getattr(current, "model_fields", {}))


def pydantic_issues(
    exc: ValidationError, doc: MarkedDocument, model: type[BaseModel], data: Any, prefix: Loc = ()
) -> list[ConfigIssue]:
    """One issue per distinct location in ``exc``; ``prefix`` locates ``data`` in ``doc``."""
    issues: dict[Loc, ConfigIssue] = {}
    for error in exc.errors():
        loc, complete = _clean_loc(data, tuple(error["loc"]))
        kind = error["type"]
        full = (*prefix, *loc)
        if kind == "extra_forbidden":
            key = loc[-1]
            allowed = _fields(model, loc[:-1])
            issue = doc.issue(full, f"clé `{key}` inconnue", did_you_mean(str(key), allowed), key=True)
        elif kind == "missing":
            parent = full[:-1]
            issue = doc.issue(parent, f"clé `{loc[-1]}` obligatoire manquante",
                              f"ajoutez `{loc[-1]}: …`", key=True)
        else:
            name = f"`{loc[-1]}`" if loc else "le document"
            message, hint = _message(kind, error, name)
            issue = doc.issue(full, message, hint, key=not complete)
        if full not in issues or kind == "extra_forbidden":
            issues[full] = issue
    return list(issues.values())


def _message(kind: str, error: Any, name: str) -> tuple[str, str]:
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind in _TYPES:
        return f"{name} {_TYPES[kind]}", ""
    if kind == "literal_error":
        expected = [e.strip(" '") for e in str(ctx.get("expected", "")).replace(" or ", ",").split(",")]
        return f"{name} : valeur `{value}` non permise", did_you_mean(str(value), [e for e in expected if e])
    if kind == "string_pattern_mismatch":
        return (f"{name} : `{value}` n'a pas le bon format",
                "lettres minuscules sans accent, chiffres, `_` ou `-`, en commençant par une lettre"
                if "a-z" in str(ctx.get("pattern", "")) else f"format attendu : {ctx.get('pattern')}")
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = ctx.get("ge", ctx.get("le", ctx.get("gt", ctx.get("lt"))))
        word = {"greater_than_equal": "≥", "less_than_equal": "≤", "greater_than": ">", "less_than": "<"}[kind]
        return f"{name} doit être {word} {bound} (reçu : {value})", ""
    if kind == "too_short":
        return f"{name} doit contenir au moins {ctx.get('min_length')} élément(s)", ""
    if kind == "too_long":
        return f"{name} est trop long (au plus {ctx.get('max_length')})", ""
    if kind == "value_error":
        return f"{name} : {str(ctx.get('error', error['msg']))}", ""
    return f"{name} : {error['msg']}", ""
