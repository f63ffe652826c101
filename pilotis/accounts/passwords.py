"""Password hashing with Argon2id (argon2-cffi).

Parameters: OWASP's recommended Argon2id configuration (19 MiB, 2 iterations, 1 lane) — about
50 ms per check on a small server, and a bounded memory cost per concurrent login (argon2-cffi's
default, 64 MiB × 4 lanes, took ~0.5 s on a loaded 2-CPU machine and is a denial-of-service
lever). Hashes made with other parameters are upgraded at the next successful login.

:func:`verify` takes the same time whether or not the account exists: for an unknown user it
checks the password against a dummy hash made with the same parameters, so that the response
time of a login does not tell an attacker which user names exist.
"""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
"""Minimum length of a password set from the command line (ANSSI: 12 characters or more)."""


TIME_COST = 2
MEMORY_KIB = 19 * 1024
PARALLELISM = 1


# One per process, from constants: no user data (the dummy hash below is the same for everyone by design).
@functools.cache
def hasher() -> PasswordHasher:
    """The Argon2id hasher (immutable: safe to share between threads)."""
    return PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM)


DUMMY_HASH = "$argon2id$v=19$m=19456,t=2,p=1$MkelMBRayJtldhAlw5PvBA$6q7iwvhAHBNwgm7sRnd5Br8iFiF149Ug66OsYSGjbZ8"
"""What the password of an unknown user is checked against: the hash of a random password nobody
kept, made with the parameters above (``tests/test_security.py`` checks they are current). A
constant rather than a hash made at each start: 40 ms of CPU at every worker start.
It is no credential: :func:`verify` refuses an unknown user whatever the password."""


@functools.cache
def _dummy_hash() -> str:
    """:data:`DUMMY_HASH`, or a hash made once per process if the parameters have changed since."""
    return stored_or_new(DUMMY_HASH, secrets.token_urlsafe(24))


def stored_or_new(stored: str, password: str) -> str:
    """``stored`` (a hash of ``password`` kept in the code), or a new hash of ``password`` when the
    parameters have changed since it was made: no hashing at start while they are current."""
    return hash_password(password) if needs_rehash(stored) else stored


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` (salted, with its parameters)."""
    return hasher().hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; ``None`` (unknown user) costs the same."""
    try:
        return hasher().verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's (rehash after login)."""
    try:
        return hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def check_strength(password: str) -> str | None:
    """A French reason why ``password`` is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"le mot de passe doit contenir au moins {MIN_LENGTH} caractères"
    if password.strip() != password:
        return "le mot de passe ne doit pas commencer ni finir par une espace"
    if len(set(password)) < 4:
        return "le mot de passe est trop répétitif"
    return None
