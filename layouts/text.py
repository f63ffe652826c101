"""Markdown text block (static: rendered once with the page, on the server)."""

from __future__ import annotations

from typing import Literal

from dash import html

from pilotis.core.schema import WidgetBase
from pilotis.core.widgets import RenderContext, WidgetType, register_widget
from pilotis.ui.markdown import markdown_components


class MarkdownConfig(WidgetBase):
    """A block of text written in Markdown (no HTML)."""

    type: Literal["markdown"] = "markdown"
    """Type de widget : `markdown`."""
    text: str
    """Texte en Markdown : titres, listes, liens, gras."""


@register_widget
class Markdown(WidgetType):
    """Markdown widget: html components built on the server (no Markdown parser in the browser)."""

    type_names = ("markdown",)
    Config = MarkdownConfig
    projected = False  # a séance shows it only when an item lists it

    @classmethod
    def is_static(cls, widget: WidgetBase) -> bool:
        return True

    @classmethod
    def render(cls, widget: MarkdownConfig, ctx: RenderContext | None = None):  # type: ignore[override]
        return html.Div(markdown_components(widget.text), className="pilotis-markdown")
