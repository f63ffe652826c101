"""Configuration errors reported as ``path:line:col: message`` with a hint."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class ConfigIssue:
    """One problem found in a configuration file."""

    path: str
    line: int
    col: int
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}:{self.col}: {self.message}"
        if self.hint:
            text += f"\n    aide : {self.hint}"
        return text


@dataclass
class ConfigError(Exception):
    """Every problem of every configuration file, collected before the app serves anything."""

    issues: list[ConfigIssue] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.report())

    def report(self) -> str:
        """The full report, one issue per line (plus its hint), sorted by file and line."""
        lines = [str(issue) for issue in sorted(self.issues)]
        count = len(self.issues)
        plural = "s" if count > 1 else ""
        lines.append(f"{count} erreur{plural} de configuration.")
        return "\n".join(lines)


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A French hint naming the closest candidate, or the list of allowed values."""
    options = sorted(set(candidates))
    close = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    if close:
        return f"vouliez-vous dire `{close[0]}` ?"
    if not options:
        return ""
    shown = ", ".join(f"`{o}`" for o in options[:12])
    more = " …" if len(options) > 12 else ""
    return f"valeurs possibles : {shown}{more}"
