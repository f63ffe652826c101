"""YAML parsing that remembers where every key and value stands in the file.

PyYAML's composer gives each node a start mark; we walk the node tree ourselves so that
an error on ``widgets[2].measure`` can be reported at the exact line and column. Nothing in
here raises on bad input: syntax errors, unknown tags, recursive aliases and duplicate keys all
become :class:`~pilotis.core.errors.ConfigIssue` objects, in French, with a hint.

Size: a little over 400 lines, kept whole on purpose: the node walk and the guards against
hostile YAML (alias bombs, deep nesting, oversized documents) are one reader, read top to bottom;
split, a guard would sit away from the walk it protects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pilotis.core.errors import ConfigIssue

Loc = tuple[str | int, ...]
MAX_NODES = 100_000
"""Most values one file may expand to (anchors and aliases can multiply a small text)."""
_MERGE = "tag:yaml.org,2002:merge"


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


class _TooLarge(Exception):
    """The document expands to more than :data:`MAX_NODES` values."""


class _Builder:
    """Builds Python values from a node tree, recording marks and collecting issues."""

    def __init__(self, doc: MarkedDocument, issues: list[ConfigIssue]) -> None:
        self.doc = doc
        self.issues = issues
        self.constructor = yaml.SafeLoader("")
        self.count = 0
        self.active: set[int] = set()

    def problem(self, node: yaml.Node, message: str, hint: str = "") -> None:
        line, col = _pos(node)
        self.issues.append(ConfigIssue(self.doc.path, line, col, message, hint))

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge
        self.doc.value_marks[loc] = _pos(node)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if id(node) in self.active:
            self.problem(
                node,
                "alias récursif : une ancre `&` se contient elle-même",
                "recopiez la valeur au lieu d'y faire référence",
            )
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node, loc)
            return [self.build(child, (*loc, i)) for i, child in enumerate(node.value)]
        finally:
            self.active.discard(id(node))

    def scalar(self, node: yaml.ScalarNode) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self.problem(
                node,
                f"étiquette YAML `{tag}` non permise"
                if "tag" in str(exc.problem)
                else f"valeur illisible : {exc.problem}",
                "retirez l'étiquette `!…` ou mettez la valeur entre guillemets",
            )
        except (ValueError, TypeError, OverflowError, ArithmeticError):
            self.problem(
                node,
                f"valeur `{node.value}` illisible",
                "mettez la valeur entre guillemets si c'est un texte (ex. une date impossible)",
            )
        return node.value

    def pairs(self, node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node, bool]]:
        """Key/value nodes, merged ones (``<<: *base``) first, flagged ``True``."""
        merged: list[tuple[yaml.Node, yaml.Node, bool]] = []
        explicit: list[tuple[yaml.Node, yaml.Node, bool]] = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE:
                explicit.append((key_node, value_node, False))
                continue
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in reversed(sources):
                if not isinstance(source, yaml.MappingNode):
                    self.problem(
                        source,
                        "`<<` attend un alias de bloc `clé: valeur` (`<<: *base`)",
                        "définissez le bloc avec `&base` puis écrivez `<<: *base`",
                    )
                elif id(source) in self.active:
                    self.problem(source, "fusion `<<` récursive", "retirez le `<<` qui se référence")
                else:
                    self.active.add(id(source))
                    try:
                        merged += [(k, v, True) for k, v, _ in self.pairs(source)]
                    finally:
                        self.active.discard(id(source))
        return merged + explicit

    def mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        result: dict[str, Any] = {}
        explicit: set[str] = set()
        for key_node, value_node, merged in self.pairs(node):
            key = self.key(key_node)
            if key is None:
                continue
            if not merged:
                if key in explicit:
                    first = self.doc.key_marks[(*loc, key)][0]
                    self.problem(
                        key_node,
                        f"clé `{key}` en double (déjà définie ligne {first})",
                        "supprimez l'une des deux lignes",
                    )
                    continue
                explicit.add(key)
            self.doc.key_marks[(*loc, key)] = _pos(key_node)
            result[key] = self.build(value_node, (*loc, key))
        return result

    def key(self, node: yaml.Node) -> str | None:
        if not isinstance(node, yaml.ScalarNode):
            self.problem(
                node,
                "clé invalide : une clé est un mot, pas une liste ni un bloc",
                "écrivez `nom: valeur`",
            )
            return None
        value = self.scalar(node)
        if value is None or value == "":
            self.problem(node, "clé vide", "écrivez un nom avant les deux-points")
            return None
        if isinstance(value, bool):
            return node.value  # `yes:` / `on:` stay the words written
        return value if isinstance(value, str) else str(value)


# PyYAML's problems, in French: (text in the problem, use the context mark, message, hint).
_SYNTAX: list[tuple[str, bool, str, str]] = [
    (
        "found character '\\t'",
        False,
        "tabulation interdite",
        "indentez avec des espaces (deux par niveau), jamais avec des tabulations",
    ),
    (
        "a tab character",
        False,
        "tabulation interdite",
        "indentez avec des espaces (deux par niveau), jamais avec des tabulations",
    ),
    (
        "could not find expected ':'",
        True,
        "deux-points `:` manquant après la clé",
        "écrivez `clé: valeur`, avec un espace après les deux-points",
    ),
    (
        "found unexpected end of stream",
        True,
        "guillemet ouvert ici et jamais refermé",
        "fermez le guillemet à la fin de la valeur",
    ),
    (
        "mapping values are not allowed here",
        False,
        "deux-points `:` inattendu",
        "une valeur qui contient `: ` s'écrit entre guillemets ; sinon, vérifiez l'indentation de la ligne",
    ),
    (
        "expected <block end>",
        False,
        "indentation incohérente",
        "alignez la ligne sur les clés de même niveau (espaces, deux par niveau)",
    ),
    (
        "did not find expected key",
        False,
        "indentation incohérente",
        "alignez la ligne sur les clés de même niveau (espaces, deux par niveau)",
    ),
    (
        "did not find expected '-'",
        False,
        "indentation incohérente dans une liste",
        "chaque élément commence par `- `, aligné sur les autres",
    ),
    (
        "expected ',' or ']'",
        True,
        "liste `[…]` ouverte ici et jamais refermée",
        "fermez la liste par `]` ; un élément qui contient `,` ou `:` s'écrit entre guillemets",
    ),
    (
        "expected ',' or '}'",
        True,
        "bloc `{…}` ouvert ici et jamais refermé",
        "fermez le bloc par `}` ; une valeur qui contient `,` ou `:` s'écrit entre guillemets",
    ),
    (
        "found undefined alias",
        False,
        "alias `*` non défini",
        "une valeur qui commence par `*` s'écrit entre guillemets",
    ),
    (
        "while scanning an alias",
        True,
        "`*` inattendu en début de valeur",
        "une valeur qui commence par `*` s'écrit entre guillemets",
    ),
    (
        "while scanning an anchor",
        True,
        "`&` inattendu en début de valeur",
        "une valeur qui commence par `&` s'écrit entre guillemets",
    ),
    (
        "found unknown escape character",
        False,
        "échappement inconnu dans un texte entre guillemets doubles",
        "utilisez des guillemets simples `'…'` ou doublez la barre oblique `\\\\`",
    ),
    (
        "but found another document",
        False,
        "un seul document par fichier",
        "supprimez la ligne `---` et ce qui suit, ou mettez-le dans un autre fichier",
    ),
    (
        "found duplicate anchor",
        False,
        "ancre `&` en double",
        "donnez un nom différent à chaque ancre",
    ),
    (
        "that cannot start any token",
        False,
        "caractère inattendu en début de valeur",
        "mettez la valeur entre guillemets",
    ),
    (
        "expected the node content",
        False,
        "valeur attendue",
        "écrivez une valeur ou supprimez la ligne",
    ),
]


def _syntax_issue(exc: yaml.MarkedYAMLError, text: str, path: str) -> ConfigIssue:
    problem = exc.problem or ""
    context = exc.context or ""
    message = f"syntaxe YAML invalide ({problem or context or 'erreur'})"
    hint = "vérifiez l'indentation (espaces, pas de tabulation) et les deux-points après les clés"
    mark = exc.problem_mark or exc.context_mark
    for needle, use_context, french, french_hint in _SYNTAX:
        if needle in problem or needle in context:
            message, hint = f"YAML invalide : {french}", french_hint
            if use_context and exc.context_mark is not None:
                mark = exc.context_mark
            break
    if "\t" in text and "tabulation" not in message:
        hint += " ; le fichier contient des tabulations : remplacez-les par des espaces"
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return ConfigIssue(path, line, col, message, hint)


def _position(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


C_LOADER_MAX_NESTING = 5_000
"""libyaml's composer recurses on the C stack and crashes the process on very deep nesting
(segmentation fault near 50 000 levels): beyond this many possible levels, PyYAML's pure-Python
parser is used (it stops at Python's recursion limit with an error that becomes an issue)."""


def _possible_depth(text: str) -> int:
    """An upper bound of the nesting depth of ``text``, in one pass.

    A flow level needs a bracket; a block level needs more indentation or one more indicator
    (``-``, ``?``, ``:``) on its line, and a sequence may sit at its parent mapping's
    indentation (hence the factor 2). Counting every indicator of the file instead sent any
    file of more than 5,000 keys to the slow pure-Python parser.
    """
    deepest = 0
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        inline = stripped.count("-") + stripped.count("?") + stripped.count(":")
        deepest = max(deepest, len(line) - len(stripped) + inline)
    return text.count("[") + text.count("{") + 2 * deepest + 2


def _compose(text: str) -> yaml.Node | None:
    """The node tree, by libyaml when available (fast); PyYAML's own parser words the errors."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None and _possible_depth(text) < C_LOADER_MAX_NESTING:
        try:
            return yaml.compose(text, Loader=fast)
        except (yaml.YAMLError, ValueError, TypeError):
            pass  # parse again below: same error, in the words our translations know
    return yaml.compose(text, Loader=yaml.SafeLoader)


def parse_yaml(text: str, path: str) -> tuple[MarkedDocument | None, list[ConfigIssue]]:
    """Parse one YAML document; syntax errors become issues instead of exceptions."""
    doc = MarkedDocument(path=path, data=None)
    issues: list[ConfigIssue] = []
    try:
        node = _compose(text)
        if node is None:
            return doc, issues
        doc.data = _Builder(doc, issues).build(node, ())
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax_issue(exc, text, path)]
    except yaml.reader.ReaderError as exc:
        line, col = _position(text, exc.position)
        code = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        return None, [
            ConfigIssue(
                path,
                line,
                col,
                f"caractère interdit ({code}) dans le fichier",
                "supprimez ce caractère invisible (copier-coller depuis un autre logiciel ?)",
            )
        ]
    except _TooLarge:
        return None, [
            ConfigIssue(
                path,
                1,
                1,
                f"document trop volumineux (plus de {MAX_NODES} valeurs)",
                "n'imbriquez pas les alias `*` : recopiez les valeurs",
            )
        ]
    except RecursionError:
        return None, [
            ConfigIssue(
                path,
                1,
                1,
                "structure YAML trop profondément imbriquée",
                "réduisez les niveaux d'indentation et de crochets",
            )
        ]
    except (yaml.YAMLError, ValueError, TypeError):
        return None, [
            ConfigIssue(path, 1, 1, "YAML illisible", "vérifiez l'indentation, les guillemets et les deux-points")
        ]
    return doc, issues


_OS_HINT = "vérifiez que le fichier existe, est un fichier (pas un dossier) et que Pilotis peut le lire"


def _os_reason(exc: OSError) -> str:
    """Why a file cannot be opened, in French (``strerror`` is in the system's language)."""
    if isinstance(exc, FileNotFoundError):
        return "fichier introuvable"
    if isinstance(exc, IsADirectoryError):
        return "c'est un dossier"
    if isinstance(exc, PermissionError):
        return "lecture non autorisée"
    return f"erreur système n° {exc.errno}" if exc.errno is not None else "erreur système"


def read_yaml(path: Path, display: str) -> tuple[MarkedDocument | None, list[ConfigIssue]]:
    """Read and parse a YAML file; an unreadable file becomes an issue."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raw = exc.object if isinstance(exc.object, bytes) else b""
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [
            ConfigIssue(
                display,
                line,
                col,
                "fichier illisible : octet invalide en UTF-8",
                "enregistrez le fichier en UTF-8 (dans l'éditeur : « Enregistrer sous… », encodage UTF-8)",
            )
        ]
    except OSError as exc:
        return None, [ConfigIssue(display, 1, 1, f"fichier illisible : {_os_reason(exc)}", _OS_HINT)]
    return parse_yaml(text.removeprefix("\ufeff"), display)
