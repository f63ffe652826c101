"""The widget extension point: a base class, the registry keyed by ``type:``, and the context
a widget receives when it renders.

Built-in widgets (``layouts/``) register through :func:`register_widget`, the same path a
third-party widget takes. A widget type validates its YAML (``Config``), checks references
to columns at load time (``check``), and renders Dash components from query results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from pilotis.core.i18n import add_texts
from pilotis.core.partials import Page
from pilotis.core.schema import DatasetBase, DataWidgetBase, WidgetBase
from pilotis.core.scope import Scope

if TYPE_CHECKING:
    from dash.development.base_component import Component

    from pilotis.core.registry import Dashboard

WIDGET_TYPES: dict[str, type[WidgetType]] = {}
"""Registered widget types, keyed by YAML ``type:`` (filled at import time only)."""


def register_widget(cls: type[WidgetType]) -> type[WidgetType]:
    """Class decorator: make a widget type available as ``type: <name>`` (one or several names),
    with the interface texts it declares (``texts``)."""
    add_texts(cls.texts, owner=cls.__name__)
    for name in cls.type_names:
        WIDGET_TYPES[name] = cls
    return cls


def seance_default(type_name: str) -> bool:
    """True when a séance shows widgets of this type without being told (``WidgetType.projected``)."""
    found = WIDGET_TYPES.get(type_name)
    return found.projected if found is not None else True


def seance_graph(type_name: str) -> bool:
    """True when a widget of this type is a graph that a séance projects (``WidgetType.graph``)."""
    found = WIDGET_TYPES.get(type_name)
    return found.graph if found is not None else False


def labelled(
    frame: pd.DataFrame, labels: dict[str, str], *, exact: bool = True, units: dict[str, str] | None = None
) -> pd.DataFrame:
    """``frame`` carrying the labels of its columns and whether the data could be cut at the
    chosen territory (``frame.attrs['labels']``, ``frame.attrs['exact']``): what ``data()`` returns.
    ``units``: the unit of value columns (``frame.attrs['units']``, see :func:`unit_of`), written
    in the column headers of exports."""
    frame.attrs["labels"] = {column: labels.get(column, column) for column in frame.columns}
    frame.attrs["exact"] = exact
    frame.attrs["units"] = {column: unit for column, unit in (units or {}).items() if unit}
    return frame


def unit_of(fmt: str, unit: str = "") -> str:
    """The unit of values written in the format ``fmt``: `€` for `euro`, `%` for `percent` (a
    0–1 fraction shown as a percentage), else ``unit`` (`foyers`)."""
    return {"euro": "€", "percent": "%"}.get(fmt, unit)


@dataclass
class CheckContext:
    """What a widget's load-time check can look at."""

    datasets: dict[str, DatasetBase]
    columns: dict[str, set[str]]
    module: Any
    problems: list[tuple[tuple[str | int, ...], str, str]] = field(default_factory=list)
    module_failed: bool = False
    """True when the dashboard's callbacks module exists but could not be imported (already reported)."""
    indicators: dict[str, Any] = field(default_factory=dict)
    """Valid indicators (``config/indicators/``) by id (:class:`pilotis.core.indicators.Indicator`)."""
    failed_indicators: set[str] = field(default_factory=set)
    """Indicators declared but invalid (already reported: their users are not reported again)."""

    def problem(self, loc: tuple[str | int, ...], message: str, hint: str = "") -> None:
        """Record a problem at ``loc`` (relative to the widget)."""
        self.problems.append((loc, message, hint))


@dataclass(kw_only=True)
class RenderContext(Scope):
    """What a widget sees when it renders: a :class:`~pilotis.core.scope.Scope` (filters chosen,
    data, access rules, language, the widget's controls) and the dashboard it is drawn on."""

    dashboard: Dashboard

    def __post_init__(self) -> None:
        # On a page with a period filter, no year chosen means « toute la période ».
        self.all_years = self.dashboard.spec.filters.period is not None

    @classmethod
    def of(cls, scope: Scope, dashboard: Dashboard) -> RenderContext:
        """``scope`` as seen by a widget of ``dashboard`` (itself when it already is)."""
        if isinstance(scope, RenderContext) and scope.dashboard is dashboard:
            return scope
        return cls(**{f.name: getattr(scope, f.name) for f in fields(Scope)}, dashboard=dashboard)

    def page(self) -> Page:
        """The KPIs drawn on the same dashboard (an evaluation shares their queries)."""
        return Page.of(self.registry, self.dashboard.widgets)


