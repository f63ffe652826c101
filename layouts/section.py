"""Section heading: groups the widgets that follow it under a theme (synthesis dashboards).

On a synthesis dashboard (``overview: true``) a section whose widgets are all hidden from the
user (indicators of dashboards they may not open) is not shown either.
"""

from __future__ import annotations

from typing import Literal

from dash import html
from dash.development.base_component import Component
from pydantic import Field

from pilotis.core.schema import SLUG, WidgetBase
from pilotis.core.widgets import CheckContext, WidgetType, register_widget


class SectionConfig(WidgetBase):
    """A heading over the widgets that follow it, up to the next section."""

    type: Literal["section"] = "section"
    """Type de widget : `section`."""
    title: str = Field(min_length=1)
    """Titre de la section (le thème : « Solidarités »)."""
    dashboard: str | None = Field(default=None, pattern=SLUG)
    """Tableau de bord thématique de la section : un lien « Ouvrir … » est affiché aux
    personnes qui peuvent l'ouvrir."""
    width: int = Field(default=12, ge=1, le=12)
    """Largeur (une section occupe toute la ligne)."""


@register_widget
class Section(WidgetType):
    """Section heading widget (static: no callback)."""

    type_names = ("section",)
    Config = SectionConfig

    @classmethod
    def check(cls, widget: SectionConfig, ctx: CheckContext) -> None:  # type: ignore[override]
        """The linked dashboard is checked with the other dashboards (``pilotis.ui.overview``)."""

    @classmethod
    def is_static(cls, widget: SectionConfig) -> bool:  # type: ignore[override]
        return True

    @classmethod
    def render(cls, widget: SectionConfig, ctx: object) -> html.Div:  # type: ignore[override]
        parts: list[Component] = [html.H2(widget.title, className="h5 mb-0")]
        if widget.description:
            parts.append(html.P(widget.description, className="small text-muted mb-0"))
        return html.Div(parts, className="pilotis-section")
