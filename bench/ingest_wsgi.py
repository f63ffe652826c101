"""The app as gunicorn serves it, plus an empty endpoint behind the same hooks (bench_ingest.py).

``POST /capteurs/_vide`` reads nothing and answers ``{}``: it goes through every hook the real
endpoint goes through (loopback guard, body limit, CSRF exemption, security headers, no session
cookie under ``/capteurs/``…), so the ratio of the two measures the work of ingestion itself.
Used by the benchmark only.
"""

from __future__ import annotations

import flask

from app import create_app

server = create_app().server


def empty() -> flask.Response:
    """The baseline: no token, no parsing, no database."""
    return flask.jsonify({})


server.add_url_rule("/capteurs/_vide", "bench_empty", empty, methods=["POST"])
server.extensions["csrf"].exempt(empty)
