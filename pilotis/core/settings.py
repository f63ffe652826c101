"""Settings from the environment (``PILOTIS_*``), with embedded defaults for a demo on one machine."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pilotis.core import instance_secret

ROOT = Path(__file__).resolve().parents[2]
MODES = ("demo", "production")


def _env_secret(name: str, default: str) -> str:
    """``NAME`` from the environment, or the content of the file named by ``NAME_FILE``."""
    value = os.environ.get(name)
    if value:
        return value
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return default


env_secret = _env_secret
"""Public name: extensions and `config/sso.yaml` secrets (``client_secret_env``) are read the same way."""


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
    """Address of the development server (PILOTIS_HOST). In demo mode, unless it is set to a
    non-loopback address, only clients of this machine are answered, whatever server runs the app."""
    port: int = 8050
    """Port of the development server."""
    lang: str = "fr"
    """Default interface language (`fr` or `en`)."""
    extra: dict[str, str] = field(default_factory=dict)
    """Other settings, for extensions."""
    cache_url: str = ""
    """Query cache (PILOTIS_CACHE_URL): empty = `file://<instance_dir>/cache` (shared by the workers
    of one machine), `redis://host:6379/0` (shared by several machines) or `memory://`."""
    cache_prefix: str = "pilotis:"
    """Prefix of every Redis key (PILOTIS_CACHE_PREFIX): several portals can share one Redis."""
    mode: str = "demo"
    """`demo` (demo users created on first start) or `production` (refuses demo secrets)."""
    secret_key: str = ""
    """Signs session cookies, CSRF tokens and display links (PILOTIS_SECRET_KEY or
    PILOTIS_SECRET_KEY_FILE). Required in production; in demo mode, when empty, a random key kept in
    `<instance_dir>/secret_key` (pilotis/instance_secret.py): no key is ever published."""
    database_url: str = ""
    """SQLAlchemy URL of the users/audit database; empty: `sqlite:///<instance_dir>/pilotis.db`."""
    session_minutes: float = 60
    """Idle time after which a session expires (each request renews it); `0.1` = 6 s (tests)."""
    session_max_hours: float = 12
    """Absolute lifetime of a session, whatever the activity (PILOTIS_SESSION_MAX_HOURS)."""
    secure_cookies: bool = False
    """Cookies sent over HTTPS only (PILOTIS_HTTPS=1 when the portal is served over HTTPS)."""
    proxies: int = 0
    """Number of trusted reverse proxies in front of the app (their X-Forwarded-* are used)."""
    login_max_failures_account: int = 5
    """Failed logins per account within `login_lockout_minutes` before the account is locked."""
    login_max_failures_ip: int = 20
    """Failed logins per client address within `login_lockout_minutes` before it is locked."""
    login_lockout_minutes: int = 15
    """Counting window and lockout duration of failed logins."""
    max_request_bytes: int = 1_048_576
    """Largest request body accepted (PILOTIS_MAX_REQUEST_BYTES), larger ones get HTTP 413. The
    largest body the portal itself sends is a séance refresh callback (6.9 kB in Chromium, see
    pilotis/request_limits.py): 1 MiB leaves room and stops a 50 MB body at the door."""
    export_max_rows: int = 100_000
    """Most rows a widget export may hold (PILOTIS_EXPORT_MAX_ROWS); beyond, the export is refused
    with a French message asking for a smaller territory or period (docs/exports.md)."""
    api_rate_per_minute: int = 120
    """Requests per minute allowed to each API token (PILOTIS_API_RATE_PER_MINUTE; a service
    account may have its own limit). Beyond: HTTP 429 with Retry-After."""
    log_format: str = "text"
    """Logs (PILOTIS_LOG_FORMAT): `text`, or `json` (one JSON object per line, with the request id)."""
    metrics_token: str = ""
    """Bearer token of `/metrics` (PILOTIS_METRICS_TOKEN or PILOTIS_METRICS_TOKEN_FILE); empty: `/metrics`
    answers 404 (docs/production.md explains why not « loopback only » behind a proxy)."""

    def __post_init__(self) -> None:
        if not self.cache_url:
            object.__setattr__(self, "cache_url", f"file://{self.instance_dir / 'cache'}")
        if not self.database_url:
            default = f"sqlite:///{self.instance_dir / 'pilotis.db'}"
            object.__setattr__(self, "database_url", default)

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
            "cache_url": _env_secret("PILOTIS_CACHE_URL", ""),
            "cache_prefix": os.environ.get("PILOTIS_CACHE_PREFIX", "pilotis:"),
            "mode": os.environ.get("PILOTIS_MODE", "demo").strip().lower(),
            "secret_key": _env_secret("PILOTIS_SECRET_KEY", ""),
            "database_url": _env_secret("PILOTIS_DATABASE_URL", ""),
            "session_minutes": float(os.environ.get("PILOTIS_SESSION_MINUTES", "60")),
            "session_max_hours": float(os.environ.get("PILOTIS_SESSION_MAX_HOURS", "12")),
            "secure_cookies": _env_bool("PILOTIS_HTTPS", False),
            "proxies": int(os.environ.get("PILOTIS_PROXIES", "0")),
            "login_max_failures_account": int(os.environ.get("PILOTIS_LOGIN_MAX_FAILURES_ACCOUNT", "5")),
            "login_max_failures_ip": int(os.environ.get("PILOTIS_LOGIN_MAX_FAILURES_IP", "20")),
            "login_lockout_minutes": int(os.environ.get("PILOTIS_LOGIN_LOCKOUT_MINUTES", "15")),
            "max_request_bytes": int(os.environ.get("PILOTIS_MAX_REQUEST_BYTES", "1048576")),
            "export_max_rows": int(os.environ.get("PILOTIS_EXPORT_MAX_ROWS", "100000")),
            "api_rate_per_minute": int(os.environ.get("PILOTIS_API_RATE_PER_MINUTE", "120")),
            "log_format": os.environ.get("PILOTIS_LOG_FORMAT", "text").strip().lower() or "text",
            "metrics_token": _env_secret("PILOTIS_METRICS_TOKEN", ""),
        }
        values.update(overrides)
        # Demo mode without a key: the installation's own (the server and the command line agree).
        return instance_secret.with_demo_key(cls(**values))  # type: ignore[arg-type]
