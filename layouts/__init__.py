"""Widget types. Importing this package registers the built-in ones.

To add a widget type, write a module with a :class:`pilotis.core.widgets.WidgetType` subclass
decorated with :func:`pilotis.core.widgets.register_widget` and import it here (CONTRIBUTING.md
walks through one, with its test). ``pilotis.plugins.register_builtins`` imports this package.
"""

from layouts import charts, compare, custom, kpi, maps, section, table, text  # noqa: F401  (registration)
