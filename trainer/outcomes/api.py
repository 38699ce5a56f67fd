"""The JSON API under /api/v1: bearer tokens, outcome upload and reads, the OpenAPI document.

API views take no cookies: the session cookie is ignored, CSRF does not apply, and every answer,
errors included, is JSON.
"""

import json
from functools import wraps

from flask import Blueprint, g, jsonify, request
from flask_login import AnonymousUserMixin

from trainer.access import Access, allow
from trainer.db import db_session
from trainer.forms import int_arg, period_arg
from trainer.outcomes import imports, metrics, queries, tokens
from trainer.outcomes.models import TokenState
from trainer.outcomes.openapi import openapi_document
from trainer.util import shown_name

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")


def api_error(status: int, message: str, errors=None, headers=None):
    """Return a JSON error response: {"error": {"status", "message"}, "errors": [...]}."""
    body = {"error": {"status": status, "message": message}}
    if errors is not None:
        body["errors"] = [{"row": e.line, "field": e.column, "message": e.message} for e in errors]
    return jsonify(body), status, headers or {}


def _challenge(error: str | None = None, scope: str | None = None) -> dict:
    value = 'Bearer realm="trainer"'
    if error:
        value += f', error="{error}"'
    if scope:
        value += f', scope="{scope}"'
    return {"WWW-Authenticate": value}


_WHY = {
    TokenState.UNKNOWN: "The API token is not valid.",
    TokenState.REVOKED: "This API token was revoked. Ask HR for a new one.",
    TokenState.EXPIRED: "This API token has expired. Ask HR for a new one.",
}


def token_required(scope: str, error=api_error):
    """Let a view run only with an active bearer token that has `scope` (401 or 403 if not).

    `error(status, message, headers=...)` writes the refusal (the SCIM service answers in its
    own error format)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            g._login_user = AnonymousUserMixin()  # never act on a session cookie
            header = request.headers.get("Authorization", "")
            kind, _, secret = header.partition(" ")
            if kind.lower() != "bearer" or not secret.strip():
                return error(
                    401, "Send an API token: 'Authorization: Bearer <token>'.", headers=_challenge()
                )
            token, state = tokens.authenticate_token(session=db_session(), secret=secret.strip())
            if token is None:
                return error(401, _WHY[state], headers=_challenge("invalid_token"))
            if scope not in token.scope_set:
                return error(
                    403,
                    f"Wrong scope: this token lacks the {scope} scope.",
                    headers=_challenge("insufficient_scope", scope),
                )
            g.api_token = token
            return view(*args, **kwargs)

        wrapped.access = Access(frozenset(), public=False, api_token=True)
        return wrapped

    return decorator


@api_bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _json_body():
    """Return (payload, None) or (None, reason) for the request body."""

    def refuse_constant(name):
        raise ValueError(f"{name} is not valid JSON")

    try:
        payload = json.loads(request.get_data(), parse_constant=refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        return None, f"The body is not valid JSON ({exc})."
    except RecursionError:
        return None, f"The body is nested more than {imports.API_MAX_DEPTH} levels deep."
    return payload, _json_problem(payload, "body")


def _json_problem(value, where: str, depth: int = 0) -> str | None:
    """Return why a parsed body cannot be used, naming the place (e.g. rows[2].metric)."""
    if depth > imports.API_MAX_DEPTH:
        return f"The body is nested more than {imports.API_MAX_DEPTH} levels deep."
    if isinstance(value, str):
        if "\x00" in value:
            return f"{where} contains a NUL character (\\u0000), which cannot be stored."
        if not value.isascii():
            try:
                value.encode()
            except UnicodeEncodeError:
                return f"{where} contains a lone surrogate (\\ud800 to \\udfff), which is not text."
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = shown_name(key) if where == "body" else f"{where}.{shown_name(key)}"
            problem = _json_problem(key, f"A field name in {where}", depth + 1) or _json_problem(
                item, inner, depth + 1
            )
            if problem:
                return problem
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problem = _json_problem(item, f"{where}[{index}]", depth + 1)
            if problem:
                return problem
    return None


@api_bp.route("/outcomes", methods=["POST"])
@token_required("outcomes:write")
def post_outcomes():
    payload, problem = _json_body()
    if problem:
        return api_error(400, problem)
    rows = payload.get("rows") if isinstance(payload, dict) else payload
    if not isinstance(rows, list):
        return api_error(400, 'Send {"rows": [...]}: a list of outcome rows.')
    if len(rows) > imports.API_MAX_ROWS:
        return api_error(
            413,
            f"{len(rows):,} rows is more than the {imports.API_MAX_ROWS:,} "
            "allowed per request; send them in batches.",
        )
    dry_run = request.args.get("dry_run", "").lower() in ("1", "true", "yes")
    report = imports.import_api_rows(
        session=db_session(), rows=rows, token=g.api_token, dry_run=dry_run
    )
    if report.forbidden:
        return api_error(
            403,
            "Wrong scope: some rows are for units outside this token's units. Nothing was saved.",
            report.forbidden,
        )
    if report.errors:
        return api_error(
            422, f"{imports.problems(len(report.errors))}; nothing was saved.", report.errors
        )
    return jsonify(report.counts()), 201 if report.created and not dry_run else 200


@api_bp.route("/outcomes", methods=["GET"])
@token_required("outcomes:read")
def get_outcomes():
    session = db_session()
    allowed = tokens.token_unit_ids(session=session, token=g.api_token)
    unit_ids = allowed
    if code := request.args.get("unit_code", "").strip():
        unit_ids = queries.unit_subtree(session=session, code=code)
        if unit_ids is None:
            return api_error(400, f"No unit has the code '{code}'.")
        if allowed is not None and not unit_ids <= allowed:
            return api_error(403, f"Wrong scope: unit {code} is outside this token's units.")
    period = period_arg()
    if period:
        try:
            period = queries.check_period(period)
        except ValueError as exc:
            return api_error(400, str(exc))
    metric = request.args.get("metric", "").strip().lower() or None
    if metric and metric not in metrics.metric_map(session=session):
        return api_error(400, f"Unknown metric '{metric}'.")
    limit = int_arg("limit", queries.READ_LIMIT, high=queries.READ_MAX_LIMIT)
    offset = int_arg("offset", 0, low=0)
    found, total = queries.find_outcomes(
        session=session,
        where=queries.OutcomeFilter(unit_ids, metric, period),
        limit=limit,
        offset=offset,
    )
    return jsonify(
        {
            "outcomes": [_outcome_json(o, unit) for o, unit in found],
            "total": total,
            "limit": limit,
            "offset": offset,
        }
    )


def _outcome_json(outcome, unit) -> dict:
    return {
        "unit_code": unit.code,
        "period": outcome.period,
        "metric": outcome.metric,
        "value": outcome.value,
        "n": outcome.n,
        "topbox": outcome.topbox,
        "responses": outcome.responses,
        "invited": outcome.invited,
        "updated_at": outcome.updated_at.isoformat(),
    }


@api_bp.route("/metrics")
@token_required("outcomes:read")
def get_metrics():
    return jsonify(
        {
            "metrics": [
                {
                    "code": m.code,
                    "label": m.label,
                    "direction": m.direction,
                    "min": m.min_value,
                    "max": m.max_value,
                    "needs_n": m.needs_n,
                    "custom": m.custom,
                    "description": m.description,
                }
                for m in metrics.metrics(session=db_session())
            ]
        }
    )


@api_bp.route("/openapi.json")
@allow(public=True)
def openapi():
    return jsonify(openapi_document())
