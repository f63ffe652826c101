"""The secret key of demo mode: random, generated once per installation, kept in the instance folder.

Demo mode needs no set-up (``make run``), yet its key must not be published: a key in the source
lets anyone who reaches the portal forge a session for any account, admin included, or a display
link. So the first start writes ``<instance_dir>/secret_key`` (64 random characters, mode 0600,
never committed: ``instance/`` is in ``.gitignore``) and every later start, every worker of the
installation and the command line (``display-link create``) read the same file. Production mode
never uses it: it requires ``PILOTIS_SECRET_KEY`` (or ``PILOTIS_SECRET_KEY_FILE``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from pilotis.core.errors import StartupError

if TYPE_CHECKING:
    from pilotis.core.settings import Settings

log = logging.getLogger(__name__)

KEY_FILE = "secret_key"
"""Name of the key file in the instance folder."""


def _read(path: Path) -> str | None:
    """The key stored at ``path`` (None when absent); tightens loose permissions first."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("clé de démonstration %s lisible par d'autres comptes : droits ramenés à 0600", path)
        os.chmod(path, 0o600)
    key = path.read_text(encoding="utf-8").strip()
    if not key:
        raise StartupError(
            f"le fichier de clé secrète {path} est vide. Supprimez-le : une nouvelle clé sera créée "
            "au prochain démarrage (les sessions et les liens d'affichage en cours seront perdus)."
        )
    return key


def demo_secret_key(instance_dir: Path) -> str:
    """The installation's key in ``instance_dir``, created (0600) by the first caller.

    Several workers may start at once: each writes a candidate to a private temporary file and
    hard-links it to ``secret_key``; a link never replaces an existing file, so exactly one
    candidate wins, it is complete when it appears, and every worker then reads that one.
    """
    path = instance_dir / KEY_FILE
    key = _read(path)
    if key is not None:
        return key
    instance_dir.mkdir(parents=True, exist_ok=True)
    fd, candidate = tempfile.mkstemp(dir=instance_dir, prefix=".secret_key-")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(candidate, path)
            log.warning("mode démonstration : clé secrète aléatoire créée dans %s", path)
        except FileExistsError:
            pass  # another worker or instance of this installation created it first: use theirs
        except OSError as exc:
            raise StartupError(
                f"impossible de créer la clé secrète de démonstration {path} ({exc.strerror}). "
                "Définissez PILOTIS_SECRET_KEY ou un dossier PILOTIS_INSTANCE_DIR accessible en écriture."
            ) from None
    finally:
        os.unlink(candidate)
    stored = _read(path)
    assert stored is not None  # the link above, or the one that beat it
    return stored


def with_demo_key(settings: Settings) -> Settings:
    """``settings`` with the installation's key when demo mode was given no key; else unchanged."""
    if settings.mode != "demo" or settings.secret_key:
        return settings
    return dataclasses.replace(settings, secret_key=demo_secret_key(settings.instance_dir))
