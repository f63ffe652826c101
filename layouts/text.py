"""Markdown text block (static: rendered once with the page)."""

from __future__ import annotations

from typing import Literal

from dash import dcc

from pilotis.core.schema import WidgetBase
from pilotis.core.widgets import RenderContext, WidgetType, register_widget


class MarkdownConfig(WidgetBase):
    """A block of text written in Markdown (no HTML)."""

    type: Literal["markdown"] = "markdown"
    """Type de widget : `markdown`."""
    text: str
    """Texte en Markdown : titres, listes, liens, gras."""


@register_widget
class Markdown(WidgetType):
    """Markdown widget."""

    type_names = ("markdown",)
    Config = MarkdownConfig
    projected = False  # a séance shows it only when an item lists it

    @classmethod
    def is_static(cls, widget: WidgetBase) -> bool:
        return True

    @classmethod
    def render(cls, widget: MarkdownConfig, ctx: RenderContext | None = None):  # type: ignore[override]
        return dcc.Markdown(widget.text, dangerously_allow_html=False, className="pilotis-markdown")