class WidgetType:
    """Base of every widget type. Subclasses set ``type_names`` and ``Config``."""

    type_names: ClassVar[tuple[str, ...]]
    Config: ClassVar[type[WidgetBase]]
    texts: ClassVar[dict[str, dict[str, str]]] = {}
    """Interface texts of the type, ``{key: {"fr": …, "en": …}}``, added to
    :data:`pilotis.core.i18n.TEXTS` when the type is registered (``t(key, lang)``)."""
    projected: ClassVar[bool] = True
    """Shown on a séance slide when the séance item does not list its widgets (False: unreadable
    or static from 5 m away, like a table or a text; an item may still list it)."""
    graph: ClassVar[bool] = False
    """The content is one graph: a séance projects its figure restyled for a room."""
    cacheable: ClassVar[bool] = True
    """The content depends only on the filters, the viewer's rights and the data read through
    the DataService: a rendering may be kept (``pilotis.ui.render_cache``). False when it may
    read anything else (a custom function)."""

    @classmethod
    def columns_used(cls, widget: WidgetBase) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """(location, column) pairs that must exist in the widget's dataset."""
        return iter(())

    @classmethod
    def measures_used(cls, widget: WidgetBase) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """(location, measure text) pairs to parse and check."""
        return iter(())

    @classmethod
    def check(cls, widget: WidgetBase, ctx: CheckContext) -> None:
        """Extra load-time checks (beyond columns and measures)."""

    @classmethod
    def bind(cls, widget: WidgetBase, ctx: CheckContext) -> WidgetBase | None:
        """The widget completed from what it references (a KPI from its indicator), before it is
        checked; None when a reference is unknown (reported through ``ctx.problem``)."""
        return widget

    @classmethod
    def indicators_used(cls, widget: WidgetBase) -> tuple[str, ...]:
        """Ids of the indicators the widget shows (access: a synthesis dashboard shows a widget
        only to people who may see all of them)."""
        return ()

    @classmethod
    def inputs(cls, widget: WidgetBase) -> tuple[tuple[str, str], ...]:
        """The widget's own controls, as ``(name, property)``: component ``<dashboard>--<widget
        id>-<name>``, drawn by :meth:`controls`; their values reach ``RenderContext.controls``."""
        return ()

    @classmethod
    def controls(cls, widget: WidgetBase, dom_id: Callable[[str], str], options: Any, lang: str) -> Component | None:
        """The components of :meth:`inputs` (above the widget's content); ``dom_id(name)`` gives
        their ids, ``options`` is what the page offers the user (territory choices…)."""
        return None

    @classmethod
    def data(cls, widget: WidgetBase, scope: Scope) -> pd.DataFrame:
        """The data the widget shows for ``scope`` (filters and row rules applied), computed
        without drawing: exports, the JSON API and alerts read it; :meth:`render` draws from it.

        The frame's ``attrs['labels']`` names its columns in the interface language (labels of
        the dataset's columns), ``attrs['exact']`` is False when the data does not go down to the
        chosen territory (see :func:`labelled`). Default: an empty frame, for a widget that shows
        no data (a text, a section heading). Raises ``RowsDenied`` / ``SourceError`` like a query.
        """
        return labelled(pd.DataFrame(), {})

    @classmethod
    def render(cls, widget: WidgetBase, ctx: RenderContext) -> Component | list[Component]:
        """The widget's content for the current filters."""
        raise NotImplementedError

    @classmethod
    def is_static(cls, widget: WidgetBase) -> bool:
        """True when the content does not depend on filters (rendered once, no callback)."""
        return False

    @classmethod
    def filters_read(cls, widget: WidgetBase) -> frozenset[str]:
        """The page filters the content depends on, among ``territory`` and ``period``: a filter
        change that touches none of them leaves the widget as it is (no request work, nothing
        sent), and its rendering is kept under the values of these only
        (:func:`pilotis.ui.portal.render_key`). Default: both, but a data widget declared
        ``territory: all`` / ``period: all`` reads neither the chosen territory nor the chosen
        year (:meth:`pilotis.core.scope.Scope.filters`, the evaluator's ``territory_all`` and
        ``all`` mode). A type whose content reads a filter another way must say so here."""
        read = {"territory", "period"}
        if isinstance(widget, DataWidgetBase):
            if widget.territory == "all":
                read.discard("territory")
            if widget.period == "all":
                read.discard("period")
        return frozenset(read)
