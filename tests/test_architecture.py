"""The engine's floors, checked on the source: what each folder may import, no import circle,
no first-party import hidden inside a function, and ``pilotis.core`` free of Dash and Flask.

The rules are the picture of docs/ARCHITECTURE.md (« Les étages »). The import graph is read from
the code with :mod:`ast` (module-level imports; ``if TYPE_CHECKING:`` blocks are type hints only and
are left out), so a rule broken by a new import fails here with the file and line that broke it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = ("pilotis", "layouts", "data_sources", "dashboards", "app")
SCANNED = ("pilotis", "layouts", "data_sources", "dashboards")

FLOORS: dict[str, tuple[str, ...]] = {
    "pilotis.core": ("pilotis.core",),
    "pilotis.accounts": ("pilotis.core", "pilotis.accounts"),
    "pilotis.ui": ("pilotis.core", "pilotis.ui"),
    "pilotis.web": ("pilotis.core", "pilotis.ui", "pilotis.accounts", "pilotis.web"),
    "pilotis.cli": ("pilotis", "layouts", "data_sources"),
    "pilotis.plugins": ("pilotis.core", "pilotis.ui", "layouts", "data_sources"),
    "pilotis.__main__": ("pilotis.cli",),
    # Extension points and content: the engine's public floors, and each other's helpers.
    "layouts": ("pilotis.core", "pilotis.ui", "layouts"),
    "data_sources": ("pilotis.core", "data_sources"),
    "dashboards": ("pilotis.core", "pilotis.ui", "layouts"),
}
"""Floor -> the first-party packages its modules may import (longest prefix wins)."""

ALLOWED_IN_FUNCTIONS: set[tuple[str, str]] = set()
"""(module, imported module) pairs allowed inside a function. Empty: the command line imports its
subcommands at the top (they were always imported when the parser is built), and the built-in
widget and source types are registered by importing ``pilotis.plugins`` (app.py, the CLI). Add a
pair here only with the reason next to it."""


@dataclass(frozen=True)
class Import:
    """One first-party import statement: where it is and what it names."""

    module: str
    target: str
    path: str
    line: int
    in_function: bool
    type_only: bool

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.module} imports {self.target}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> list[Path]:
    files = [ROOT / "app.py"]
    for package in SCANNED:
        files += sorted((ROOT / package).rglob("*.py"))
    return [f for f in files if "migrations" not in f.parts]


MODULES = {module_name(f): f for f in source_files()}


def _resolve(node: ast.Import | ast.ImportFrom, package: str) -> list[str]:
    """Modules an import statement loads (``from a import b`` is ``a.b`` when that is a module)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parent = package.split(".")[: len(package.split(".")) - node.level + 1]
        base = ".".join(parent + ([base] if base else []))
    out = []
    for alias in node.names:
        full = f"{base}.{alias.name}"
        out.append(full if full in MODULES else base)
    return out


def imports_of(path: Path) -> list[Import]:
    """Every first-party import of a file, marked as inside a function or type-only."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return imports_in(path.read_text(encoding="utf-8"), name, package, str(path.relative_to(ROOT)))


def imports_in(source: str, name: str, package: str, rel: str) -> list[Import]:
    """The first-party imports of ``source`` (module ``name`` of ``package``, file ``rel``)."""
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool, type_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                for target in _resolve(child, package):
                    if target.split(".")[0] in FIRST_PARTY:
                        found.append(Import(name, target, rel, child.lineno, in_function, type_only))
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                visit(child, in_function, True)
                continue
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, inner, type_only)

    visit(ast.parse(source), False, False)
    return found


ALL_IMPORTS = [imp for path in MODULES.values() for imp in imports_of(path)]


def _within(target: str, prefix: str) -> bool:
    return target == prefix or target.startswith(prefix + ".")


def floor_of(module: str) -> str | None:
    matches = [floor for floor in FLOORS if _within(module, floor)]
    return max(matches, key=len) if matches else None


def test_the_scan_sees_the_engine() -> None:
    """Guard against a rule passing because the scan found nothing."""
    assert {"pilotis.core.loader", "pilotis.web.enforce", "layouts.kpi", "data_sources.sql"} <= set(MODULES)
    assert any(imp.target == "pilotis.core.schema" for imp in ALL_IMPORTS)
    assert any(imp.type_only for imp in ALL_IMPORTS)


def test_every_engine_module_has_a_floor() -> None:
    """A module at the top of ``pilotis/`` would escape the floor rules."""
    homeless = [m for m in MODULES if m.startswith("pilotis.") and floor_of(m) is None]
    assert homeless == [], f"modules outside every floor: {homeless}"


def test_each_floor_imports_only_the_floors_below() -> None:
    broken = []
    for imp in ALL_IMPORTS:
        floor = floor_of(imp.module)
        if floor is None or imp.type_only:
            continue
        if not any(_within(imp.target, allowed) for allowed in FLOORS[floor]):
            broken.append(f"{imp} (the {floor} floor may import {', '.join(FLOORS[floor])})")
    assert broken == [], "\n".join(broken)


def test_no_first_party_import_inside_a_function() -> None:
    """Imports hidden in functions dodge import circles instead of breaking them."""
    hidden = [
        str(imp)
        for imp in ALL_IMPORTS
        if imp.in_function and not any(imp.module == m and _within(imp.target, t) for m, t in ALLOWED_IN_FUNCTIONS)
    ]
    assert hidden == [], "first-party imports inside functions:\n" + "\n".join(hidden)


def _owner(target: str) -> str:
    """The scanned module a dotted import name lands in (``pilotis.core.errors.X`` -> module)."""
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target


def test_no_import_circle() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for imp in ALL_IMPORTS:
        target = _owner(imp.target)
        if not imp.in_function and not imp.type_only and target and target != imp.module:
            graph[imp.module].add(target)
    # Tarjan's strongly connected components: any component of two or more modules is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in graph:
        if node not in index:
            connect(node)
    assert circles == [], f"import circles: {circles}"


def test_the_rules_catch_a_hidden_import() -> None:
    """The AST walk sees an import in a nested function and marks TYPE_CHECKING blocks."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pilotis.ui.portal import Portal\n"
        "def f():\n    def g():\n        from pilotis.web import auth\n"
    )
    found = imports_in(source, "pilotis.core.probe", "pilotis.core", "pilotis/core/probe.py")
    assert [(i.target, i.in_function, i.type_only) for i in found] == [
        ("pilotis.ui.portal", False, True),
        ("pilotis.web.auth", True, False),
    ]


CORE_ALONE = """
import importlib, pkgutil, sys
import pilotis.core
for info in pkgutil.walk_packages(pilotis.core.__path__, "pilotis.core."):
    importlib.import_module(info.name)
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"dash", "flask", "flask_login", "flask_wtf",
    "dash_bootstrap_components", "werkzeug", "layouts", "data_sources"}
    | {m for m in sys.modules if m.startswith(("pilotis.ui", "pilotis.web", "pilotis.accounts", "pilotis.cli"))})
print(" ".join(loaded))
"""


@pytest.mark.timeout(120)
def test_core_loads_neither_dash_nor_flask() -> None:
    """Every module of ``pilotis.core`` imported in a fresh interpreter: no Dash, no Flask."""
    done = subprocess.run(
        [sys.executable, "-c", CORE_ALONE], cwd=ROOT, capture_output=True, text=True, timeout=100, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"pilotis.core loaded: {done.stdout}"
