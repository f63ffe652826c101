"""Rendered widgets kept in the worker's memory (pilotis/ui/render_cache.py): a filter change
asked again is answered without drawing again, but never shows what the viewer may not see, nor
data older than what the data cache would serve.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from pilotis.core.widgets import WIDGET_TYPES
from pilotis.ui.portal import Portal, render_key
from tests.helpers import find_class, texts
from tests.test_widget_data import demo

LAVAL_EPCI = "200083392"


@pytest.fixture
def drawn(portal: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The widget ids actually drawn (``WidgetType.render`` called), on an empty render cache."""
    calls: list[str] = []
    portal.rendered.clear()
    for kind in {WIDGET_TYPES[name] for name in ("choropleth", "kpi", "line")}:
        original = kind.render

        def spy(widget: Any, ctx: Any, _original: Any = original) -> Any:
            calls.append(widget.id)
            return _original(widget, ctx)

        monkeypatch.setattr(kind, "render", spy)
    yield calls
    portal.rendered.clear()


def render(portal: Any, widget_id: str, territory: str, period: str | None, user: str = "president") -> str:
    rsa = portal.registry.dashboards["rsa"]
    content = portal.render_widget(rsa, rsa.widget(widget_id), territory, period, principal=demo(user))
    return json.dumps(content, sort_keys=True, default=str)


def test_the_same_filters_again_are_not_drawn_again(portal: Any, drawn: list[str]) -> None:
    first = render(portal, "carte", f"epci:{LAVAL_EPCI}", "2019")
    again = render(portal, "carte", f"epci:{LAVAL_EPCI}", "2019")
    assert again == first and drawn == ["carte"]
    other_year = render(portal, "carte", f"epci:{LAVAL_EPCI}", "2018")
    assert other_year != first and drawn == ["carte", "carte"]
    render(portal, "carte", f"epci:{LAVAL_EPCI}", "2019", user="admin")  # other roles: other links, other key
    assert drawn == ["carte", "carte", "carte"]


def test_a_viewer_with_row_rules_never_gets_another_viewer_s_rendering(portal: Any, drawn: list[str]) -> None:
    everyone = render(portal, "foyers", "departement:53", "2019")
    laval_only = render(portal, "foyers", "departement:53", "2019", user="agent.laval")  # clamped to their EPCI
    assert laval_only != everyone and drawn == ["foyers", "foyers"]
    assert render(portal, "foyers", f"epci:{LAVAL_EPCI}", "2019") != everyone
    # and the clamped rendering shows the EPCI's figure, as the president sees it for that EPCI
    president_epci = render(portal, "foyers", f"epci:{LAVAL_EPCI}", "2019")
    assert kpi_value(president_epci) == kpi_value(laval_only) != kpi_value(everyone)


def kpi_value(rendered: str) -> list[str]:
    return texts(find_class(json.loads(rendered), "pilotis-kpi-value"))


def test_a_manual_refresh_draws_again(portal: Any, drawn: list[str]) -> None:
    render(portal, "evolution", "commune:53130", None)
    portal.data.refresh("rsa_communes")
    render(portal, "evolution", "commune:53130", None)
    assert drawn == ["evolution", "evolution"]


def test_nothing_is_served_after_its_data_would_have_expired(portal: Any, drawn: list[str]) -> None:
    render(portal, "evolution", "commune:53001", None)
    entry = next(iter(portal.rendered._entries.values()))
    ttl = portal.registry.datasets["rsa_communes"].config.ttl
    assert 0 < entry.expires - portal.rendered.clock() <= ttl  # never longer than the data it was drawn from
    clock = portal.rendered.clock
    portal.rendered.clock = lambda: clock() + ttl + 1
    try:
        render(portal, "evolution", "commune:53001", None)
    finally:
        portal.rendered.clock = clock
    assert drawn == ["evolution", "evolution"]


def test_another_worker_reuses_the_rendering(portal: Any, drawn: list[str]) -> None:
    """A second Portal (another worker: its own memory, the same shared cache) draws nothing."""
    first = render(portal, "foyers", "commune:53062", "2019")
    other = Portal(portal.settings, portal.registry, portal.data)
    assert render(other, "foyers", "commune:53062", "2019") == first
    assert drawn == ["foyers"]


def test_another_configuration_or_code_is_never_served_an_old_rendering(portal: Any, drawn: list[str]) -> None:
    """After a deployment (the shared cache outlives restarts): a widget whose YAML changed, or
    drawn by other code, is drawn again."""
    rsa = portal.registry.dashboards["rsa"]
    widget = rsa.widget("foyers")
    ctx = portal.render_context(rsa, "commune:53130", "2019", principal=demo("president"))
    renamed = widget.model_copy(update={"title": "Autre titre"})
    assert render_key(rsa, widget, ctx, demo("president")) != render_key(rsa, renamed, ctx, demo("president"))
    render(portal, "foyers", "commune:53130", "2019")
    upgraded = Portal(portal.settings, portal.registry, portal.data)
    upgraded.rendered.code = "another-version"
    render(upgraded, "foyers", "commune:53130", "2019")
    assert drawn == ["foyers", "foyers"]
