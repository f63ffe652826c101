"""Field descriptions of the YAML models, read from their attribute docstrings when asked.

Every key of a YAML model is documented by the string under it::

    title: str
    \"\"\"Titre affiché dans la navigation.\"\"\"

pydantic's ``use_attribute_docstrings=True`` would read these at class creation: the source of
every model through :mod:`inspect`, :mod:`tokenize` and :mod:`ast`, ≈ 0.1 s of CPU at every start
of a worker or command, for text only the JSON Schema (:mod:`pilotis.core.jsonschema`) and the
YAML reference (:mod:`pilotis.cli.docs`) show. They read it here instead, with the same rules as
pydantic 2.13 (``pydantic/_internal/_docs_extraction.py`` and ``_fields.py``):

- a string expression right after an annotated assignment ``name: type [= value]`` of the class
  body documents ``name`` (:func:`inspect.cleandoc` applied);
- an explicit ``Field(description=…)`` wins over the docstring;
- a field declared again in a subclass takes the subclass's docstring (none if it has none); a
  field inherited unchanged keeps the description its class gave it;
- only the models that would have opted in have docstrings read: the subclasses of
  :class:`~pilotis.core.schema_base.Strict` (others keep their explicit descriptions only).
"""

from __future__ import annotations

import ast
import inspect
import sys
from functools import cache
from typing import Any

from pydantic import BaseModel

from pilotis.core.schema_base import Strict


class _DocstringVisitor(ast.NodeVisitor):
    """pydantic's ``DocstringVisitor``: a string right after an annotated assignment documents it.

    Kept node for node (``target`` is only reset by a docstring, ``previous`` is the last node
    visited at any depth) so that odd bodies give what pydantic gave.
    """

    def __init__(self) -> None:
        super().__init__()
        self.target: str | None = None
        self.attrs: dict[str, str] = {}
        self.previous: type[ast.AST] | None = None

    def visit(self, node: ast.AST) -> Any:
        result = super().visit(node)
        self.previous = type(node)
        return result

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if isinstance(node.target, ast.Name):
            self.target = node.target.id

    def visit_Expr(self, node: ast.Expr) -> None:
        value = node.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str) and self.previous is ast.AnnAssign:
            if self.target:
                self.attrs[self.target] = inspect.cleandoc(value.value)
            self.target = None


@cache
def _class_statements(module_name: str) -> dict[str, list[ast.ClassDef]]:
    """Every ``class`` statement of a module by qualified name (several if a name is defined twice).

    One parse per module, on demand; an empty mapping when its source cannot be read.
    """
    module = sys.modules.get(module_name)
    try:
        tree = ast.parse(inspect.getsource(module))  # type: ignore[arg-type]
    except (OSError, TypeError, SyntaxError):
        return {}
    found: dict[str, list[ast.ClassDef]] = {}

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                found.setdefault(prefix + child.name, []).append(child)
                walk(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                walk(child, f"{prefix}{child.name}.<locals>.")
            else:
                walk(child, prefix)

    walk(tree, "")
    return found


def _annotated_names(statement: ast.ClassDef) -> list[str]:
    """Names annotated directly in a class body (what ``__annotations__`` holds), in order."""
    names: list[str] = []

    def walk(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.AnnAssign) and isinstance(child.target, ast.Name) and child.simple:
                names.append(child.target.id)
            elif not isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                walk(child)

    walk(statement)
    return names


def attribute_docstrings(cls: type) -> dict[str, str]:
    """``{attribute: docstring}`` of one class body, as pydantic reads it (its own body only)."""
    statements = _class_statements(cls.__module__).get(cls.__qualname__, [])
    if len(statements) > 1:  # a name defined twice: the statement that made this class
        first_line = getattr(cls, "__firstlineno__", None)  # Python ≥ 3.13
        if first_line is not None:
            same = [s for s in statements if min([s.lineno, *(d.lineno for d in s.decorator_list)]) == first_line]
        else:
            annotated = list(cls.__dict__.get("__annotations__", {}))
            same = [s for s in statements if _annotated_names(s) == annotated]
        statements = same or statements
    if not statements:
        return {}
    visitor = _DocstringVisitor()
    visitor.visit(statements[-1])
    return visitor.attrs


def field_descriptions(model: type[BaseModel]) -> dict[str, str | None]:
    """``{field: description}`` of a model, as ``use_attribute_docstrings=True`` set them."""
    return dict(_descriptions(model))


@cache
def _descriptions(model: type[BaseModel]) -> tuple[tuple[str, str | None], ...]:
    docs = attribute_docstrings(model) if issubclass(model, Strict) else {}
    inherited: dict[str, str | None] = {}
    for base in reversed(model.__bases__):
        if isinstance(base, type) and issubclass(base, BaseModel) and base is not BaseModel:
            inherited.update(_descriptions(base))
    own = model.__dict__.get("__annotations__", {})
    found = []
    for name, info in model.model_fields.items():
        description = info.description  # explicit: `Field(description=…)`, or inherited with the field
        if description is None and name not in own:
            description = inherited.get(name)
        found.append((name, description if description is not None else docs.get(name)))
    return tuple(found)
