"""Parts of a page that never change, sent as one HTML string instead of one Dash component per tag.

dash-renderer runs its selectors and loading reducer for every component in its layout store on
every store update: on /rsa ≈ 650 components (the « Télécharger » menus, the source lines, the
tables' captions and sort buttons…) were about half of a phone's main-thread work at load. What
no callback reads or writes needs no component: :func:`static` turns such a subtree of
``dash.html`` components into one ``<div class="pilotis-static" data-html="…">`` and
``assets/pilotis-static.js`` writes the markup inside it (plain DOM, as
``assets/pilotis-table.js`` does for table rows). The HTML is built here from components, every
text and attribute escaped; nothing in it runs (CSP: no inline script or style, so ``style`` is
refused here). The first paint (:mod:`pilotis.web.first_paint`) writes the same markup, ids left
out.

Only ``dash.html`` components: a ``dcc`` or ``dbc`` component needs React. Code that builds a
static block on every filter change (the « Voir les données » tables) writes :class:`Tag` elements
instead: the same markup, without Dash's validating constructor for each element.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from dash import html
from dash.development.base_component import Component

HTML_NAMESPACE = "dash_html_components"
STATIC_CLASS = "pilotis-static"
"""The class of a static block (assets/pilotis-static.js fills it from its ``data-html``)."""
DATA_HTML = "data-html"
VOID = frozenset({"area", "br", "col", "hr", "img", "input", "wbr"})
ATTRIBUTES = {
    "className": "class",
    "htmlFor": "for",
    "tabIndex": "tabindex",
    "hrefLang": "hreflang",
    "colSpan": "colspan",
    "rowSpan": "rowspan",
}
"""Dash prop names that differ from their HTML attribute."""
KEPT = frozenset(
    {"href", "src", "alt", "title", "lang", "role", "scope", "height", "width", "type", "name", "action", "method"}
    | {"open", "hidden", "disabled", "dir", "headers", "abbr", "datetime", "placeholder", "rel", "target", "download"}
)
"""HTML attributes copied as they are (besides ``id``, ``aria-*``, ``data-*`` and ``tabindex``)."""
ID_REFERENCES = frozenset({"for", "aria-labelledby", "aria-describedby", "aria-controls", "aria-owns", "headers"})
"""Attributes naming an id: left out with the ids (the first paint's copy has none)."""
ID_ATTRIBUTES = re.compile(rf' (?:{"|".join(sorted({"id", *ID_REFERENCES}))})="[^"]*"')
"""``id="…"`` and the like in :func:`markup`'s output (values are escaped: no ``"`` inside)."""


URL_ATTRIBUTES = frozenset({"href", "src", "action"})
"""Attributes holding an address: only a relative one or http(s)/mailto/tel is written."""
_SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):")


def _safe_url(value: str) -> bool:
    """``value`` is relative or uses a scheme that cannot run code (not ``javascript:``, ``data:``…)."""
    scheme = _SCHEME.match("".join(value.split()))  # browsers ignore spaces and tabs in a scheme
    return scheme is None or scheme.group(1).lower() in ("http", "https", "mailto", "tel")


def attributes(props: dict[str, Any], extra_class: str = "", *, ids: bool = False) -> str:
    """``props`` as an HTML attribute string (leading space); ``ids``: keep ``id`` and the
    attributes naming one. ``style`` gives only ``hidden`` (``display: none``)."""
    parts: list[str] = []
    classes = " ".join(c for c in (extra_class, props.get("className") or "") if c)
    if classes:
        parts.append(f'class="{escape(classes)}"')
    style = props.get("style") or {}
    hidden = props.get("hidden") or style.get("display") == "none"
    for name, value in sorted(props.items()):  # the same markup in every worker (Dash's order varies)
        attribute = ATTRIBUTES.get(name, name)
        if attribute in ("class", "hidden", "children") or value is None or value is False:
            continue
        if attribute == "id" or attribute in ID_REFERENCES:
            if not ids:
                continue
        elif not (attribute in KEPT or attribute.startswith(("aria-", "data-")) or attribute == "tabindex"):
            continue
        if attribute in URL_ATTRIBUTES and not _safe_url(str(value)):
            continue  # React refuses a `javascript:` address in an href; innerHTML would not
        parts.append(attribute if value is True else f'{attribute}="{escape(str(value))}"')
    if hidden:
        parts.append("hidden")
    return (" " + " ".join(parts)) if parts else ""


def element(tag: str, props: dict[str, Any], inner: str, extra_class: str = "", *, ids: bool = False) -> str:
    """One element's markup around ``inner`` (already HTML)."""
    opening = attributes(props, extra_class, ids=ids)
    if tag in VOID:
        return f"<{tag}{opening}>"
    return f"<{tag}{opening}>{inner}</{tag}>"


class Tag:
    """An element of a static block, written by :func:`markup` exactly as the ``dash.html``
    component of the same name and props (``Tag("th", name, scope="col", className="text-end")``
    is ``html.Th(name, scope="col", className="text-end")``): props in Dash's names
    (``className``, ``tabIndex``, ``aria-*``, ``data-*``), the same escaping and filtering.

    Built without Dash's constructor, which validates every prop of every element: a data table
    is some thirty elements: ≈ 140 of them per filter change on /rsa. Only for markup: it is no
    Dash component (a callback cannot send it; :func:`static` can)."""

    __slots__ = ("children", "name", "props")

    def __init__(self, name: str, children: Any = None, **props: Any) -> None:
        self.name, self.children, self.props = name, children, props

    def __repr__(self) -> str:
        return f"Tag({self.name!r}, {self.children!r}, **{self.props!r})"


def props_of(component: Component) -> dict[str, Any]:
    """A component's props but its children."""
    return {k: v for k, v in component.to_plotly_json()["props"].items() if k != "children"}


def markup(children: Any) -> str:
    """``dash.html`` components or :class:`Tag` elements (a tree, a list, text) as HTML, ids
    kept; a ``style`` or a component of another library is refused (ValueError): it would not be
    drawn as written."""
    if children is None or children is False:
        return ""
    if isinstance(children, (list, tuple)):
        return "".join(markup(child) for child in children)
    if isinstance(children, Tag):
        if children.props.get("style"):
            raise ValueError(f"a style attribute is refused by the CSP: {children.props['style']}")
        return element(children.name, children.props, markup(children.children), ids=True)
    if not isinstance(children, Component):
        return escape(str(children))
    if getattr(children, "_namespace", "") != HTML_NAMESPACE:
        raise ValueError(f"not a dash.html component: {type(children).__name__}")
    props = props_of(children)
    if props.get("style"):
        raise ValueError(f"a style attribute is refused by the CSP: {props['style']}")
    inner = markup(getattr(children, "children", None))
    return element(str(getattr(children, "_type", "")).lower(), props, inner, ids=True)


def static(children: Any, class_name: str = "", **props: Any) -> html.Div:
    """``children`` (``dash.html`` components, :class:`Tag` elements) as one Dash component: a
    div whose content ``assets/pilotis-static.js`` writes from its ``data-html``. ``props``: the
    div's own attributes (``id``, ``aria-*``, ``data-*``)."""
    classes = f"{STATIC_CLASS} {class_name}".strip()
    div_props: dict[str, Any] = {DATA_HTML: markup(children), **props}
    return html.Div(className=classes, **div_props)


def without_ids(text: str) -> str:
    """Markup made by :func:`markup` without its ids and the attributes naming one (the first
    paint's copy: the live page's ids stay unique)."""
    return ID_ATTRIBUTES.sub("", text)
