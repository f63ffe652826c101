"""The first paint of a page, as plain HTML in the index document (before any JavaScript runs).

A Dash page is drawn by React after ≈ 700 kB of JavaScript has loaded and run, and after two
round trips (the layout, then the page's content): on a phone under Lighthouse the first
dashboard text appeared after 7 s. The index page now carries the same page as static HTML: the
header and navigation, the title, the description, the filters, every widget's frame with its
title, the static texts, and a reserved box where each widget's data will be drawn. It is built
from the very component trees Dash renders (:func:`pilotis.ui.pages.shell`,
:func:`~pilotis.ui.pages.dashboard_page`, :func:`~pilotis.ui.pages.home`), so it has the same
structure and size.

This copy is ``inert`` (no focus, no clicks, hidden from assistive technologies: nothing in it
works yet) and has no ``id`` (the live page's ids stay unique, and scripts that look up an id
find the live element). The live page is laid out underneath it, invisible, and
``assets/pilotis-first-paint.js`` removes the copy and shows the live page once its widgets have
their data and their charts are drawn: nothing moves when one replaces the other.

Only pages the user may see get one: the same ``access.can_view`` as the router; no audit row
(the router writes the page view).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from dash.development.base_component import Component

from pilotis.ui.static_html import (
    DATA_HTML,
    HTML_NAMESPACE,
    STATIC_CLASS,
    attributes,
    element,
    props_of,
    without_ids,
)

FIRST_PAINT_CLASS = "pilotis-first-paint"
"""The class of the static copy (assets/pilotis-first-paint.css, .js)."""
BODY_CLASS = "pilotis-ssr"
"""The body's class while the static copy is shown (the live page is laid out, invisible)."""


def _children(children: Any, path: str) -> str:
    if children is None or children is False:
        return ""
    if isinstance(children, Component):
        return render(children, path)
    if isinstance(children, (list, tuple)):
        return "".join(_children(child, path) for child in children)
    return escape(str(children))


def _col_classes(props: dict[str, Any]) -> str:
    classes = []
    for size in ("xs", "sm", "md", "lg", "xl", "xxl"):
        value = props.get(size)
        if value is None:
            continue
        infix = "" if size == "xs" else f"-{size}"
        classes.append(f"col{infix}" if value is True else f"col{infix}-{value}")
    width = props.get("width")
    if width is not None and props.get("xs") is None:
        classes.append(f"col-{width}")
    return " ".join(classes) or "col"


def _options(props: dict[str, Any]) -> str:
    """The chosen option only: the copy cannot be opened, and a territory list has 250 options."""
    options = [o if isinstance(o, dict) else {"label": o, "value": o} for o in props.get("options") or []]
    chosen = [o for o in options if o.get("value") == props.get("value")] or options[:1]
    return "".join(f"<option selected>{escape(str(o.get('label')))}</option>" for o in chosen)


def _bootstrap(kind: str, props: dict[str, Any], inner: str, path: str) -> str:
    """dash-bootstrap-components 2.0.4's markup for the few components the pages use."""
    if kind == "Container":
        return element("div", props, inner, "container-fluid" if props.get("fluid") else "container")
    if kind == "Row":
        return element("div", props, inner, "row")
    if kind == "Col":
        return element("div", props, inner, _col_classes(props))
    if kind == "Nav":
        return element("div", props, inner, "nav")
    if kind == "NavItem":
        return element("div", props, inner, "nav-item")
    if kind == "NavLink":
        current = props.get("active") == "exact" and props.get("href") == path
        extra = {"aria-current": "page"} if current else {}
        return element("a", {**props, **extra}, inner, "nav-link active" if current else "nav-link")
    if kind == "Label":
        return element("label", props, inner, "form-label")
    if kind == "Select":
        return element("select", props, _options(props), "form-select")
    if kind in ("Card", "CardBody"):
        return element("div", props, inner, "card" if kind == "Card" else "card-body")
    return inner


