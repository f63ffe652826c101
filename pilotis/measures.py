"""Measure expressions such as ``sum(foyers)`` or ``sum(raccordables) / sum(locaux)``.

A measure is parsed once at load time into a small tree, validated against the dataset's
columns, and compiled to a SQLAlchemy expression so that the database does the arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

AGGREGATES = ("sum", "avg", "min", "max", "count", "count_distinct")
_TOKEN = re.compile(
    r"\s*(?:(?P<agg>[a-z_]+)\s*\(\s*(?P<col>\*|[A-Za-z_][A-Za-z0-9_]*)\s*\)"
    r"|(?P<num>\d+(?:\.\d+)?)|(?P<op>[-+*/])|(?P<paren>[()]))"
)


class MeasureError(ValueError):
    """A measure expression that cannot be understood; the message says what to write."""


@dataclass(frozen=True)
class Agg:
    """An aggregate over one column (or ``*`` for ``count``)."""

    func: str
    column: str


@dataclass(frozen=True)
class Num:
    """A numeric constant."""

    value: float


@dataclass(frozen=True)
class BinOp:
    """An arithmetic operation between two sub-expressions."""

    op: str
    left: Node
    right: Node


Node = Agg | Num | BinOp


def parse_measure(text: str) -> Node:
    """Parse ``text``; raise :class:`MeasureError` with a French explanation when invalid."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = str(text).strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise MeasureError(
                f"mesure `{text}` illisible à partir de « {text[pos:pos + 12]} »"
            )
        if match.group("agg"):
            func = match.group("agg")
            if func not in AGGREGATES:
                raise MeasureError(f"agrégat `{func}` inconnu dans `{text}`")
            if match.group("col") == "*" and func != "count":
                raise MeasureError(f"`{func}(*)` n'a pas de sens : nommez une colonne")
            tokens.append(("agg", f"{func}:{match.group('col')}"))
        elif match.group("num"):
            tokens.append(("num", match.group("num")))
        elif match.group("op"):
            tokens.append(("op", match.group("op")))
        else:
            tokens.append(("paren", match.group("paren")))
        pos = match.end()
    if not tokens:
        raise MeasureError("mesure vide")
    node, rest = _parse_sum(tokens)
    if rest:
        raise MeasureError(f"mesure `{text}` : « {rest[0][1]} » inattendu")
    return node


def _parse_sum(tokens: list[tuple[str, str]]) -> tuple[Node, list[tuple[str, str]]]:
    node, tokens = _parse_product(tokens)
    while tokens and tokens[0] in (("op", "+"), ("op", "-")):
        op = tokens[0][1]
        right, tokens = _parse_product(tokens[1:])
        node = BinOp(op, node, right)
    return node, tokens


def _parse_product(tokens: list[tuple[str, str]]) -> tuple[Node, list[tuple[str, str]]]:
    node, tokens = _parse_atom(tokens)
    while tokens and tokens[0] in (("op", "*"), ("op", "/")):
        op = tokens[0][1]
        right, tokens = _parse_atom(tokens[1:])
        node = BinOp(op, node, right)
    return node, tokens


def _parse_atom(tokens: list[tuple[str, str]]) -> tuple[Node, list[tuple[str, str]]]:
    if not tokens:
        raise MeasureError("mesure incomplète : un terme manque après l'opérateur")
    kind, value = tokens[0]
    if kind == "agg":
        func, column = value.split(":", 1)
        return Agg(func, column), tokens[1:]
    if kind == "num":
        return Num(float(value)), tokens[1:]
    if (kind, value) == ("paren", "("):
        node, rest = _parse_sum(tokens[1:])
        if not rest or rest[0] != ("paren", ")"):
            raise MeasureError("parenthèse fermante manquante")
        return node, rest[1:]
    raise MeasureError(
        f"« {value} » inattendu : écrivez un agrégat comme `sum(colonne)` ou un nombre"
    )


def columns_of(node: Node) -> set[str]:
    """The dataset columns that a measure reads."""
    if isinstance(node, Agg):
        return set() if node.column == "*" else {node.column}
    if isinstance(node, BinOp):
        return columns_of(node.left) | columns_of(node.right)
    return set()


def is_additive(node: Node) -> bool:
    """True when the measure is a plain sum or count (summing partial results is valid)."""
    return isinstance(node, Agg) and node.func in ("sum", "count")


def to_sql(node: Node, table: sa.TableClause) -> sa.ColumnElement:
    """Compile a measure tree into a SQLAlchemy expression over ``table``."""
    if isinstance(node, Num):
        return sa.literal(node.value)
    if isinstance(node, BinOp):
        left, right = to_sql(node.left, table), to_sql(node.right, table)
        if node.op == "/":
            # NULL instead of a division-by-zero error; force a float division everywhere.
            return sa.cast(left, sa.Double) / sa.cast(sa.func.nullif(right, 0), sa.Double)
        return {"+": left + right, "-": left - right, "*": left * right}[node.op]
    if node.column == "*":
        return sa.func.count()
    column = table.c[node.column]
    if node.func == "count_distinct":
        return sa.func.count(sa.distinct(column))
    return getattr(sa.func, node.func)(column)
