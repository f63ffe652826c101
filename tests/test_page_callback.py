"""A filter change on a dashboard page is ONE request answering every widget
(pilotis/web/wiring.py, ``_page_callback``), where it was one request per widget.

- every widget of the RSA page comes back in that one answer, each drawn for the filters;
- a failing widget shows its French message, the others their content (failure isolation);
- changing a widget's own control (the territories of the compare view) redraws that widget only;
- changing one filter redraws the widgets that read it only (``WidgetType.filters_read``), and a
  widget that ignores a filter is kept once for all its values (``render_key``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pilotis.core.access import Principal
from pilotis.core.i18n import t
from pilotis.core.widgets import WIDGET_TYPES
from pilotis.ui.portal import render_key
from pilotis.web.wiring import page_callback_ids
from tests.helpers import csrf_headers, page_callback, texts


def test_one_request_answers_every_widget(president_client: Any, portal: Any) -> None:
    rsa = portal.registry.dashboards["rsa"]
    widget_ids, _ = page_callback_ids(rsa)
    assert len(widget_ids) == 10 and "texte" not in widget_ids  # the markdown text never changes
    response = page_callback(president_client, rsa, "commune:53130", "2019")
    assert response.status_code == 200
    answer = response.get_json()["response"]
    assert set(answer) == {rsa.dom_id(w) for w in widget_ids}
    assert "1\u202f330" in json.dumps(answer[rsa.dom_id("foyers")], ensure_ascii=False)  # Laval, 2019


def test_a_failing_widget_does_not_take_the_others_down(
    president_client: Any, portal: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(widget: Any, ctx: Any) -> Any:
        raise RuntimeError("bug in a widget type")

    monkeypatch.setattr(WIDGET_TYPES["choropleth"], "render", broken)
    portal.rendered.clear()
    rsa = portal.registry.dashboards["rsa"]
    answer = page_callback(president_client, rsa, "commune:53001", "2018").get_json()["response"]
    portal.rendered.clear()
    assert t("internal_error", "fr") in texts(answer[rsa.dom_id("carte")]["children"])
    for other in ("foyers", "evolution", "communes"):
        assert t("internal_error", "fr") not in texts(answer[rsa.dom_id(other)]["children"]), other
    assert "Graph" in json.dumps(answer[rsa.dom_id("evolution")])


def test_a_widget_control_redraws_that_widget_only(president_client: Any, portal: Any) -> None:
    rsa = portal.registry.dashboards["rsa"]
    widget_ids, inputs = page_callback_ids(rsa)
    control = rsa.dom_id("comparer-t1")
    values = {rsa.dom_id("territory"): "departement:53", rsa.dom_id("period"): "2019", control: "commune:53130"}
    outputs = [{"id": rsa.dom_id(w), "property": "children"} for w in widget_ids]
    body = {
        "output": ".." + "...".join(f"{o['id']}.children" for o in outputs) + "..",
        "outputs": outputs,
        "inputs": [{"id": i, "property": p, "value": values.get(i)} for i, p in inputs],
        "changedPropIds": [f"{control}.value"],
        "state": [],
    }
    response = president_client.post(
        "/_dash-update-component",
        data=json.dumps(body),
        content_type="application/json",
        headers=csrf_headers(president_client),
    )
    assert response.status_code == 200
    assert set(response.get_json()["response"]) == {rsa.dom_id("comparer")}


def _change(client: Any, rsa: Any, values: dict[str, Any], changed: list[str]) -> dict[str, Any]:
    """The page callback as dash-renderer sends it when the filters ``changed`` were changed."""
    widget_ids, inputs = page_callback_ids(rsa)
    outputs = [{"id": rsa.dom_id(w), "property": "children"} for w in widget_ids]
    filled = {rsa.dom_id("comparer-t1"): "departement:53", rsa.dom_id("comparer-t2"): "commune:53130", **values}
    body = {
        "output": ".." + "...".join(f"{o['id']}.children" for o in outputs) + "..",
        "outputs": outputs,
        "inputs": [{"id": i, "property": p, "value": filled.get(i)} for i, p in inputs],
        "changedPropIds": [f"{rsa.dom_id(name)}.value" for name in changed],
        "state": [],
    }
    response = client.post(
        "/_dash-update-component", data=json.dumps(body), content_type="application/json", headers=csrf_headers(client)
    )
    assert response.status_code == 200
    return response.get_json()["response"]


def test_a_filter_change_redraws_the_widgets_that_read_it(president_client: Any, portal: Any) -> None:
    rsa = portal.registry.dashboards["rsa"]
    every = {rsa.dom_id(w) for w in page_callback_ids(rsa)[0]}
    first = {rsa.dom_id("territory"): "commune:53130", rsa.dom_id("period"): "2019"}
    assert set(_change(president_client, rsa, first, [])) == every  # the page's first call
    # Another commune: the compare view (its own territories), the département's spending and
    # the regional bar chart (`territory: all`) stay as they are; the others are drawn for it.
    other = {**first, rsa.dom_id("territory"): "commune:53001"}
    answer = _change(president_client, rsa, other, ["territory"])
    assert set(answer) == every - {rsa.dom_id(w) for w in ("comparer", "depenses", "comparaison")}
    assert "13 foyers" in json.dumps(answer[rsa.dom_id("foyers")], ensure_ascii=False).replace("\u202f", " ")
    # Another year: everything but what reads no year (the monthly line over every year, the
    # spending over every year) is drawn for it, the compare view included.
    year = {**other, rsa.dom_id("period"): "2018"}
    answer = _change(president_client, rsa, year, ["period"])
    assert set(answer) == every - {rsa.dom_id(w) for w in ("evolution", "depenses")}
    assert "2018" in json.dumps(answer[rsa.dom_id("comparer")])


def test_a_widget_ignoring_the_territory_is_kept_once_for_every_territory(portal: Any) -> None:
    rsa = portal.registry.dashboards["rsa"]
    principal = Principal("agent", department="solidarites", roles=frozenset({"agent"}))
    keys = {}
    for territory in ("commune:53130", "commune:53001", "epci:200083392"):
        ctx = portal.render_context(
            rsa, territory, "2019", "fr", principal=principal, controls={"t1": "departement:53"}
        )
        keys[territory] = {
            w: render_key(rsa, rsa.widget(w), ctx, principal) for w in ("comparer", "comparaison", "foyers")
        }
    assert len({k["comparer"] for k in keys.values()}) == 1
    assert len({k["comparaison"] for k in keys.values()}) == 1
    assert len({k["foyers"] for k in keys.values()}) == 3  # reads the territory: one entry each
    ctx_2018 = portal.render_context(
        rsa, "commune:53130", "2018", "fr", principal=principal, controls={"t1": "departement:53"}
    )
    assert render_key(rsa, rsa.widget("comparer"), ctx_2018, principal) != keys["commune:53130"]["comparer"]
