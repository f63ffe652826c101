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


class HintedValueError(ValueError):
    """A ``ValueError`` raised by a model validator, with a hint saying what to write instead."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


def closest(word: str, candidates: Iterable[str | int]) -> str | None:
    """The candidate ``word`` was most likely meant to be (typo, case, prefix), if any."""
    options = sorted({str(c) for c in candidates})
    word = str(word)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return close[0]
    lower = {o.lower(): o for o in options}
    close = difflib.get_close_matches(word.lower(), list(lower), n=1, cutoff=0.6)
    if close:
        return lower[close[0]]
    if len(word) >= 3:
        starting = [o for o in options if o.lower().startswith(word.lower())]
        if len(starting) == 1:
            return starting[0]
    return None


def did_you_mean(word: str, candidates: Iterable[str], what: str = "valeurs possibles") -> str:
    """A French hint naming the closest candidate, or the list of allowed values."""
    options = sorted({str(c) for c in candidates})
    match = closest(word, options)
    if match is not None:
        return f"vouliez-vous dire `{match}` ?"
    if not options:
        return ""
    shown = ", ".join(f"`{o}`" for o in options[:12])
    more = " …" if len(options) > 12 else ""
    return f"{what} : {shown}{more}"


class StartupError(Exception):
    """The app refuses to start (unsafe production settings…): a French message, exit status 1."""

    def report(self) -> str:
        """The message to print on standard error."""
        return f"Pilotis refuse de démarrer : {self}"
