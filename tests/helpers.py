"""Helpers shared by tests: calling a Dash callback over HTTP like the browser does."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient

from pilotis.registry import Dashboard


def widget_inputs(dashboard: Dashboard, territory: str, period: str | None) -> list[dict[str, Any]]:
    """The inputs every widget callback of ``dashboard`` receives."""
    inputs = [
        {"id": dashboard.dom_id("territory"), "property": "value", "value": territory},
        {"id": dashboard.dom_id("period"), "property": "value", "value": period},
    ]
    if dashboard.spec.refresh:
        inputs.append({"id": dashboard.dom_id("refresh"), "property": "n_intervals", "value": 0})
    return inputs


def post_callback(client: FlaskClient, output_id: str, prop: str, inputs: list[dict[str, Any]],
                  headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """POST to ``/_dash-update-component`` exactly as dash-renderer does; returns the response."""
    body = {
        "output": f"{output_id}.{prop}",
        "outputs": {"id": output_id, "property": prop},
        "inputs": inputs,
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"] if inputs else [],
        "state": [],
    }
    return client.post("/_dash-update-component", data=json.dumps(body),
                       content_type="application/json", headers=headers or {})


def widget_content(client: FlaskClient, dashboard: Dashboard, widget_id: str, territory: str,
                   period: str | None) -> Any:
    """The children a widget callback returns (asserts HTTP 200)."""
    response = post_callback(client, dashboard.dom_id(widget_id), "children",
                             widget_inputs(dashboard, territory, period))
    assert response.status_code == 200, response.data[:500]
    return response.get_json()["response"][dashboard.dom_id(widget_id)]["children"]


def find_figures(tree: Any) -> list[dict[str, Any]]:
    """Every plotly figure (``dcc.Graph`` ``figure`` prop) inside a component tree."""
    found: list[dict[str, Any]] = []
    if isinstance(tree, dict):
        props = tree.get("props", {})
        if tree.get("type") == "Graph" and "figure" in props:
            found.append(props["figure"])
        for value in props.values() if "props" in tree else tree.values():
            found += find_figures(value)
    elif isinstance(tree, list):
        for item in tree:
            found += find_figures(item)
    return found


def texts(tree: Any) -> list[str]:
    """All strings inside a component tree, in order."""
    if isinstance(tree, str):
        return [tree]
    if isinstance(tree, dict):
        return [s for v in (tree.get("props", tree)).values() for s in texts(v)]
    if isinstance(tree, list):
        return [s for item in tree for s in texts(item)]
    return []


__all__ = ["post_callback", "widget_content", "widget_inputs", "find_figures", "texts", "json"]
