"""Modules stay small enough to read in one sitting: at most 400 lines, or the module says why.

A module over the limit carries a paragraph starting ``Size:`` (in its docstring or as a
``# Size:`` comment) giving the reason it stays whole. Splitting by concern is the default.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 400
SCANNED = ("pilotis", "layouts", "data_sources", "dashboards")
PENDING: dict[str, str] = {
    # "path": "why it is still long" — while a split is under way; a stale entry fails the test.
}
SAYS_WHY = re.compile(r"^\s*(# )?Size: \S", re.MULTILINE)


def _modules() -> list[Path]:
    found = [p for folder in SCANNED for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts]
    return sorted([*found, ROOT / "app.py"])


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_the_scan_sees_the_engine() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in _modules()}
    assert {"pilotis/core/loader.py", "layouts/kpi.py", "data_sources/files.py", "app.py"} <= names


def test_every_module_is_short_or_says_why() -> None:
    too_long = [
        f"{p.relative_to(ROOT)}: {_lines(p)} lines"
        for p in _modules()
        if _lines(p) > LIMIT
        and p.relative_to(ROOT).as_posix() not in PENDING
        and not SAYS_WHY.search(p.read_text(encoding="utf-8"))
    ]
    assert too_long == [], (
        f"modules over {LIMIT} lines without a `Size:` reason (split them by concern):\n" + "\n".join(too_long)
    )


def test_pending_splits_are_still_pending() -> None:
    done = [name for name in PENDING if not (ROOT / name).exists() or _lines(ROOT / name) <= LIMIT]
    assert done == [], f"split done: remove from PENDING in {Path(__file__).name}: {done}"


def test_the_rule_asks_for_a_reason_not_a_word() -> None:
    """The reason must be a ``Size:`` paragraph, not any mention of the word."""
    assert SAYS_WHY.search('"""Parser.\n\nSize: one grammar, read top to bottom.\n"""')
    assert SAYS_WHY.search("# Size: generated tables\n")
    assert not SAYS_WHY.search('"""The size: of things."""\nx = "Size:"\n')
