"""What a user may see, by kind of subject: the dashboards they may open, the indicators and the
datasets behind them, the themes of those indicators. Asked by the referents directory, the search
and the catalogue so that none of them shows what the user may not open (the decisions themselves
are :mod:`pilotis.core.access`'s; this only gathers them once per request)."""

from __future__ import annotations

from dataclasses import dataclass

from pilotis.core.access import Principal, can_view, can_view_indicator
from pilotis.ui.portal import Portal
from pilotis.web.data_catalogue import visible_datasets


@dataclass(frozen=True)
class Visible:
    """Ids the user may see, by kind (``theme``, ``dashboard``, ``indicator``, ``dataset``)."""

    ids: dict[str, frozenset[str]]

    def allows(self, kind: str, ident: str) -> bool:
        """True when the user may see the subject ``ident`` of kind ``kind`` (deny unless listed)."""
        return ident in self.ids.get(kind, frozenset())


def visible_to(portal: Portal, principal: Principal | None) -> Visible:
    """Everything ``principal`` may see (nothing for an anonymous user or a wall screen)."""
    registry = portal.registry
    if principal is None or principal.seance is not None:
        return Visible({})
    dashboards = frozenset(d.id for d in registry.ordered() if can_view(principal, d.spec))
    indicators = frozenset(i for i in registry.indicators if can_view_indicator(principal, registry, i))
    themes = {i.split(".", 1)[0] for i in indicators}
    if "admin" in principal.roles:
        themes |= {i.split(".", 1)[0] for i in registry.indicators}
    datasets = frozenset(visible_datasets(portal, principal))
    return Visible({"dashboard": dashboards, "indicator": indicators, "dataset": datasets, "theme": frozenset(themes)})
