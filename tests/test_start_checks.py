"""Checks at start that read a whole file only to validate it (the map outlines named by
config/portal.yaml) are worked out once per version of the file and remembered in the instance
folder (pilotis/core/remembered.py); a broken file is reported at every start, with its line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pilotis.core import load_portal
from pilotis.core.loader import load_registry
from pilotis.core.remembered import checked_once
from pilotis.core.settings import ROOT


def test_a_pass_is_remembered_per_version_and_a_failure_never(tmp_path: Path) -> None:
    path, folder = tmp_path / "f.geojson", tmp_path / "instance"
    path.write_text("ok", encoding="utf-8")
    calls: list[str] = []

    def problem() -> str | None:
        calls.append(path.read_text(encoding="utf-8"))
        return None if calls[-1] == "ok" else "cassé"

    assert checked_once(folder, "essai", path, problem) is None
    assert checked_once(folder, "essai", path, problem) is None
    assert calls == ["ok"]  # the second start did not read the file
    path.write_text("ko", encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    assert checked_once(folder, "essai", path, problem) == "cassé"
    assert checked_once(folder, "essai", path, problem) == "cassé"  # reported again, never remembered
    assert calls == ["ok", "ko", "ko"]
    assert checked_once(folder, "essai-v2", path, lambda: None) is None  # another check: its own answer
    assert checked_once(None, "essai", path, problem) == "cassé"  # no instance folder: checked each time


def test_the_map_outlines_are_read_once_per_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[Path] = []
    real = load_portal._geojson_problem

    def counted(path: Path) -> str | None:
        read.append(path)
        return real(path)

    monkeypatch.setattr(load_portal, "_geojson_problem", counted)
    load_registry(ROOT, instance_dir=tmp_path / "instance")
    first = len(read)
    assert first >= 1  # the shipped dashboards draw maps
    load_registry(ROOT, instance_dir=tmp_path / "instance")
    assert len(read) == first  # the restart found them checked
