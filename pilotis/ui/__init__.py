"""Dash components: the portal state, pages, synthesis grid, séance rendering, shared pieces.

Imports ``pilotis.core`` only; never ``flask.request`` (what a request says is passed in).
"""
