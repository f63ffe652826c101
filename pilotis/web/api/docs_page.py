"""``/api/v1/docs``: the OpenAPI document drawn as a plain HTML page on the server (no script, no
CDN: it works offline and under the portal's Content-Security-Policy)."""

from __future__ import annotations

from typing import Any

import flask

from pilotis.web.auth_pages import page_context


def _schema_text(schema: dict[str, Any]) -> str:
    """A parameter's schema in a few words (`entier 1–10000`, `json | csv`…)."""
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    kind = schema.get("type", "")
    if kind == "array":
        return f"répétable ({_schema_text(schema.get('items', {}))})"
    words = {"integer": "entier", "string": "texte", "number": "nombre", "boolean": "booléen"}
    text = words.get(str(kind), str(kind))
    if "minimum" in schema and "maximum" in schema:
        text += f" {schema['minimum']}–{schema['maximum']}"
    if schema.get("format") == "date":
        text = "date AAAA-MM-JJ"
    return text


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operation of ``document``, ready for the template."""
    base = document["servers"][0]["url"]
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            found.append(
                {
                    "anchor": (method + path).replace("/", "-").replace("{", "").replace("}", ""),
                    "method": method.upper(),
                    "path": base + path,
                    "summary": operation["summary"],
                    "description": operation["description"],
                    "parameters": [
                        {
                            "name": p["name"],
                            "where": "chemin" if p["in"] == "path" else "requête",
                            "required": p.get("required", False),
                            "schema": _schema_text(p["schema"]),
                            "description": p["description"],
                        }
                        for p in operation.get("parameters", [])
                    ],
                    "responses": [(code, r["description"]) for code, r in operation["responses"].items()],
                }
            )
    return found


def render(document: dict[str, Any]) -> str:
    """The documentation page."""
    errors = document["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
    return flask.render_template(
        "pilotis/api_docs.html",
        info=document["info"],
        operations=operations(document),
        error_codes=errors,
        **page_context(),
    )
