"""Data-source types. Importing this package registers the built-in ones.

To add a type, write a module with a :class:`pilotis.core.sources.DataSource` subclass decorated
with :func:`pilotis.core.sources.register_source` and import it here.
"""

from data_sources import files, opendatasoft, rest, sensors, sensorthings, sql  # noqa: F401  (registration side effect)
