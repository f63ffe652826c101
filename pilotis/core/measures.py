"""Measure expressions such as ``sum(foyers)`` or ``sum(raccordables) / sum(locaux)``.

A measure is parsed once at load time into a small tree, validated against the dataset's
columns, and compiled to a SQLAlchemy expression so that the database does the arithmetic.
The arithmetic (numbers, operators, parentheses, bounds, errors) is the shared parser of
:mod:`pilotis.core.expressions`; this module adds its atoms, the aggregate calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from pilotis.core.errors import did_you_mean
from pilotis.core.expressions import MAX_DEPTH, BinOp, ExpressionError, Grammar, Num, Token, parse, walk

__all__ = [
    "AGGREGATES",
    "MAX_DEPTH",
    "Agg",
    "BinOp",
    "MeasureError",
    "Node",
    "Num",
    "columns_of",
    "is_additive",
    "parse_measure",
    "to_sql",
]

AGGREGATES = ("sum", "avg", "min", "max", "count", "count_distinct")
EXAMPLES = "exemples : `sum(montant)`, `count(*)`, `sum(a) / sum(b)`"


class MeasureError(ExpressionError):
    """A measure expression that cannot be understood; the message says what to write."""


@dataclass(frozen=True)
class Agg:
    """An aggregate over one column (or ``*`` for ``count``)."""

    func: str
    column: str


Node = Agg | Num | BinOp


def _aggregate(tokens: list[Token], index: int, text: str) -> tuple[Agg, int]:
    """The atom of a measure: ``name(column)`` or ``count(*)``, starting at ``tokens[index]``."""
    name_token = tokens[index]
    name, pos = name_token.text, name_token.pos

    def peek(offset: int) -> Token | None:
        return tokens[index + offset] if index + offset < len(tokens) else None

    following = peek(1)
    if "." in name:
        raise MeasureError(
            f"mesure `{text}` : `{name}` ressemble à un identifiant d'indicateur",
            "une mesure combine des agrégats de colonnes (`sum(colonne)`) ; "
            "pour combiner des indicateurs, écrivez une `formula`",
            pos,
        )
    if following is None or following.text != "(":
        if name in AGGREGATES and following is not None and following.kind == "ident":
            raise MeasureError(
                f"mesure `{text}` : parenthèses manquantes après `{name}`", f"écrivez `{name}({following.text})`", pos
            )
        raise MeasureError(
            f"mesure `{text}` : `{name}` seul n'est pas une mesure",
            f"écrivez un agrégat de la colonne, par exemple `sum({name})` ou `count_distinct({name})`",
            pos,
        )
    if name not in AGGREGATES:
        hint = (
            f"écrivez l'agrégat en minuscules : `{name.lower()}`"
            if name.lower() in AGGREGATES
            else did_you_mean(name, AGGREGATES, "agrégats possibles")
        )
        raise MeasureError(f"agrégat `{name}` inconnu dans `{text}`", hint, pos)
    column = peek(2)
    if column is None or not ((column.kind == "ident" and "." not in column.text) or column.text == "*"):
        raise MeasureError(
            f"mesure `{text}` : nom de colonne attendu après `{name}(`", f"écrivez `{name}(colonne)`", following.pos
        )
    closing = peek(3)
    if closing is None or closing.text != ")":
        raise MeasureError(
            f"mesure `{text}` : parenthèse fermante manquante après `{name}({column.text}`",
            f"écrivez `{name}({column.text})`",
            column.pos,
        )
    if column.text == "*" and name != "count":
        raise MeasureError(
            f"`{name}(*)` n'a pas de sens : nommez une colonne",
            f"écrivez `{name}(colonne)` ; pour compter les lignes : `count(*)`",
            pos,
        )
    return Agg(name, column.text), index + 4


GRAMMAR = Grammar(
    what="mesure",
    example=EXAMPLES,
    atom=_aggregate,
    operand_hint="écrivez un agrégat comme `sum(colonne)` ou un nombre à cet endroit",
    end_hint="terminez par un agrégat comme `sum(colonne)` ou un nombre",
    complete="une mesure complète",
    error=MeasureError,
)
"""Measures: the shared expression language whose atoms are aggregate calls."""


def parse_measure(text: str) -> Node:
    """Parse ``text``; raise :class:`MeasureError` with a French explanation, a hint and a position."""
    node: Node = parse(text, GRAMMAR)
    return node


def columns_of(node: Node) -> set[str]:
    """The dataset columns that a measure reads."""
    return {n.column for n in walk(node) if isinstance(n, Agg) and n.column != "*"}


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
