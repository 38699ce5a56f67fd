"""GET /api/v1/fixes: the fix rollups per (unit, quarter), thresholded, for a token with the
`fixes:read` scope."""

from flask import Blueprint, Flask, g, jsonify, request

from trainer import anonymity
from trainer.db import db_session
from trainer.fixes.exports import released_json
from trainer.forms import csrf, period_arg
from trainer.outcomes.api import api_error, token_required
from trainer.outcomes.openapi import add_api_paths
from trainer.outcomes.queries import check_period, unit_subtree
from trainer.outcomes.tokens import token_unit_ids

fixes_api = Blueprint("fixes_api", __name__, url_prefix="/api/v1/fixes")
SCOPE = "fixes:read"


@fixes_api.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@fixes_api.route("")
@token_required(SCOPE)
def get_fixes():
    session = db_session()
    allowed = token_unit_ids(session=session, token=g.api_token)
    unit_ids = allowed
    if code := request.args.get("unit_code", "").strip():
        unit_ids = unit_subtree(session=session, code=code)
        if unit_ids is None:
            return api_error(400, f"No unit has the code '{code}'.")
        if allowed is not None and not unit_ids <= allowed:
            return api_error(403, f"Wrong scope: unit {code} is outside this token's units.")
    period = period_arg()
    if period:
        try:
            period = check_period(period)
        except ValueError as exc:
            return api_error(400, str(exc))
    cells = released_json(session=session, unit_ids=unit_ids, period=period)
    return jsonify(
        {"cells": cells, "total": len(cells), "min_people": anonymity.thresholds().scores}
    )


def init_api(app: Flask) -> None:
    app.register_blueprint(fixes_api)
    csrf.exempt(fixes_api)  # bearer tokens only: no cookie, so no cross-site request to forge
    add_api_paths(app, OPENAPI_PATHS, OPENAPI_SCHEMAS)


OPENAPI_PATHS = {
    "/api/v1/fixes": {
        "get": {
            "operationId": "readFixes",
            "summary": "Read fixes made on own authority, per unit and quarter",
            "description": (
                "One cell per unit and quarter, for the token's units. A cell where fewer "
                "than `min_people` people logged a fix, or that would let a smaller group be "
                'worked out, has `status` "hidden" and no numbers. Never a person\'s entries. '
                "Needs the `fixes:read` scope."
            ),
            "parameters": [
                {
                    "name": "unit_code",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "Only this unit and the units below it.",
                },
                {
                    "name": "period",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "Only this quarter (YYYYQn).",
                },
            ],
            "responses": {
                "200": {
                    "description": "The cells.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/FixCellList"}}
                    },
                },
                **{
                    status: {
                        "description": text,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    }
                    for status, text in (
                        ("400", "An unknown unit code or a bad quarter."),
                        ("401", "The token is missing, unknown, expired or revoked."),
                        ("403", "The token lacks fixes:read, or the unit is outside its units."),
                    )
                },
            },
        }
    }
}


def _maybe(kind: str) -> dict:
    return {"type": [kind, "null"]}


OPENAPI_SCHEMAS = {
    "FixCell": {
        "type": "object",
        "required": ["unit_code", "unit_name", "period", "status"],
        "properties": {
            "unit_code": {"type": "string"},
            "unit_name": {"type": "string"},
            "period": {"type": "string", "pattern": "^[0-9]{4}Q[1-4]$"},
            "status": {"enum": ["shown", "hidden"]},
            "people": _maybe("integer"),
            "fixes": _maybe("integer"),
            "on_spot": _maybe("integer"),
            "goodwill": _maybe("integer"),
            "handover": _maybe("integer"),
            "escalated": _maybe("integer"),
            "on_spot_share": _maybe("number"),
            "goodwill_spent": _maybe("number"),
            "currency": {"type": "string"},
            "over_limit": _maybe("integer"),
            "top_problems": {"type": ["array", "null"], "items": {"type": "string"}},
        },
    },
    "FixCellList": {
        "type": "object",
        "required": ["cells", "total", "min_people"],
        "properties": {
            "cells": {"type": "array", "items": {"$ref": "#/components/schemas/FixCell"}},
            "total": {"type": "integer"},
            "min_people": {"type": "integer"},
        },
    },
}
