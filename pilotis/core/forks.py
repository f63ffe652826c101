"""What a process must not share with the processes it forks.

gunicorn builds the app once in its master (``preload_app``) and forks the workers from it.
A forked child is a copy of one thread of its parent: the threads of the libraries (DuckDB's
task scheduler) are gone, and a socket or file of a connection pool is shared with the parent and
the other children. Objects holding such state register here:

- ``release``: run by :func:`release_before_fork`, which the master calls before it forks
  (``pre_fork`` of :mod:`pilotis.web.worker_memory`): the master no longer needs them, it
  closes them while its threads can still end cleanly (a DuckDB database closed in the child
  crashes it, freed it hangs it);
- ``in_child``: run in every child right after a fork (:func:`os.register_at_fork`), whoever
  forked: forget what was inherited (a pool's connections, a lock a vanished thread may hold)
  without closing it, since it is the parent's.

Owners are held by weak reference: registering keeps nothing alive.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # not imported at run time: gunicorn's configuration imports this module, also
    # in the benchmark's peers (bench/peers/), whose masters must load nothing of Pilotis's stack
    from sqlalchemy import Engine

T = TypeVar("T")
E = TypeVar("E", bound="Engine")

_REGISTERED: list[tuple[weakref.ref[Any], Callable[[Any], None] | None, Callable[[Any], None] | None]] = []
_LOCK = threading.Lock()


def register(owner: T, *, release: Callable[[T], None] | None = None, in_child: Callable[[T], None] | None = None) -> T:
    """Call ``release(owner)`` before a preloading parent forks, ``in_child(owner)`` in every
    forked child, as long as ``owner`` lives; returns ``owner``."""
    with _LOCK:
        _REGISTERED[:] = [entry for entry in _REGISTERED if entry[0]() is not None]
        _REGISTERED.append((weakref.ref(owner), release, in_child))
    return owner


def _live() -> list[tuple[Any, Callable[[Any], None] | None, Callable[[Any], None] | None]]:
    return [(owner, release, in_child) for ref, release, in_child in list(_REGISTERED) if (owner := ref()) is not None]


def release_before_fork() -> None:
    """In a parent about to fork children that will not share its resources (gunicorn's master
    with ``preload_app``): close every registered resource. They are re-created on first use."""
    for owner, release, _in_child in _live():
        if release is not None:
            release(owner)


def _after_fork_in_child() -> None:
    global _LOCK
    _LOCK = threading.Lock()  # a thread of the parent may have held it: it does not exist here
    for owner, _release, in_child in _live():
        if in_child is not None:
            in_child(owner)


os.register_at_fork(after_in_child=_after_fork_in_child)


def sqlalchemy_engine(engine: E) -> E:
    """Register a SQLAlchemy engine: disposed (its connections closed) before a preloading parent
    forks; in a child, its pool forgets the parent's connections without closing them
    (``dispose(close=False)``, SQLAlchemy's « Using Connection Pools with Multiprocessing or
    os.fork() »)."""
    return register(engine, release=lambda e: e.dispose(), in_child=lambda e: e.dispose(close=False))
