"""Custom widget: a function of the dashboard's callbacks module draws it.

The function receives the :class:`~pilotis.core.widgets.RenderContext` (filters, access rules and
cache already applied) and returns Dash components, a plotly figure, or — better for
accessibility — a ``(figure, dataframe)`` pair: the dataframe (columns already named for a
reader) is offered under the graph as a data table.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
import plotly.graph_objects as go
from pydantic import Field

from layouts.common import Fmt, accessible_graph, data_details, figure_layout
from pilotis.core.errors import did_you_mean
from pilotis.core.i18n import t
from pilotis.core.schema import DataWidgetBase
from pilotis.core.scope import Scope
from pilotis.core.widgets import RenderContext, WidgetType, labelled, register_widget


class CustomConfig(DataWidgetBase):
    """A widget drawn by a Python function of the dashboard's module (`dashboards/<id>.py`)."""

    type: Literal["custom"] = "custom"
    """Type de widget : `custom`."""
    function: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    """Nom de la fonction `f(widget, ctx)` du module ; elle renvoie des composants Dash, une figure plotly ou un couple
    `(figure, tableau pandas)` (le tableau est proposé sous le graphique)."""


@register_widget
class Custom(WidgetType):
    """Custom widget."""

    type_names = ("custom",)
    cacheable = False  # the function may read anything (the time, a file): never kept rendered
    Config = CustomConfig

    @classmethod
    def check(cls, widget: CustomConfig, ctx) -> None:  # type: ignore[override]
        if ctx.module_failed:
            return  # the module's own error is reported; its functions cannot be checked
        function = getattr(ctx.module, widget.function, None) if ctx.module else None
        if not callable(function):
            # Functions defined in the module itself (not what it imports).
            names = (
                [
                    n
                    for n, v in vars(ctx.module).items()
                    if not n.startswith("_") and callable(v) and getattr(v, "__module__", None) == ctx.module.__name__
                ]
                if ctx.module
                else []
            )
            hint = (
                did_you_mean(widget.function, names, "fonctions du module")
                if names
                else f"définissez `def {widget.function}(widget, ctx): …` dans le module Python "
                "du tableau de bord (`dashboards/<id>.py`, à côté du YAML)"
            )
            ctx.problem(
                ("function",), f"fonction `{widget.function}` introuvable dans le module du tableau de bord", hint
            )

    @classmethod
    def data(cls, widget: CustomConfig, scope: Scope) -> pd.DataFrame:  # type: ignore[override]
        """The table a function returns with its figure (``(figure, tableau)``), columns as it
        names them; an empty frame when it returns components only (their data is its own)."""
        dashboard = next(d for d in scope.registry.dashboards.values() if any(w is widget for w in d.widgets))
        result = getattr(dashboard.module, widget.function)(widget, RenderContext.of(scope, dashboard))
        if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], pd.DataFrame):
            return labelled(result[1], {})
        return labelled(pd.DataFrame(), {})

    @classmethod
    def render(cls, widget: CustomConfig, ctx: RenderContext):  # type: ignore[override]
        function = getattr(ctx.dashboard.module, widget.function)
        result = function(widget, ctx)
        frame = None
        if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], go.Figure):
            result, frame = result
        if isinstance(result, go.Figure):
            label = t("chart_of", ctx.lang, title=widget.title or widget.id)
            if widget.description:
                label += f" — {widget.description}"
            details = None
            if isinstance(frame, pd.DataFrame) and not frame.empty:
                formats: dict[str, tuple[Fmt, int]] = {
                    c: ("number", 0 if pd.api.types.is_integer_dtype(frame[c]) else 2)
                    for c in frame.columns
                    if pd.api.types.is_numeric_dtype(frame[c])
                }
                details = data_details(
                    frame,
                    {},
                    formats,
                    ctx.lang,
                    caption=widget.title or widget.id,
                )
            styled = figure_layout(
                result, ctx.lang, height=result.layout.height or 320, legend=result.layout.showlegend is not False
            )
            return accessible_graph(styled, label, details, ctx.lang)
        return result
