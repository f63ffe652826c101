"""The built-in widget and source types, registered the way a third-party package would be.

Importing ``layouts`` and ``data_sources`` runs their ``@register_widget`` / ``@register_source``
decorators (datasette registers its own defaults as plugins in the same way). The engine never
imports them itself (``pilotis.core`` sits below them): the app factory (``app.py``) and the
command line call :func:`register_builtins` before loading a configuration.
"""

from __future__ import annotations

import data_sources
import layouts
from pilotis.core.sources import SOURCE_TYPES
from pilotis.core.widgets import WIDGET_TYPES

BUILTIN_PACKAGES = (layouts, data_sources)
"""The packages whose import registers the shipped types (imported above, once per process)."""


def register_builtins() -> tuple[int, int]:
    """Make the shipped widget and source types known; returns how many of each are registered.

    Registration happens when the packages are imported (at the top of this module); calling
    this function says so where it matters and is idempotent.
    """
    return len(WIDGET_TYPES), len(SOURCE_TYPES)
