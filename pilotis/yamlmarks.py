"""YAML parsing that remembers where every key and value stands in the file.

PyYAML's composer gives each node a start mark; we walk the node tree ourselves so that
an error on ``widgets[2].measure`` can be reported at the exact line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pilotis.errors import ConfigIssue

Loc = tuple[str | int, ...]


@dataclass
class MarkedDocument:
    """A parsed YAML document with the (line, col) of every value and mapping key, 1-based."""

    path: str
    data: Any
    value_marks: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def mark(self, loc: Loc, *, key: bool = False) -> tuple[int, int]:
        """Where ``loc`` stands; falls back to the closest enclosing node that exists."""
        loc = tuple(loc)
        while True:
            if key and loc in self.key_marks:
                return self.key_marks[loc]
            if loc in self.value_marks:
                return self.value_marks[loc]
            if loc in self.key_marks:
                return self.key_marks[loc]
            if not loc:
                return (1, 1)
            loc = loc[:-1]

    def issue(self, loc: Loc, message: str, hint: str = "", *, key: bool = False) -> ConfigIssue:
        """A :class:`ConfigIssue` located at ``loc`` in this document."""
        line, col = self.mark(loc, key=key)
        return ConfigIssue(self.path, line, col, message, hint)


def _pos(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, doc: MarkedDocument, issues: list[ConfigIssue]) -> None:
        self.doc = doc
        self.issues = issues
        self.constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.doc.value_marks[loc] = _pos(node)
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            self.constructor.flatten_mapping(node)
            for key_node, value_node in node.value:
                key = self.constructor.construct_object(key_node, deep=True)
                if not isinstance(key, str | int | float | bool) or key is None:
                    line, col = _pos(key_node)
                    self.issues.append(
                        ConfigIssue(self.doc.path, line, col, "clé invalide", "une clé est un mot")
                    )
                    continue
                key = str(key) if not isinstance(key, str) else key
                if key in result:
                    line, col = _pos(key_node)
                    first = self.doc.key_marks[(*loc, key)][0]
                    self.issues.append(
                        ConfigIssue(
                            self.doc.path,
                            line,
                            col,
                            f"clé `{key}` en double (déjà définie ligne {first})",
                            "supprimez l'une des deux",
                        )
                    )
                    continue
                self.doc.key_marks[(*loc, key)] = _pos(key_node)
                result[key] = self.build(value_node, (*loc, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*loc, i)) for i, child in enumerate(node.value)]
        return self.constructor.construct_object(node, deep=True)


def parse_yaml(text: str, path: str) -> tuple[MarkedDocument | None, list[ConfigIssue]]:
    """Parse one YAML document; syntax errors become issues instead of exceptions."""
    doc = MarkedDocument(path=path, data=None)
    issues: list[ConfigIssue] = []
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is None:
            return doc, issues
        doc.data = _Builder(doc, issues).build(node, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or "erreur de syntaxe"
        hint = "vérifiez l'indentation (espaces, pas de tabulation) et les deux-points après les clés"
        if "\t" in text:
            hint = "remplacez les tabulations par des espaces"
        return None, [ConfigIssue(path, line, col, f"YAML invalide : {problem}", hint)]
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        return None, [ConfigIssue(path, 1, 1, f"YAML invalide : {exc}", "")]
    return doc, issues


def read_yaml(path: Path, display: str) -> tuple[MarkedDocument | None, list[ConfigIssue]]:
    """Read and parse a YAML file; an unreadable file becomes an issue."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [ConfigIssue(display, 1, 1, f"fichier illisible : {exc.reason}",
                                  "enregistrez le fichier en UTF-8")]
    except OSError as exc:
        return None, [ConfigIssue(display, 1, 1, f"fichier illisible : {exc.strerror}", "")]
    return parse_yaml(text, display)
