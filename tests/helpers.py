"""Helpers shared by tests: calling a Dash callback over HTTP like the browser does."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select, update

from pilotis.accounts import api_tokens
from pilotis.accounts.models import ApiToken, User
from pilotis.accounts.users import DEMO_PASSWORD
from pilotis.core.registry import Dashboard


def widget_inputs(dashboard: Dashboard, territory: str, period: str | None) -> list[dict[str, Any]]:
    """The inputs every widget callback of ``dashboard`` receives."""
    inputs = [
        {"id": dashboard.dom_id("territory"), "property": "value", "value": territory},
        {"id": dashboard.dom_id("period"), "property": "value", "value": period},
    ]
    if dashboard.spec.refresh:
        inputs.append({"id": dashboard.dom_id("refresh"), "property": "n_intervals", "value": 0})
    return inputs


def post_callback(
    client: FlaskClient, output_id: str, prop: str, inputs: list[dict[str, Any]], headers: dict[str, str] | None = None
):  # type: ignore[no-untyped-def]
    """POST to ``/_dash-update-component`` exactly as dash-renderer does; returns the response."""
    if getattr(client, "send_csrf", True):  # like dash-renderer (tests of the refusal turn it off)
        headers = {**csrf_headers(client), **(headers or {})}
    body = {
        "output": f"{output_id}.{prop}",
        "outputs": {"id": output_id, "property": prop},
        "inputs": inputs,
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"] if inputs else [],
        "state": [],
    }
    return client.post(
        "/_dash-update-component", data=json.dumps(body), content_type="application/json", headers=headers
    )


def csrf_headers(client: FlaskClient) -> dict[str, str]:
    """The ``X-CSRFToken`` header dash-renderer sends: the value of the ``_csrf_token`` cookie.

    Like a browser, a client without that cookie first loads a page (which sets it).
    """
    cookie = client.get_cookie("_csrf_token")
    if cookie is None:
        client.get("/login")
        cookie = client.get_cookie("_csrf_token")
    return {"X-CSRFToken": cookie.value} if cookie is not None else {}


def form_token(html: str) -> str:
    """The hidden ``csrf_token`` field of an HTML form."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


def login_as(client: FlaskClient, username: str, password: str = DEMO_PASSWORD, *, expect: int = 302):  # type: ignore[no-untyped-def]
    """Sign ``client`` in through the real login form (GET the form, POST it with its CSRF token)."""
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": form_token(page.get_data(as_text=True))},
    )
    assert response.status_code == expect, (username, response.status_code, response.data[:300])
    return response


def signed_in(app: Any, username: str, password: str = DEMO_PASSWORD) -> FlaskClient:
    """A test client of the Dash ``app`` signed in as ``username`` through the real login form."""
    client = app.server.test_client()
    login_as(client, username, password)
    return client


