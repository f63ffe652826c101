"""Measure expressions such as ``sum(foyers)`` or ``sum(raccordables) / sum(locaux)``.

A measure is parsed once at load time into a small tree, validated against the dataset's
columns, and compiled to a SQLAlchemy expression so that the database does the arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from pilotis.core.errors import did_you_mean

AGGREGATES = ("sum", "avg", "min", "max", "count", "count_distinct")
_TOKEN = re.compile(r"\s*(?:(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<num>\d+(?:\.\d+)?)|(?P<op>[-+*/])|(?P<paren>[()]))")
MAX_DEPTH = 40
"""Deepest nesting of parentheses accepted in a measure."""
EXAMPLES = "exemples : `sum(montant)`, `count(*)`, `sum(a) / sum(b)`"


class MeasureError(ValueError):
    """A measure expression that cannot be understood; the message says what to write."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


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


Token = tuple[str, str, int]
"""(kind, text, position) with kind ``ident``, ``num``, ``op`` or ``paren``."""


def _tokens(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            if not text[pos:].strip():
                break
            bad = text[pos:].lstrip()[0]
            raise MeasureError(
                f"mesure `{text}` : caractère `{bad}` inattendu",
                "opérateurs permis : `+`, `-`, `*`, `/` et parenthèses ; " + EXAMPLES,
            )
        kind = match.lastgroup or "paren"
        tokens.append((kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return tokens


def parse_measure(text: str) -> Node:
    """Parse ``text``; raise :class:`MeasureError` with a French explanation and a hint."""
    text = str(text).strip()
    tokens = _tokens(text)
    if not tokens:
        raise MeasureError("mesure vide", EXAMPLES)
    parser = _Parser(text, tokens)
    node = parser.sum(0)
    if parser.pos < len(tokens):
        kind, value, _ = tokens[parser.pos]
        if value == ")":
            raise MeasureError(
                f"mesure `{text}` : parenthèse fermante `)` en trop",
                "retirez-la ou ajoutez la parenthèse ouvrante correspondante",
            )
        raise MeasureError(
            f"mesure `{text}` : « {value} » inattendu après une mesure complète",
            "reliez les termes par un opérateur `+`, `-`, `*` ou `/`",
        )
    return node


class _Parser:
    """Recursive descent.

    sum := product (('+'|'-') product)* ; product := atom (('*'|'/') atom)* ;
    atom := number | '(' sum ')' | aggregate '(' column | '*' ')'.
    """

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.pos = 0

    def peek(self, offset: int = 0) -> Token | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def sum(self, depth: int) -> Node:
        node = self.product(depth)
        while (token := self.peek()) is not None and token[1] in ("+", "-") and token[0] == "op":
            self.pos += 1
            node = BinOp(token[1], node, self.product(depth))
        return node

    def product(self, depth: int) -> Node:
        node = self.atom(depth)
        while (token := self.peek()) is not None and token[1] in ("*", "/") and token[0] == "op":
            self.pos += 1
            node = BinOp(token[1], node, self.atom(depth))
        return node

    def atom(self, depth: int) -> Node:
        token = self.peek()
        if token is None:
            raise MeasureError(
                f"mesure `{self.text}` incomplète : un terme manque à la fin",
                "terminez par un agrégat comme `sum(colonne)` ou un nombre",
            )
        kind, value, _ = token
        if kind == "num":
            self.pos += 1
            return Num(float(value))
        if value == "(":
            if depth >= MAX_DEPTH:
                raise MeasureError(
                    f"mesure trop imbriquée (plus de {MAX_DEPTH} parenthèses)", "simplifiez l'expression"
                )
            self.pos += 1
            node = self.sum(depth + 1)
            closing = self.peek()
            if closing is None or closing[1] != ")":
                raise MeasureError(
                    f"mesure `{self.text}` : parenthèse fermante `)` manquante", "fermez chaque parenthèse ouverte"
                )
            self.pos += 1
            return node
        if kind == "ident":
            return self.aggregate(value)
        raise MeasureError(
            f"mesure `{self.text}` : « {value} » inattendu",
            "écrivez un agrégat comme `sum(colonne)` ou un nombre à cet endroit",
        )

    def aggregate(self, name: str) -> Node:
        following = self.peek(1)
        if following is None or following[1] != "(":
            if name in AGGREGATES and following is not None and following[0] == "ident":
                raise MeasureError(
                    f"mesure `{self.text}` : parenthèses manquantes après `{name}`", f"écrivez `{name}({following[1]})`"
                )
            raise MeasureError(
                f"mesure `{self.text}` : `{name}` seul n'est pas une mesure",
                f"écrivez un agrégat de la colonne, par exemple `sum({name})` ou `count_distinct({name})`",
            )
        if name not in AGGREGATES:
            hint = (
                f"écrivez l'agrégat en minuscules : `{name.lower()}`"
                if name.lower() in AGGREGATES
                else did_you_mean(name, AGGREGATES, "agrégats possibles")
            )
            raise MeasureError(f"agrégat `{name}` inconnu dans `{self.text}`", hint)
        column = self.peek(2)
        if column is None or not (column[0] == "ident" or column[1] == "*"):
            raise MeasureError(
                f"mesure `{self.text}` : nom de colonne attendu après `{name}(`", f"écrivez `{name}(colonne)`"
            )
        closing = self.peek(3)
        if closing is None or closing[1] != ")":
            raise MeasureError(
                f"mesure `{self.text}` : parenthèse fermante manquante après `{name}({column[1]}`",
                f"écrivez `{name}({column[1]})`",
            )
        if column[1] == "*" and name != "count":
            raise MeasureError(
                f"`{name}(*)` n'a pas de sens : nommez une colonne",
                f"écrivez `{name}(colonne)` ; pour compter les lignes : `count(*)`",
            )
        self.pos += 4
        return Agg(name, column[1])


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
