"""Widget types. Importing this package registers the built-in ones.

To add a widget type, write a module with a :class:`pilotis.widgets.WidgetType` subclass
decorated with :func:`pilotis.widgets.register_widget` and import it here.
"""

from layouts import charts, compare, custom, kpi, maps, section, table, text  # noqa: F401  (registration)
