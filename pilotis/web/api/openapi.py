"""The OpenAPI 3.1 document of ``/api/v1`` (served at ``/api/v1/openapi.json``, drawn as HTML at
``/api/v1/docs``). Written by hand next to the views it describes; the property-based test
(tests/test_api_schema.py) checks every answer of the running app against it."""

from __future__ import annotations

from functools import cache
from typing import Any

from pilotis.web.api.errors import CODES
from pilotis.web.api.params import DEFAULT_LIMIT, GRAINS, MAX_LIMIT, MAX_OFFSET

NULLABLE_STRING = {"type": ["string", "null"]}
NUMBER_OR_NULL = {"type": ["number", "null"]}
VALUE = {"type": ["string", "number", "integer", "boolean", "null"]}
SECRET = {
    "type": ["string", "null"],
    "description": "Secret statistique : ce que représentent les valeurs masquées (« < 5 »), null si aucune ; "
    "une ligne masquée porte `secret: true` et ses valeurs protégées sont null.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or list(properties)}


def _param(name: str, description: str, schema: dict[str, Any], where: str = "query", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema,
        **extra,
    }


TERRITORY = _param(
    "territory",
    "Territoire : `departement:53`, `epci:200083392` ou `commune:53130` (un agent rattaché à un territoire "
    "ne voit jamais au-delà du sien).",
    {"type": "string", "maxLength": 40},
)
YEAR = _param("year", "Année (AAAA).", {"type": "integer", "minimum": 1900, "maximum": 2100})
FORMAT = _param("format", "`json` (défaut) ou `csv`.", {"type": "string", "enum": ["json", "csv"]})


def _errors(*statuses: int) -> dict[str, Any]:
    texts = {
        400: "Paramètre invalide",
        401: "Jeton absent, invalide, expiré ou révoqué",
        403: "Données non disponibles pour votre périmètre",
        404: "Introuvable (ou non autorisé : même réponse)",
        429: "Trop de requêtes pour ce jeton",
        503: "Source de données indisponible",
    }
    return {
        str(status): {
            "description": texts[status],
            "content": {"application/json": {"schema": _ref("Error")}},
        }
        for status in statuses
    }


def _ok(schema: str, description: str, csv: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": _ref(schema)}}
    if csv:
        content["text/csv"] = {"schema": {"type": "string"}}
    return {"200": {"description": description, "content": content}}


def _get(summary: str, description: str, parameters: list[dict[str, Any]], responses: dict[str, Any]) -> dict:
    return {
        "get": {
            "summary": summary,
            "description": description,
            "parameters": parameters,
            "responses": responses,
            "security": [{"jeton": []}],
        }
    }


ID = {"type": "string", "maxLength": 200}
COMMON = (401, 429)
DATA_ERRORS = (400, 401, 403, 404, 429, 503)


def _schemas() -> dict[str, Any]:
    column = _object({"name": {"type": "string"}, "label": {"type": "string"}})
    rows = {"type": "array", "items": {"type": "object", "additionalProperties": VALUE}}
    return {
        "Error": _object(
            {
                "code": {"type": "string", "enum": sorted(CODES)},
                "message": {"type": "string"},
                "parameter": {"type": "string"},
            },
            ["code", "message"],
        ),
        "Dataset": _object(
            {
                "id": {"type": "string"},
                "title": {"type": "string"},
                "description": {"type": "string"},
                "producer": {"type": "string"},
                "simulated": {"type": "boolean"},
                "columns": {
                    "type": "array",
                    "items": _object(
                        {
                            "name": {"type": "string"},
                            "label": {"type": "string"},
                            "type": NULLABLE_STRING,
                            "unit": NULLABLE_STRING,
                        }
                    ),
                },
                "measures": {"type": "object", "additionalProperties": {"type": "string"}},
                "period": {
                    "oneOf": [
                        {"type": "null"},
                        _object(
                            {"column": {"type": "string"}, "grain": {"type": "string"}, "kind": {"type": "string"}}
                        ),
                    ]
                },
                "territory_levels": {"type": "array", "items": {"type": "string"}},
            }
        ),
        "DatasetList": _object({"datasets": {"type": "array", "items": _ref("Dataset")}}),
        "QueryResult": _object(
            {
                "dataset": {"type": "string"},
                "territory": NULLABLE_STRING,
                "year": {"type": ["integer", "null"]},
                "exact": {"type": "boolean"},
                "limit": {"type": "integer"},
                "offset": {"type": "integer"},
                "next_offset": {"type": ["integer", "null"]},
                "stale": {"type": "boolean"},
                "columns": {"type": "array", "items": column},
                "secret": SECRET,
                "rows": rows,
            }
        ),
        "Dashboard": _object(
            {
                "id": {"type": "string"},
                "title": {"type": "string"},
                "description": {"type": "string"},
                "url": {"type": "string"},
                "widgets": {
                    "type": "array",
                    "items": _object(
                        {
                            "id": {"type": "string"},
                            "type": {"type": "string"},
                            "title": {"type": "string"},
                            "dataset": NULLABLE_STRING,
                        }
                    ),
                },
            }
        ),
        "DashboardList": _object({"dashboards": {"type": "array", "items": _ref("Dashboard")}}),
        "WidgetData": _object(
            {
                "dashboard": {"type": "string"},
                "widget": {"type": "string"},
                "type": {"type": "string"},
                "territory": {"type": "string"},
                "year": {"type": ["integer", "null"]},
                "exact": {"type": "boolean"},
                "stale": {"type": "boolean"},
                "columns": {"type": "array", "items": column},
                "secret": SECRET,
                "rows": rows,
            }
        ),
        "Indicator": _object(
            {
                "id": {"type": "string"},
                "label": {"type": "string"},
                "definition": {"type": "string"},
                "unit": {"type": "string"},
                "format": {"type": "string"},
                "decimals": {"type": "integer"},
                "better": {"type": "string"},
                "dataset": NULLABLE_STRING,
                "formula": NULLABLE_STRING,
            }
        ),
        "IndicatorList": _object({"indicators": {"type": "array", "items": _ref("Indicator")}}),
        "IndicatorValue": _object(
            {
                "indicator": _ref("Indicator"),
                "territory": {"type": "string"},
                "year": {"type": ["integer", "null"]},
                "value": NUMBER_OR_NULL,
                "secret": SECRET,
                "start": NULLABLE_STRING,
                "end": NULLABLE_STRING,
                "grain": {"type": "string"},
                "exact": {"type": "boolean"},
                "status": NULLABLE_STRING,
                "positions_withheld": {"type": "boolean"},
                "comparisons": {
                    "type": "array",
                    "items": _object(
                        {
                            "kind": {"type": "string"},
                            "value": NUMBER_OR_NULL,
                            "reference": NUMBER_OR_NULL,
                            "period": NULLABLE_STRING,
                            "reference_period": NULLABLE_STRING,
                            "label": {"type": "string"},
                        }
                    ),
                },
                "series": {"type": "array", "items": _object({"period": NULLABLE_STRING, "value": NUMBER_OR_NULL})},
            }
        ),
    }


def _paths() -> dict[str, Any]:
    dataset = _param("dataset", "Identifiant du jeu de données.", ID, "path")
    query_params = [
        _param(
            "measure",
            "Mesure, répétable : nom d'une mesure du jeu de données (`taux_subvention`) ou `alias=expression` "
            "(`total=sum(montant)`). Défaut : `lignes=count(*)`.",
            {"type": "array", "items": {"type": "string", "maxLength": 500}, "maxItems": 10},
            style="form",
            explode=True,
        ),
        _param(
            "group_by",
            "Colonnes de regroupement séparées par des virgules ; `periode` : la période.",
            {"type": "string", "maxLength": 400},
        ),
        _param("grain", "Granularité de `periode`.", {"type": "string", "enum": list(GRAINS)}),
        _param(
            "filter",
            "Filtre, répétable : `colonne:op:valeur`, op parmi eq, in, gt, gte, lt, lte "
            "(`in` : valeurs séparées par `|`).",
            {"type": "array", "items": {"type": "string", "maxLength": 1100}, "maxItems": 20},
            style="form",
            explode=True,
        ),
        YEAR,
        _param("from", "Première date incluse (AAAA-MM-JJ) de la période.", {"type": "string", "format": "date"}),
        _param("to", "Dernière date incluse (AAAA-MM-JJ) de la période.", {"type": "string", "format": "date"}),
        TERRITORY,
        _param(
            "limit",
            f"Lignes par page (défaut {DEFAULT_LIMIT}).",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        ),
        _param(
            "offset",
            "Lignes sautées (pagination : `next_offset`).",
            {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
        ),
        FORMAT,
    ]
    return {
        "/datasets": _get(
            "Jeux de données",
            "Les jeux de données que le jeton peut interroger.",
            [],
            {**_ok("DatasetList", "Liste"), **_errors(*COMMON)},
        ),
        "/datasets/{dataset}": _get(
            "Un jeu de données",
            "Colonnes, mesures nommées, période.",
            [dataset],
            {**_ok("Dataset", "Description"), **_errors(401, 404, 429)},
        ),
        "/datasets/{dataset}/query": _get(
            "Interroger un jeu de données",
            "Agrégat calculé à la source (filtres, mesures, regroupements, période, territoire, pagination). "
            "Un stock (effectifs) est lu à la dernière période de la sélection, jamais additionné dans le temps.",
            [dataset, *query_params],
            {**_ok("QueryResult", "Une page de lignes", csv=True), **_errors(*DATA_ERRORS)},
        ),
        "/dashboards": _get(
            "Tableaux de bord",
            "Les tableaux de bord ouverts au jeton, et leurs widgets visibles.",
            [],
            {**_ok("DashboardList", "Liste"), **_errors(*COMMON)},
        ),
        "/dashboards/{dashboard}/widgets/{widget}": _get(
            "Données d'un widget",
            "Ce que montre le widget pour ces filtres, calculé comme sur la page.",
            [
                _param("dashboard", "Identifiant du tableau de bord.", ID, "path"),
                _param("widget", "Identifiant du widget.", ID, "path"),
                TERRITORY,
                YEAR,
                FORMAT,
            ],
            {**_ok("WidgetData", "Données", csv=True), **_errors(*DATA_ERRORS)},
        ),
        "/indicators": _get(
            "Indicateurs",
            "Les indicateurs visibles par le jeton.",
            [],
            {**_ok("IndicatorList", "Liste"), **_errors(*COMMON)},
        ),
        "/indicators/{indicator}": _get(
            "Valeur d'un indicateur",
            "Valeur, comparaisons (période précédente, année précédente, territoires, cible) et série.",
            [_param("indicator", "Identifiant (`rsa.foyers`).", ID, "path"), TERRITORY, YEAR],
            {**_ok("IndicatorValue", "Valeur"), **_errors(*DATA_ERRORS)},
        ),
    }


@cache
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (the same for every caller: it names no dataset)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "API de Pilotis",
            "version": "1",
            "description": "Données, tableaux de bord et indicateurs du portail, avec les mêmes droits que les pages. "
            "Authentification : `Authorization: Bearer <jeton>` (jeton personnel ou compte de service).",
        },
        "servers": [{"url": "/api/v1"}],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"jeton": {"type": "http", "scheme": "bearer", "description": "Jeton d'API Pilotis."}},
        },
        "security": [{"jeton": []}],
    }
