"""The OpenAPI 3.1 description of the JSON API, served at /api/v1/openapi.json."""

from flask import Flask, current_app

from trainer.outcomes.imports import API_MAX_DEPTH, API_MAX_ROWS
from trainer.outcomes.queries import READ_LIMIT, READ_MAX_LIMIT
from trainer.outcomes.validation import BUILTIN_METRICS
from trainer.util import DB_INT_MAX

API_VERSION = "1.0.0"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(_ref("Error"), description)


def _nullable(kind: str, **extra) -> dict:
    return {"type": [kind, "null"], **extra}


AUTH_ERRORS = {
    "401": _error(
        "The token is missing, unknown, expired or revoked. The response carries "
        "`WWW-Authenticate: Bearer`."
    ),
    "403": _error(
        "Wrong scope: the token lacks the needed scope, or a row or filter names a "
        "unit outside the token's units."
    ),
}


def add_api_paths(app: Flask, paths: dict, schemas: dict) -> None:
    """Describe another feature's /api/v1 endpoints in the one OpenAPI document."""
    extra = app.extensions.setdefault("trainer.openapi", {"paths": {}, "schemas": {}})
    extra["paths"].update(paths)
    extra["schemas"].update(schemas)


def openapi_document() -> dict:
    """Return the OpenAPI document for every /api/v1 endpoint."""
    document = _outcomes_document()
    extra = current_app.extensions.get("trainer.openapi", {"paths": {}, "schemas": {}})
    document["paths"].update(extra["paths"])
    document["components"]["schemas"].update(extra["schemas"])
    return document


