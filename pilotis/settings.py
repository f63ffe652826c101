"""Settings from the environment (``PILOTIS_*``), with embedded defaults for a demo on one machine."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "oui", "on")


@dataclass(frozen=True)
class Settings:
    """Everything the app factory needs; build with :meth:`from_env` or directly in tests."""

    root: Path = ROOT
    """Project root (data paths in YAML are relative to it)."""
    config_dir: Path = ROOT / "config"
    """Folder of `portal.yaml` and `datasets/*.yaml`."""
    dashboards_dir: Path = ROOT / "dashboards"
    """Folder of the dashboards' YAML and callbacks modules."""
    instance_dir: Path = ROOT / "instance"
    """Runtime files (SQLite database, file cache); created if missing."""
    debug: bool = False
    """Development mode: Dash dev tools and hot reload of YAML and Python."""
    host: str = "127.0.0.1"
    """Address of the development server."""
    port: int = 8050
    """Port of the development server."""
    lang: str = "fr"
    """Default interface language (`fr` or `en`)."""
    extra: dict[str, str] = field(default_factory=dict)
    """Other settings, for extensions."""

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Read ``PILOTIS_*`` variables; keyword arguments win over the environment."""
        root = Path(os.environ.get("PILOTIS_ROOT", ROOT))
        values: dict[str, object] = {
            "root": root,
            "config_dir": Path(os.environ.get("PILOTIS_CONFIG_DIR", root / "config")),
            "dashboards_dir": Path(os.environ.get("PILOTIS_DASHBOARDS_DIR", root / "dashboards")),
            "instance_dir": Path(os.environ.get("PILOTIS_INSTANCE_DIR", root / "instance")),
            "debug": _env_bool("PILOTIS_DEBUG", False),
            "host": os.environ.get("PILOTIS_HOST", "127.0.0.1"),
            "port": int(os.environ.get("PILOTIS_PORT", "8050")),
            "lang": os.environ.get("PILOTIS_LANG", "fr"),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