def page_callback(
    client: FlaskClient,
    dashboard: Dashboard,
    territory: str,
    period: str | None,
    controls: dict[str, dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    changed: tuple[str, ...] = (),
):  # type: ignore[no-untyped-def]
    """POST the page callback of ``dashboard`` (every widget at once, ``wiring.page_callback_ids``)
    as dash-renderer does after a filter change; returns the response. ``controls``: values of
    widgets' own controls, ``{widget id: {name: value}}``; ``changed``: the filters changed
    (``"territory"``, ``"period"``; none: the page's first call, every widget drawn)."""
    from pilotis.web.wiring import page_callback_ids

    widget_ids, inputs = page_callback_ids(dashboard)
    filters = {dashboard.dom_id("territory"): territory, dashboard.dom_id("period"): period}
    filters[dashboard.dom_id("refresh")] = 0
    owned = {
        dashboard.dom_id(f"{widget}-{name}"): value
        for widget, values in (controls or {}).items()
        for name, value in values.items()
    }
    if getattr(client, "send_csrf", True):
        headers = {**csrf_headers(client), **(headers or {})}
    outputs = [{"id": dashboard.dom_id(w), "property": "children"} for w in widget_ids]
    body = {
        "output": ".." + "...".join(f"{o['id']}.children" for o in outputs) + "..",
        "outputs": outputs,
        "inputs": [{"id": i, "property": p, "value": filters.get(i, owned.get(i))} for i, p in inputs],
        # Nothing, as on the page's first call: every widget is drawn (after a change of one
        # filter, dash-renderer names it and the widgets not reading it are left alone).
        "changedPropIds": [f"{dashboard.dom_id(name)}.value" for name in changed],
        "state": [],
    }
    return client.post(
        "/_dash-update-component", data=json.dumps(body), content_type="application/json", headers=headers
    )


def widget_content(
    client: FlaskClient,
    dashboard: Dashboard,
    widget_id: str,
    territory: str,
    period: str | None,
    controls: dict[str, Any] | None = None,
) -> Any:
    """The children a widget gets after a filter change (asserts HTTP 200). ``controls``: values
    of the widget's own controls (``WidgetType.inputs``, e.g. the territories of a compare view).
    A page's widgets answer through one page callback; a synthesis dashboard's, one by one."""
    from pilotis.core.widgets import WIDGET_TYPES

    if not dashboard.spec.overview:
        response = page_callback(client, dashboard, territory, period, {widget_id: controls or {}})
        assert response.status_code == 200, response.data[:500]
        return expand_static(response.get_json()["response"][dashboard.dom_id(widget_id)]["children"])
    inputs = widget_inputs(dashboard, territory, period)
    widget = dashboard.widget(widget_id)
    for name, prop in WIDGET_TYPES[widget.type].inputs(widget):
        inputs.append(
            {"id": dashboard.dom_id(f"{widget_id}-{name}"), "property": prop, "value": (controls or {}).get(name)}
        )
    response = post_callback(client, dashboard.dom_id(widget_id), "children", inputs)
    assert response.status_code == 200, response.data[:500]
    return expand_static(response.get_json()["response"][dashboard.dom_id(widget_id)]["children"])


VOID_TAGS = frozenset({"area", "br", "col", "hr", "img", "input", "wbr"})
PROP_NAMES = {"class": "className", "for": "htmlFor", "tabindex": "tabIndex", "colspan": "colSpan"}
"""HTML attribute -> Dash prop name, where they differ (``rowspan`` is not used by the pages)."""


class _Markup(HTMLParser):
    """HTML parsed back into Dash's JSON shape (``{"type": "H2", "props": {...}}``)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root: list[Any] = []
        self.stack: list[list[Any]] = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        props: dict[str, Any] = {PROP_NAMES.get(k, k): (True if v is None else v) for k, v in attrs}
        node = {"type": tag.capitalize(), "namespace": "dash_html_components", "props": props}
        self.stack[-1].append(node)
        if tag not in VOID_TAGS:
            props["children"] = []
            self.stack.append(props["children"])

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS or len(self.stack) == 1:
            return
        self.stack.pop()
        node = self.stack[-1][-1]["props"]  # as Dash sends it: one text as a string, none as None
        children = node["children"]
        node["children"] = None if not children else children[0] if len(children) == 1 else children

    def handle_data(self, data: str) -> None:
        self.stack[-1].append(data)


def expand_static(tree: Any) -> Any:
    """``tree`` (Dash's JSON) with each static block (pilotis.ui.static_html) holding the
    components its ``data-html`` draws, as if Dash had sent them one by one (its ``data-html`` removed)."""
    if isinstance(tree, list):
        return [expand_static(item) for item in tree]
    if not isinstance(tree, dict):
        return tree
    if "props" in tree and "data-html" in tree["props"]:
        parser = _Markup()
        parser.feed(tree["props"]["data-html"])
        props = {k: v for k, v in tree["props"].items() if k != "data-html"}
        return {**tree, "props": {**props, "children": expand_static(parser.root)}}
    return {key: expand_static(value) for key, value in tree.items()}


def router_body(pathname: str) -> dict[str, Any]:
    """The body dash-renderer posts to the router callback when the URL changes."""
    return {
        "output": "..page.children...page-title.children..",
        "outputs": [
            {"id": "page", "property": "children"},
            {"id": "page-title", "property": "children"},
        ],
        "inputs": [{"id": "url", "property": "pathname", "value": pathname}],
        "changedPropIds": ["url.pathname"],
        "state": [],
    }


def route(client: FlaskClient, pathname: str) -> Any:
    """The page content the router callback returns for ``pathname`` (asserts HTTP 200)."""
    response = client.post(
        "/_dash-update-component",
        data=json.dumps(router_body(pathname)),
        content_type="application/json",
        headers=csrf_headers(client),
    )
    assert response.status_code == 200, response.data[:300]
    return expand_static(response.get_json()["response"]["page"]["children"])


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


def _find_class(tree: Any, name: str) -> list[Any]:
    """:func:`find_class` of a tree whose static blocks are expanded."""
    found: list[Any] = []
    if isinstance(tree, dict):
        props = tree.get("props", {})
        if name in str(props.get("className", "")).split():
            found.append(tree)
        for value in props.values():
            found += _find_class(value, name)
    elif isinstance(tree, list):
        for item in tree:
            found += _find_class(item, name)
    return found


def _texts(tree: Any) -> list[str]:
    """:func:`texts` of a tree whose static blocks are expanded."""
    if isinstance(tree, str):
        return [tree]
    if isinstance(tree, dict):
        return [s for v in (tree.get("props", tree)).values() for s in _texts(v)]
    if isinstance(tree, list):
        return [s for item in tree for s in _texts(item)]
    return []


__all__ = [
    "post_callback",
    "widget_content",
    "widget_inputs",
    "find_figures",
    "texts",
    "expand_static",
    "json",
    "login_as",
    "csrf_headers",
    "route",
    "router_body",
    "form_token",
]


def _header_cells(tree: Any) -> list[dict[str, Any]]:
    """Props of the column headers (``<th scope="col">``) inside a component tree."""
    if isinstance(tree, dict):
        props = tree.get("props", {})
        found = [props] if tree.get("type") == "Th" and props.get("scope") == "col" else []
        return found + [h for v in props.values() for h in _header_cells(v)]
    if isinstance(tree, list):
        return [h for item in tree for h in _header_cells(item)]
    return []


def _html_table_rows(tree: Any) -> list[dict[str, Any]]:
    """:func:`html_table_rows` of a tree whose static blocks are expanded."""
    if isinstance(tree, dict):
        props = tree.get("props", {})
        if "data-rows" in props:
            columns = [(h["data-col"], h["data-type"]) for h in _header_cells(props.get("children"))]
            rows = []
            for cells in json.loads(props["data-rows"]):
                row: dict[str, Any] = {}
                for (column, kind), (text, key, *_) in zip(columns, cells, strict=True):  # 3rd: « < 5 »'s title
                    row[column] = (float(key) if key else None) if kind == "num" else text
                rows.append(row)
            return rows
        return [r for v in props.values() for r in _html_table_rows(v)]
    if isinstance(tree, list):
        return [r for item in tree for r in _html_table_rows(item)]
    return []


def api_token(db: Any, username: str | None = None, *, rate: int | None = 100_000, **service: Any) -> str:
    """A fresh API token: personal for ``username``, else a service account (``service`` options:
    department, roles, territory); ``rate``: its own requests per minute (tests make many calls)."""
    if username is not None:
        with db.session() as session:
            user_id = session.scalar(select(User.id).where(User.username == username))
        row, token = api_tokens.create_personal(db, user_id, f"test {username}")
    else:
        row, token = api_tokens.create_service(
            db, f"service-{service.pop('name', 'test')}", days=30, author="test", **service
        )
    with db.session() as session:
        session.execute(update(ApiToken).where(ApiToken.id == row.id).values(rate_per_minute=rate))
    return token


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of ``token``."""
    return {"Authorization": f"Bearer {token}"}


def find_class(tree: Any, name: str) -> list[Any]:
    """Components whose className contains ``name`` (static blocks' markup included)."""
    return _find_class(expand_static(tree), name)


def texts(tree: Any) -> list[str]:
    """All strings inside a component tree, in order (static blocks' markup read as components)."""
    return _texts(expand_static(tree))


def html_table_rows(tree: Any) -> list[dict[str, Any]]:
    """Every row of the data tables (layouts/html_table.py) in a callback answer, keyed by column
    id: the number behind a numeric cell (its sort key), the text shown in the others. The rows
    travel as JSON in the table box's ``data-rows``, the columns are its header cells."""
    return _html_table_rows(expand_static(tree))
