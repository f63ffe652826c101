"""Custom widget: a function of the dashboard's callbacks module draws it.

The function receives the :class:`~pilotis.widgets.RenderContext` (filters, access rules and
cache already applied) and returns a plotly figure or Dash components.
"""

from __future__ import annotations

from typing import Literal

import plotly.graph_objects as go
from pydantic import Field

from layouts.common import accessible_graph, figure_layout
from pilotis.i18n import t
from pilotis.schema import DataWidgetBase
from pilotis.widgets import RenderContext, WidgetType, register_widget


class CustomConfig(DataWidgetBase):
    """A widget drawn by a Python function of the dashboard's module (`dashboards/<id>.py`)."""

    type: Literal["custom"] = "custom"
    function: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    """Nom de la fonction `f(widget, ctx)` du module ; elle renvoie une figure plotly ou des composants."""


@register_widget
class Custom(WidgetType):
    """Custom widget."""

    type_names = ("custom",)
    Config = CustomConfig

    @classmethod
    def check(cls, widget: CustomConfig, ctx) -> None:  # type: ignore[no-untyped-def, override]
        function = getattr(ctx.module, widget.function, None) if ctx.module else None
        if not callable(function):
            names = [n for n in dir(ctx.module) if not n.startswith("_")] if ctx.module else []
            from pilotis.errors import did_you_mean

            hint = did_you_mean(widget.function, names) if names else "créez le module Python du même nom que le YAML"
            ctx.problem(("function",), f"fonction `{widget.function}` introuvable dans le module du tableau de bord", hint)

    @classmethod
    def render(cls, widget: CustomConfig, ctx: RenderContext):  # type: ignore[no-untyped-def, override]
        function = getattr(ctx.dashboard.module, widget.function)
        result = function(widget, ctx)
        if isinstance(result, go.Figure):
            label = t("chart_of", ctx.lang, title=widget.title or widget.id)
            return accessible_graph(figure_layout(result, ctx.lang), label, None, ctx.lang)
        return result