def _core(kind: str, props: dict[str, Any], inner: str) -> str:
    """dcc components: the input's box, a graph's empty box; nothing for the invisible ones."""
    if kind == "Input":
        box = "dash-input-container dash-input" + (" dash-input-hidden" if props.get("type") == "hidden" else "")
        field = {k: v for k, v in props.items() if k in ("type", "name", "placeholder")}  # no value (CSRF)
        field_html = f"<input{attributes(field, 'dash-input-element')}>"
        return element("div", {"className": props.get("className")}, field_html, box)
    if kind == "Graph":
        return element("div", {"className": props.get("className")}, "", "dash-graph")
    if kind in ("Location", "Interval", "Store", "Download"):
        return ""
    return inner  # Loading and anything else: its children


def render(component: Component, path: str = "") -> str:
    """``component`` as static HTML: the markup Dash draws for it, without ids. ``path``: the
    page's address (the navigation link to it is marked current)."""
    props = props_of(component)
    inner = _children(getattr(component, "children", None), path)
    namespace = getattr(component, "_namespace", "")
    kind = getattr(component, "_type", "")
    if namespace == HTML_NAMESPACE and STATIC_CLASS in str(props.get("className") or "").split():
        # a static block (pilotis.ui.static_html): its markup, without ids; not its data-html again
        inner = without_ids(str(props.pop(DATA_HTML, "")))
    if namespace == HTML_NAMESPACE:
        return element(kind.lower(), props, inner)
    if namespace == "dash_bootstrap_components":
        return _bootstrap(kind, props, inner, path)
    return _core(kind, props, inner)


def with_page(shell: Component, page: Component | Iterable[Component]) -> Component:
    """``shell`` with ``page`` inside its ``#page`` element (where the router puts it)."""

    def visit(node: Any) -> bool:
        if not isinstance(node, Component):
            return any(visit(child) for child in node) if isinstance(node, (list, tuple)) else False
        if getattr(node, "id", None) == "page":
            node.children = page
            return True
        return visit(getattr(node, "children", None))

    visit(shell)
    return shell


VIEW_BOX = re.compile(r'viewBox="\s*[-\d.]+[\s,]+[-\d.]+[\s,]+([\d.]+)[\s,]+([\d.]+)\s*"')


@cache
def _svg_ratio(file: Path) -> float | None:
    """Width / height of an SVG file (its viewBox), or None."""
    try:
        found = VIEW_BOX.search(file.read_text(encoding="utf-8", errors="replace")[:2000])
    except OSError:
        return None
    return float(found.group(1)) / float(found.group(2)) if found and float(found.group(2)) else None


def _size_images(node: Any, assets: Path) -> None:
    """Give an ``/assets/….svg`` image drawn at a given height (the collectivité's logo) its width:
    before the file arrives the browser does not know it, and the header moved when it did."""
    if isinstance(node, (list, tuple)):
        for child in node:
            _size_images(child, assets)
        return
    if not isinstance(node, Component):
        return
    src, height = getattr(node, "src", None), getattr(node, "height", None)
    if getattr(node, "_type", "") == "Img" and isinstance(src, str) and src.startswith("/assets/") and height:
        ratio = _svg_ratio(assets / src[len("/assets/") :]) if src.endswith(".svg") else None
        if ratio and getattr(node, "width", None) is None and str(height).isdigit():
            setattr(node, "width", str(round(int(height) * ratio)))  # noqa: B010 - not in Component's annotation
    _size_images(getattr(node, "children", None), assets)


def document(shell: Component, path: str, assets: Path) -> str:
    """The static copy of the page put in front of Dash's app entry (``assets``: the folder)."""
    _size_images(shell, assets)
    return f'<div class="{FIRST_PAINT_CLASS}" inert>{render(shell, path)}</div>'


