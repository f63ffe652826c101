"""The one arithmetic expression parser, shared by measures and indicator formulas.

A measure (``sum(raccordables) / sum(locaux) * 100``, :mod:`pilotis.measures`) and a formula
(``rsa.foyers_allocataires / territoire.population * 1000``, :mod:`pilotis.indicators`) are the
same language: numbers, ``+ - * /`` with the usual precedence (left-associative), parentheses,
and *atoms*. Only the atoms differ — an aggregate call for a measure, a dotted indicator id for a
formula — so each caller passes a :class:`Grammar` whose ``atom`` reads one atom from the tokens.

The parser is iterative (operator precedence with explicit stacks): a long or deeply nested text
never reaches Python's recursion limit. It is also bounded: at most :data:`MAX_DEPTH` nested
parentheses and :data:`MAX_OPERATORS` operators, because the trees it builds are later walked
recursively (SQL compilation, evaluation) and no real measure comes near these bounds.

Decimal comma: ``1,5`` is **refused** in both measures and formulas, with a hint to write ``1.5``.
A comma already separates arguments in function calls (and YAML flow lists), so accepting it as a
decimal separator would make ``f(1,5)`` ambiguous; one rule for both languages avoids drift.

Every error is an :class:`ExpressionError` (its subclass name in measures is ``MeasureError``)
with a French message, a hint, and ``pos``, the 0-based offset in the text where it was found.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 40
"""Deepest nesting of parentheses accepted in an expression."""
MAX_OPERATORS = 100
"""Most operators accepted in one expression (a longer one is refused, never a crash)."""

_TOKEN = re.compile(
    r"\s*(?:(?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
    r"|(?P<num>\d+(?:\.\d+)?)|(?P<op>[-+*/])|(?P<paren>[()])|(?P<comma>,))"
)
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}


class ExpressionError(ValueError):
    """An expression that cannot be understood; the message says what is wrong, ``hint`` what to write."""

    def __init__(self, message: str, hint: str = "", pos: int = 0) -> None:
        super().__init__(message)
        self.hint = hint
        self.pos = pos


@dataclass(frozen=True)
class Num:
    """A numeric constant."""

    value: float


@dataclass(frozen=True)
class BinOp:
    """An arithmetic operation between two sub-expressions."""

    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Token:
    """One lexical unit: ``kind`` is ``ident``, ``num``, ``op``, ``paren`` or ``comma``."""

    kind: str
    text: str
    pos: int


@dataclass(frozen=True)
class Grammar:
    """What differs between two expression languages.

    ``atom(tokens, index, text)`` reads the atom starting at ``tokens[index]`` (an ``ident``)
    and returns it with the index of the token after it; it raises :class:`ExpressionError`.
    """

    what: str
    """How the text is named in messages: « mesure », « formule »."""
    example: str
    """Examples shown in hints."""
    atom: Callable[[list[Token], int, str], tuple[Any, int]]
    operand_hint: str
    """What may stand where an operand is expected."""
    end_hint: str
    """How to finish an expression that stops after an operator."""
    complete: str = "un terme complet"
    """What was just read when a second operand follows without an operator."""
    error: type[ExpressionError] = ExpressionError


def tokens(text: str, grammar: Grammar) -> list[Token]:
    """The tokens of ``text``; raise at the first character that belongs to none."""
    found: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            if not text[pos:].strip():
                break
            at = len(text) - len(text[pos:].lstrip())
            raise grammar.error(
                f"{grammar.what} `{shorten(text)}` : caractère `{text[at]}` inattendu (position {at + 1})",
                "opérateurs permis : `+`, `-`, `*`, `/` et parenthèses ; " + grammar.example,
                at,
            )
        kind = match.lastgroup or "paren"
        found.append(Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return found


def parse(text: str, grammar: Grammar) -> Any:
    """Parse ``text`` into a tree of ``Num``, ``BinOp`` and the grammar's atoms.

    Iterative operator-precedence parsing: ``operands`` holds built sub-trees, ``pending`` the
    operators and open parentheses not yet applied.
    """
    text = str(text).strip()
    what, error = grammar.what, grammar.error
    items = tokens(text, grammar)
    full, text = text, shorten(text)  # `text` from here on is how the expression is quoted
    if not items:
        raise error(f"{what} vide", grammar.example, 0)
    _decimal_comma(text, items, grammar)
    operands: list[Any] = []
    pending: list[Token] = []
    depth = 0
    operators = 0
    index = 0
    expect_operand = True

    def reduce() -> None:
        right = operands.pop()
        left = operands.pop()
        operands.append(BinOp(pending.pop().text, left, right))

    while True:
        token = items[index] if index < len(items) else None
        if expect_operand:
            if token is None:
                raise error(f"{what} `{text}` incomplète : un terme manque à la fin", grammar.end_hint, len(full))
            if token.kind == "num":
                operands.append(Num(float(token.text)))
                index += 1
                expect_operand = False
            elif token.text == "(":
                depth += 1
                if depth > MAX_DEPTH:
                    raise error(
                        f"{what} trop imbriquée (plus de {MAX_DEPTH} parenthèses)", "simplifiez l'expression", token.pos
                    )
                pending.append(token)
                index += 1
            elif token.kind == "ident":
                node, index = grammar.atom(items, index, text)
                operands.append(node)
                expect_operand = False
            else:
                raise error(
                    f"{what} `{text}` : « {token.text} » inattendu (position {token.pos + 1})",
                    grammar.operand_hint,
                    token.pos,
                )
            continue
        if token is None:
            break
        if token.kind == "op":
            operators += 1
            if operators > MAX_OPERATORS:
                raise error(
                    f"{what} trop longue (plus de {MAX_OPERATORS} opérateurs)",
                    "découpez-la : déclarez des mesures nommées ou des indicateurs intermédiaires",
                    token.pos,
                )
            while pending and pending[-1].text != "(" and _PRECEDENCE[pending[-1].text] >= _PRECEDENCE[token.text]:
                reduce()
            pending.append(token)
            index += 1
            expect_operand = True
        elif token.text == ")":
            while pending and pending[-1].text != "(":
                reduce()
            if not pending:
                raise error(
                    f"{what} `{text}` : parenthèse fermante `)` en trop (position {token.pos + 1})",
                    "retirez-la ou ajoutez la parenthèse ouvrante correspondante",
                    token.pos,
                )
            pending.pop()
            depth -= 1
            index += 1
        else:
            raise error(
                f"{what} `{text}` : « {token.text} » inattendu après {grammar.complete} (position {token.pos + 1})",
                "reliez les termes par un opérateur `+`, `-`, `*` ou `/`",
                token.pos,
            )
    while pending:
        if pending[-1].text == "(":
            raise error(
                f"{what} `{text}` : parenthèse fermante `)` manquante",
                "fermez chaque parenthèse ouverte",
                pending[-1].pos,
            )
        reduce()
    return operands[0]


def _decimal_comma(text: str, items: list[Token], grammar: Grammar) -> None:
    """Refuse ``1,5`` with a hint (see the module docstring for why it is not accepted)."""
    for before, comma, after in zip(items, items[1:], items[2:], strict=False):
        if before.kind == "num" and comma.kind == "comma" and after.kind == "num" and after.pos == comma.pos + 1:
            if comma.pos == before.pos + len(before.text):
                raise grammar.error(
                    f"{grammar.what} `{text}` : virgule décimale dans `{before.text},{after.text}` "
                    f"(position {comma.pos + 1})",
                    f"écrivez le nombre avec un point : `{before.text}.{after.text}`",
                    comma.pos,
                )


QUOTED = 80
"""Longest expression quoted whole in a message (a longer one is cut, its position still given)."""


def shorten(text: str) -> str:
    """``text`` as quoted in a message: whole, or its first :data:`QUOTED` characters and « … »."""
    return text if len(text) <= QUOTED else text[: QUOTED - 1] + "…"


def walk(node: Any) -> list[Any]:
    """Every node of a tree (parents before children), without recursion."""
    found: list[Any] = []
    stack = [node]
    while stack:
        current = stack.pop()
        found.append(current)
        if isinstance(current, BinOp):
            stack.append(current.right)
            stack.append(current.left)
    return found
