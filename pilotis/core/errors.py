"""Configuration errors reported as ``path:line:col: message`` with a hint."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby


@dataclass(frozen=True, order=True)
class ConfigIssue:
    """One problem found in a configuration file."""

    path: str
    line: int
    col: int
    message: str
    hint: str = ""
    stage: int = field(default=0, compare=False)
    """Where the file stands in the order of loading (datasets before the indicators and
    dashboards that use them…): a report lists root causes before their knock-on effects."""

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
        """The full report, one issue per line (plus its hint).

        Files come in loading order (``stage``: what others depend on first), then by name;
        issues by line and column. At most :data:`MAX_SHOWN_PER_FILE` issues are printed per
        file, then one line says how many more there are (thousands of unknown keys must not
        drown the first, usually telling, error).
        """
        ordered = sorted(self.issues, key=lambda i: (i.stage, i.path, i.line, i.col, i.message, i.hint))
        lines: list[str] = []
        for path, group in groupby(ordered, key=lambda i: i.path):
            issues = list(group)
            lines += [str(issue) for issue in issues[:MAX_SHOWN_PER_FILE]]
            hidden = len(issues) - MAX_SHOWN_PER_FILE
            if hidden > 0:
                more = "autre erreur" if hidden == 1 else "autres erreurs"
                lines.append(f"{path}: … et {thousands(hidden)} {more} dans ce fichier")
        count = len(self.issues)
        plural = "s" if count > 1 else ""
        lines.append(f"{thousands(count)} erreur{plural} de configuration.")
        return "\n".join(lines)


MAX_SHOWN_PER_FILE = 50
"""Most issues printed for one file (the others are counted on one line)."""


def thousands(number: int) -> str:
    """``2950`` → ``2 950`` (French grouping, with a plain space so that it greps)."""
    return f"{number:,}".replace(",", " ")


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
    return possible_values(options, what)


def possible_values(candidates: Iterable[str], what: str = "valeurs possibles") -> str:
    """A French hint listing the allowed values (the first twelve), without looking for a typo."""
    options = sorted({str(c) for c in candidates})
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
