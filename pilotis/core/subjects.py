"""How the portal names and links each subject of the directory and the search: a theme, a
dashboard, an indicator, a dataset (its label, its page, the theme it belongs to)."""

from __future__ import annotations

from dataclasses import dataclass

from pilotis.core.registry import Registry

OTHER = "autres"
"""Theme of a subject no indicator ties to a theme."""


@dataclass(frozen=True)
class Subject:
    """A subject as shown in a list: its label (French, from YAML), its address, its theme."""

    kind: str
    ident: str
    label: str
    href: str
    theme: str


def _dataset_themes(registry: Registry) -> dict[str, str]:
    found: dict[str, str] = {}
    for indicator in sorted(registry.indicators.values(), key=lambda i: i.id):
        if indicator.spec.dataset:
            found.setdefault(indicator.spec.dataset, indicator.theme)
    return found


def subject(registry: Registry, kind: str, ident: str) -> Subject:
    """Label, address and theme of one subject (the ids were checked when the file loaded)."""
    if kind == "theme":
        return Subject(kind, ident, ident.capitalize(), "/indicateurs", ident)
    if kind == "indicator":
        indicator = registry.indicators[ident]
        return Subject(kind, ident, indicator.label, f"/indicateurs/{ident}", indicator.theme)
    if kind == "dashboard":
        dashboard = registry.dashboards[ident]
        shown = [i for ids in dashboard.widget_indicators.values() for i in ids]
        theme = shown[0].split(".", 1)[0] if shown else OTHER
        return Subject(kind, ident, dashboard.spec.title, dashboard.spec.url, theme)
    config = registry.datasets[ident].config
    return Subject(kind, ident, config.title, f"/donnees/{ident}", _dataset_themes(registry).get(ident, OTHER))