def _outcomes_document() -> dict:
    metric_list = "; ".join(f"`{m.code}`: {m.description}" for m in BUILTIN_METRICS)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "trainer API",
            "version": API_VERSION,
            "description": (
                "Send and read customer outcomes per org unit and quarter, and read the "
                "fixes made on own authority. Authenticate with an API token created by HR: "
                "`Authorization: Bearer <token>`. Tokens carry scopes (`outcomes:write`, "
                "`outcomes:read`, `fixes:read`) and may be limited to one unit and "
                "the units below it. Every error is JSON: "
                '`{"error": {"status", "message"}}`, with an `errors` list for row problems.'
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/api/v1/outcomes": {
                "post": {
                    "operationId": "sendOutcomes",
                    "summary": "Insert or update outcome rows, all or nothing",
                    "description": (
                        "Every row is checked before anything is saved; if any row is bad, "
                        "nothing is saved and every problem is listed (422). Rows are upserted "
                        "on (unit_code, period, metric): sending the same rows again changes "
                        "nothing. A date period is stored as its quarter; two rows for the "
                        "same unit, metric and quarter in one request are an error. An "
                        "optional field that is left out keeps its stored value; null clears "
                        f"it. At most {API_MAX_ROWS:,} rows per request. Built-in metrics: "
                        f"{metric_list}. HR may define more (see GET /api/v1/metrics)."
                    ),
                    "parameters": [
                        {
                            "name": "dry_run",
                            "in": "query",
                            "required": False,
                            "description": "With `true`, check and count but save nothing.",
                            "schema": {"type": "boolean", "default": False},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {
                                            "type": "object",
                                            "required": ["rows"],
                                            "properties": {
                                                "rows": {
                                                    "type": "array",
                                                    "maxItems": API_MAX_ROWS,
                                                    "items": _ref("OutcomeRow"),
                                                }
                                            },
                                            "additionalProperties": False,
                                        },
                                        {
                                            "type": "array",
                                            "maxItems": API_MAX_ROWS,
                                            "items": _ref("OutcomeRow"),
                                        },
                                    ]
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json(
                            _ref("ImportResult"), "Saved (nothing new was created), or a dry run."
                        ),
                        "201": _json(_ref("ImportResult"), "Saved; at least one row was new."),
                        "400": _error(
                            f"The body is not JSON, not a list of rows, nested "
                            f"more than {API_MAX_DEPTH} levels deep, or holds a "
                            "string with a NUL character or a lone surrogate; the "
                            "message names where."
                        ),
                        **AUTH_ERRORS,
                        "413": _error(
                            f"More than {API_MAX_ROWS:,} rows, or a body above the size limit."
                        ),
                        "422": _json(
                            _ref("ValidationErrors"), "Some rows are invalid; nothing was saved."
                        ),
                    },
                },
                "get": {
                    "operationId": "listOutcomes",
                    "summary": "Read stored outcomes",
                    "description": "Newest period first. A token limited to a unit sees only "
                    "that unit and the units below it.",
                    "parameters": [
                        {
                            "name": "unit_code",
                            "in": "query",
                            "required": False,
                            "description": "This unit and every unit below it.",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "period",
                            "in": "query",
                            "required": False,
                            "description": "A quarter like 2026Q3 (or a date in it).",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "metric",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": READ_MAX_LIMIT,
                                "default": READ_LIMIT,
                            },
                        },
                        {
                            "name": "offset",
                            "in": "query",
                            "required": False,
                            "schema": {
                                "type": "integer",
                                "minimum": 0,
                                "maximum": DB_INT_MAX,
                                "default": 0,
                            },
                        },
                    ],
                    "responses": {
                        "200": _json(_ref("OutcomeList"), "The matching outcomes."),
                        "400": _error(
                            "A filter is not valid (unknown unit or metric, bad "
                            "period, limit or offset out of range, a NUL "
                            "character); the message names the parameter."
                        ),
                        **AUTH_ERRORS,
                    },
                },
            },
            "/api/v1/metrics": {
                "get": {
                    "operationId": "listMetrics",
                    "summary": "List the metric definitions (built-in and custom)",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["metrics"],
                                "properties": {
                                    "metrics": {"type": "array", "items": _ref("Metric")}
                                },
                            },
                            "Every metric.",
                        ),
                        **AUTH_ERRORS,
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token from HR (it starts with trn_).",
                }
            },
            "schemas": {
                "OutcomeRow": {
                    "type": "object",
                    "required": ["unit_code", "period", "metric", "value", "n"],
                    "additionalProperties": False,
                    "properties": {
                        "unit_code": {"type": "string", "description": "An org unit code."},
                        "period": {
                            "type": "string",
                            "examples": ["2026Q3", "2026-07-31"],
                            "description": "A quarter (YYYYQn) or an ISO date, stored "
                            "as its quarter; not after the current "
                            "quarter.",
                        },
                        "metric": {"type": "string", "examples": ["csat"]},
                        "value": {"type": "number", "description": "Within the metric's range."},
                        "n": _nullable(
                            "integer",
                            minimum=0,
                            maximum=DB_INT_MAX,
                            description=(
                                "Customers (sample size) behind the value; required for "
                                "csat, nps, csi and custom metrics that need it, may be null "
                                "for complaints and retention."
                            ),
                        ),
                        "topbox": _nullable(
                            "number",
                            minimum=0,
                            maximum=1,
                            description=("Optional: share of top-box answers, 0 to 1."),
                        ),
                        "responses": _nullable(
                            "integer",
                            minimum=0,
                            maximum=DB_INT_MAX,
                            description=("Optional: survey responses, for the response rate."),
                        ),
                        "invited": _nullable(
                            "integer",
                            minimum=0,
                            maximum=DB_INT_MAX,
                            description=("Optional: customers invited to the survey."),
                        ),
                    },
                },
                "ImportResult": {
                    "type": "object",
                    "required": ["rows", "created", "updated", "unchanged", "dry_run"],
                    "properties": {
                        "rows": {"type": "integer"},
                        "created": {"type": "integer"},
                        "updated": {"type": "integer"},
                        "unchanged": {"type": "integer"},
                        "dry_run": {"type": "boolean"},
                    },
                },
                "Outcome": {
                    "type": "object",
                    "required": ["unit_code", "period", "metric", "value", "updated_at"],
                    "properties": {
                        "unit_code": {"type": "string"},
                        "period": {"type": "string", "pattern": "^[0-9]{4}Q[1-4]$"},
                        "metric": {"type": "string"},
                        "value": {"type": "number"},
                        "n": _nullable("integer"),
                        "topbox": _nullable("number"),
                        "responses": _nullable("integer"),
                        "invited": _nullable("integer"),
                        "updated_at": {"type": "string", "format": "date-time"},
                    },
                },
                "OutcomeList": {
                    "type": "object",
                    "required": ["outcomes", "total", "limit", "offset"],
                    "properties": {
                        "outcomes": {"type": "array", "items": _ref("Outcome")},
                        "total": {"type": "integer"},
                        "limit": {"type": "integer"},
                        "offset": {"type": "integer"},
                    },
                },
                "Metric": {
                    "type": "object",
                    "required": ["code", "label", "direction", "min", "max", "needs_n", "custom"],
                    "properties": {
                        "code": {"type": "string"},
                        "label": {"type": "string"},
                        "direction": {"enum": ["higher_is_better", "lower_is_better"]},
                        "min": _nullable("number"),
                        "max": _nullable("number"),
                        "needs_n": {"type": "boolean"},
                        "custom": {"type": "boolean"},
                        "description": {"type": "string"},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["status", "message"],
                            "properties": {
                                "status": {"type": "integer"},
                                "message": {"type": "string"},
                            },
                        },
                        "errors": {"type": "array", "items": _ref("RowProblem")},
                    },
                },
                "ValidationErrors": {"allOf": [_ref("Error"), {"required": ["errors"]}]},
                "RowProblem": {
                    "type": "object",
                    "required": ["row", "field", "message"],
                    "properties": {
                        "row": {
                            "type": "integer",
                            "minimum": 0,
                            "description": "The 0-based index of the row in `rows`.",
                        },
                        "field": _nullable("string"),
                        "message": {"type": "string"},
                    },
                },
            },
        },
    }
