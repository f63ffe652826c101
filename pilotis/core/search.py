"""The portal's search: dashboards, indicators, datasets, their fields and the referents, found by
words typed in French without caring for accents or case (« depenses » finds « Dépenses »).

:class:`SearchIndex` is built once from every entry of the configuration (it knows nothing of
users); each query filters the hits through ``allowed``, which the caller builds from the access
decisions of :mod:`pilotis.core.access` — an entry the user may not open is never returned.

Ranking: every word of the query must start a word of the entry (« foy » finds « foyers »); a
word of the title counts more than one of the description, a whole word more than a prefix, and a
title starting with the query comes first. The vocabulary is kept sorted, so each query word's
prefixes are found by bisection instead of scanning every entry (``bench/bench_search.py``).
"""

from __future__ import annotations

import heapq
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pilotis.core.formatting import french_fold

KINDS = ("dashboard", "indicator", "dataset", "field", "referent")
"""Kinds of entries, in the order a tie is broken."""
TITLE, TEXT = 3.0, 1.0
"""Weight of a word found in the title, in the rest of the entry."""
_WORD = re.compile(r"[0-9a-z]+")
MAX_WORDS = 8
"""Words of a query beyond this are ignored (bounded work per request)."""
MIN_PREFIX = 2
"""A shorter word (« a », « l ») must be a whole word: as a prefix it would match most entries."""


def words(text: str) -> list[str]:
    """The words of ``text``, folded (accents and case removed, « œ » → « oe »)."""
    return _WORD.findall(french_fold(text))


@dataclass(frozen=True)
class Entry:
    """One thing the search can find."""

    kind: str
    """``dashboard``, ``indicator``, ``dataset``, ``field`` or ``referent``."""
    ident: str
    title: str
    text: str
    href: str
    owner: tuple[str, str]
    """The subject whose visibility decides whether the entry is shown (a field: its dataset)."""
    account: str | None = None
    """For a referent: the person's account (a departed one is never returned)."""
    context: str = ""
    """Shown with the entry, not searched (a field: its dataset's title)."""


@dataclass(frozen=True)
class Hit:
    """An entry found, with its score."""

    entry: Entry
    score: float


class SearchIndex:
    """An inverted index of the folded words of every entry (see the module docstring)."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = list(entries)
        postings: dict[str, dict[int, float]] = {}
        self.folded_titles: list[str] = []
        for number, entry in enumerate(self.entries):
            self.folded_titles.append(" ".join(words(entry.title)))
            for weight, text in ((TEXT, entry.text), (TITLE, entry.title)):
                for word in words(text):
                    slot = postings.setdefault(word, {})
                    slot[number] = max(slot.get(number, 0.0), weight)
        self.vocabulary = sorted(postings)
        self.postings = postings

    def _matches(self, word: str) -> dict[int, float]:
        """Entries holding a word that starts with ``word``: whole word × 2, prefix × 1."""
        found: dict[int, float] = {}
        if len(word) < MIN_PREFIX:
            return {number: weight * 2.0 for number, weight in self.postings.get(word, {}).items()}
        start = bisect_left(self.vocabulary, word)
        for position in range(start, len(self.vocabulary)):
            candidate = self.vocabulary[position]
            if not candidate.startswith(word):
                break
            factor = 2.0 if candidate == word else 1.0
            for number, weight in self.postings[candidate].items():
                score = weight * factor
                if score > found.get(number, 0.0):
                    found[number] = score
        return found

    def search(self, query: str, allowed: Callable[[Entry], bool], limit: int = 50) -> list[Hit]:
        """The entries matching every word of ``query`` that ``allowed`` lets through, best first."""
        asked = list(dict.fromkeys(words(query)))[:MAX_WORDS]
        if not asked:
            return []
        scores: dict[int, float] | None = None
        for word in sorted(asked, key=len, reverse=True):  # the longest word is the most selective
            found = self._matches(word)
            if scores is None:
                scores = found
            else:
                scores = {n: s + found[n] for n, s in scores.items() if n in found}
            if not scores:
                return []
        assert scores is not None
        phrase = " ".join(asked)
        ranked: list[tuple[float, int, str, int]] = []
        for number, score in scores.items():
            entry = self.entries[number]
            if not allowed(entry):
                continue
            title = self.folded_titles[number]
            bonus = 10.0 if title.startswith(phrase) else 0.0
            ranked.append((-(score + bonus), KINDS.index(entry.kind), title, number))
        best = heapq.nsmallest(limit, ranked)
        return [Hit(self.entries[number], -negative) for negative, _, _, number in best]


def linear_search(entries: list[Entry], query: str, allowed: Callable[[Entry], bool], limit: int = 50) -> list[Entry]:
    """The baseline of ``bench/bench_search.py``: every entry folded and scanned for every word."""
    asked = words(query)
    found = []
    for entry in entries:
        text = " ".join(words(f"{entry.title} {entry.text}"))
        if asked and all(word in text for word in asked) and allowed(entry):
            found.append(entry)
    return found[:limit]
