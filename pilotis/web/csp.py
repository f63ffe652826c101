"""Content-Security-Policy of every response: scripts of this site only, Dash's inline scripts by hash.

Dash's index page carries a few inline scripts (the renderer start-up line and the clientside
callbacks, e.g. the page title in ``pilotis/web/wiring.py``); :meth:`dash.Dash.csp_hashes` gives their
sha256 hashes, so ``script-src`` needs no ``'unsafe-inline'``: an injected ``<script>`` or an
``onclick=`` attribute does not run. Nothing is loaded from another origin (the portal is
air-gapped: every bundle, font and map layer is served by the app itself).

``tests/browser/test_csp_browser.py`` opens every kind of page in Chromium and fails on any
``securitypolicyviolation`` event.
"""

from __future__ import annotations

from functools import cache

import flask
from dash import Dash

HEADER = "Content-Security-Policy"

STYLE_SRC = "'self' 'unsafe-inline'"
"""Styles: ``'unsafe-inline'`` is needed, and for styles only. Dash's own bundles insert
``<style>`` elements at run time (dash-renderer, dcc, dash_table, react-dom) and plotly.js both
inserts ``<style>`` rules and writes ``style="…"`` attributes: with ``style-src 'self'`` Chromium
reported 116 violations on /, /rsa and /seance/d/rsa and the pages were not laid out (checked
with Chromium 2026-12, Dash 4.4.1, plotly 7.1.0). A hash cannot cover styles made at run time.
An inline style cannot run code; scripts stay limited to this site and the hashed inline ones."""


def policy(script_hashes: list[str]) -> str:
    """The header value, for the hashes of the app's inline scripts."""
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", *script_hashes]),
        "style-src": STYLE_SRC,
        "img-src": "'self' data: blob:",  # plotly's mode bar icons and "download as PNG"
        "font-src": "'self' data:",
        "connect-src": "'self'",  # Dash callbacks and bundles only
        "worker-src": "'self' blob:",  # the map renderer (maplibre, inside plotly.js) starts its workers from blobs
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",  # no framing (clickjacking), as X-Frame-Options: DENY
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def install(app: Dash) -> None:
    """Set the policy on every response of ``app`` (after every callback has been registered)."""

    @cache
    def header_value() -> str:
        # Computed on the first response, when every clientside callback (inline script) is known.
        return policy(list(app.csp_hashes()))

    @app.server.after_request
    def content_security_policy(response: flask.Response) -> flask.Response:
        response.headers.setdefault(HEADER, header_value())
        return response