BUNDLE_ATTRIBUTE = "data-pilotis-src"
"""The address of each of Dash's scripts on an inert ``<template>`` (:func:`deferred`): what the
loader appends; Dash's index check also looks for a ``src="…dash-renderer…"``."""
RENDERER = (
    "(function(){var started=false;function start(){if(started){return;}started=true;"
    'var last=null;document.querySelectorAll("[data-pilotis-src]").forEach(function(carrier){'
    'var script=document.createElement("script");script.src=carrier.getAttribute("data-pilotis-src");'
    "script.async=false;document.body.appendChild(script);last=script;});"
    "function run(){window.renderer=new DashRenderer();}"
    'if(last){last.addEventListener("load",run);}else{run();}}'
    "function painted(){requestAnimationFrame(function(){setTimeout(start,0);});}"
    "var types=window.PerformanceObserver&&PerformanceObserver.supportedEntryTypes||[];"
    'if(document.visibilityState==="hidden"){start();}'
    'else if(types.indexOf("paint")>=0){'
    'new PerformanceObserver(function(list,observer){if(list.getEntriesByName("first-contentful-paint").length){'
    'observer.disconnect();start();}}).observe({type:"paint",buffered:true});'
    "setTimeout(start,3000);}"
    "else{painted();setTimeout(start,300);}})();"
)
"""Dash's start-up line (``var renderer = new DashRenderer();``) behind a loader: once the
browser has painted the page's text (its ``first-contentful-paint`` entry; at most 3 s later;
after the first frame where paint entries do not exist; at once in a hidden tab, which does not
paint), it appends Dash's scripts in their order (``async = false``: run in order) and starts
the renderer after the last one. Their ≈ 650 kB are not requested before that paint: on a slow
phone link they competed with the page's HTML and style sheets (preloaded, Lighthouse's mobile
largest paint was 5.2 s, 2.3 s without). Inline, allowed by its hash like Dash's own
(``Dash.csp_hashes`` reads ``app.renderer``); the scripts come from this site (``script-src
'self'``)."""


UNUSED_BUNDLES = ("/dash/deps/polyfill@", "/dash/dash_table/bundle.")
"""Bundles Dash links into every page that no Pilotis page needs (30 + 9 kB on the wire):
``@babel/polyfill`` (core-js 2 for browsers without ES2015-2017; it also replaces some native
functions, e.g. ``String.prototype.trim``, by slower copies; the ``regeneratorRuntime`` that
Dash's lazy components call is set by dash-bootstrap-components' bundle) and
``dash_table`` (``DataTable`` is no longer used: layouts/html_table.py)."""


def deferred(scripts: str) -> str:
    """Dash's ``<script src>`` tags as inert ``<template data-pilotis-src>``, without
    :data:`UNUSED_BUNDLES`: :data:`RENDERER` requests and runs them once the page's HTML is
    painted. With ``defer`` they ran before the first paint whenever they had arrived by the
    end of parsing (a fast server, a loaded machine): on a phone the page's HTML showed only
    after ≈ 1 s of JavaScript."""
    kept = [line for line in scripts.split("\n") if not any(bundle in line for bundle in UNUSED_BUNDLES)]
    links = []
    for line in kept:
        found = SCRIPT_SRC.fullmatch(line.strip())
        links.append(f'<template {BUNDLE_ATTRIBUTE}="{found.group(1)}"></template>' if found else line)
    return "\n".join(links)


SCRIPT_SRC = re.compile(r'<script(?: defer)? src="([^"]+)"></script>')
"""One of Dash's script tags (``{%scripts%}``: one per line; inline scripts are kept as they are)."""


PLOTLY = "vendor/plotly/plotly-pilotis.min.js"
"""plotly.js (partial bundle), under assets/: not linked into pages (app.py ``assets_ignore``),
loaded by assets/pilotis-lazy-charts.js when a chart comes into view."""
PLOTLY_IGNORED = r"plotly-pilotis\.min\.js$"
"""``Dash(assets_ignore=…)``: the bundle is served, not linked."""


def plotly_meta(assets_folder: Path) -> str:
    """The ``<meta>`` naming plotly.js's versioned address (``?m=``: cached for a year, as Dash's
    own links to assets; a rebuilt bundle gets a new address)."""
    bundle = assets_folder / PLOTLY
    if not bundle.is_file():  # a project without the portal's assets (tests, an extension's own root)
        return ""
    version = bundle.stat().st_mtime
    return f'<meta name="pilotis-plotly" content="/assets/{PLOTLY}?m={version}">'
