"""The SCIM 2.0 service under /scim/v2: Users, Groups and the three discovery endpoints.

Like the JSON API, it takes no cookies: a bearer token with the `scim` scope is the only
credential, CSRF does not apply, and every answer, errors included, is SCIM JSON.
"""

import json
from functools import wraps

from flask import current_app, g, request
from pydantic import ValidationError
from scim2_models import (
    Context,
    Error,
    InvalidSyntaxException,
    InvalidValueException,
    ListResponse,
    NotFoundException,
    NotImplementedException,
    PreconditionFailedException,
    ResponseParameters,
    SCIMException,
)

from trainer.db import db_session
from trainer.outcomes.api import _json_problem as json_problem  # NUL, lone surrogates, depth
from trainer.outcomes.api import token_required
from trainer.scim import bp, services
from trainer.scim import schema as scim_schema
from trainer.scim.schema import MAX_RESULTS, POLICY, RESOURCE_TYPES
from trainer.scim.schema import Group as GroupResource
from trainer.scim.schema import User as UserResource
from trainer.util import DB_INT_MAX

SCOPE = "scim"
MEDIA_TYPE = "application/scim+json"


def scim_response(body: dict, status: int = 200, headers: dict | None = None):
    return (
        current_app.response_class(json.dumps(body), status=status, mimetype=MEDIA_TYPE),
        headers or {},
    )


def scim_error(status: int, message: str, headers: dict | None = None):
    """Answer with a SCIM Error (RFC 7644 §3.12)."""
    error = Error(status=status, detail=str(message))  # a lazy translation too
    return scim_response(error.model_dump(scim_ctx=Context.DEFAULT), status, headers)


def _error_of(exc: SCIMException):
    error = exc.to_error()
    return scim_response(error.model_dump(scim_ctx=Context.DEFAULT), error.status or 400)


def scim_view(view):
    """Require a `scim` token, and turn what the view raises into SCIM errors."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.api_token.unit_id is not None:
            return scim_error(403, "A SCIM token must cover every unit; this one is limited.")
        try:
            return view(*args, **kwargs)
        except services.DeactivationRefused as exc:
            db_session().commit()  # HR's alert is kept; the deactivation is not made
            return _error_of(exc)
        except SCIMException as exc:
            return _error_of(exc)
        except ValidationError as exc:
            error = Error.from_validation_errors(exc)[0]
            return scim_response(error.model_dump(scim_ctx=Context.DEFAULT), error.status or 400)

    return token_required(SCOPE, error=scim_error)(wrapped)


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _actor() -> str:
    return f"SCIM ({g.api_token.name})"[:254]


def _base_url() -> str:
    return request.host_url.rstrip("/") + bp.url_prefix


def _body() -> dict:
    try:
        payload = json.loads(request.get_data() or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidSyntaxException(detail=f"The body is not valid JSON ({exc}).") from None
    if not isinstance(payload, dict):
        raise InvalidSyntaxException(detail="The body must be a JSON object.")
    if problem := json_problem(payload, "body"):
        raise InvalidValueException(detail=problem)
    return payload


def _paging() -> tuple[int, int]:
    def number(name, default):
        value = request.args.get(name, "").strip()
        if not value:
            return default
        try:
            return int(value)
        except ValueError:
            raise InvalidValueException(detail=f"{name} must be a whole number.") from None

    start = min(max(1, number("startIndex", 1)), DB_INT_MAX)
    count = min(max(0, number("count", MAX_RESULTS)), MAX_RESULTS)
    return start, count


def _parameters(model):
    try:
        return ResponseParameters[model].model_validate(
            {
                "attributes": request.args.get("attributes") or None,
                "excludedAttributes": request.args.get("excludedAttributes") or None,
            }
        )
    except ValidationError:
        raise InvalidValueException(
            detail="attributes and excludedAttributes must name attributes of the resource."
        ) from None


def _resource_response(resource, status: int = 200, ctx=Context.RESOURCE_QUERY_RESPONSE):
    body = resource.model_dump(
        scim_ctx=ctx, response_parameters=_parameters(type(resource)), scim_policy=POLICY
    )
    headers = {"ETag": resource.meta.version}
    if status == 201:
        headers["Location"] = resource.meta.location
    return scim_response(body, status, headers)


def _list_response(model, total: int, start: int, resources: list):
    listing = ListResponse[model](
        total_results=total, start_index=start, items_per_page=len(resources), resources=resources
    )
    return scim_response(
        listing.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=_parameters(model))
    )


def _check_version(resource) -> None:
    """Refuse a change made against an older version (If-Match, RFC 7644 §3.14)."""
    wanted = request.headers.get("If-Match")
    if wanted and wanted.strip() != "*" and resource.meta.version not in wanted:
        raise PreconditionFailedException(
            detail="It changed since you read it (If-Match does not match its ETag)."
        )


# Discovery


@bp.route("/ServiceProviderConfig")
@scim_view
def service_provider_config():
    config = scim_schema.SERVICE_PROVIDER_CONFIG
    return scim_response(config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


def _schemas():
    return scim_schema.schemas(services.unit_codes(session=db_session()))


@bp.route("/Schemas")
@scim_view
def schemas():
    found = _schemas()
    return scim_response(
        ListResponse[scim_schema.Schema](
            total_results=len(found), start_index=1, items_per_page=len(found), resources=found
        ).model_dump(scim_ctx=Context.SEARCH_RESPONSE)
    )


@bp.route("/Schemas/<path:schema_id>")
@scim_view
def schema(schema_id):
    found = next((s for s in _schemas() if s.id == schema_id), None)
    if found is None:
        raise NotFoundException(detail=f"No schema has the id '{schema_id}'.")
    return scim_response(found.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


@bp.route("/ResourceTypes")
@scim_view
def resource_types():
    found = list(RESOURCE_TYPES.values())
    return scim_response(
        ListResponse[scim_schema.ResourceType](
            total_results=len(found), start_index=1, items_per_page=len(found), resources=found
        ).model_dump(scim_ctx=Context.SEARCH_RESPONSE)
    )


@bp.route("/ResourceTypes/<type_name>")
@scim_view
def resource_type(type_name):
    found = RESOURCE_TYPES.get(type_name)
    if found is None:
        raise NotFoundException(detail=f"No resource type is called '{type_name}'.")
    return scim_response(found.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


# Users


@bp.route("/Users", methods=["GET"])
@scim_view
def list_users():
    session = db_session()
    start, count = _paging()
    conditions = services.filter_conditions(request.args.get("filter"))
    total, rows = services.list_people(
        session=session, conditions=conditions, start=start, count=count
    )
    resources = [
        services.user_resource(user, link, session=session, base_url=_base_url())
        for user, link in rows
    ]
    return _list_response(UserResource, total, start, resources)


@bp.route("/Users", methods=["POST"])
@scim_view
def create_user():
    session = db_session()
    resource = UserResource.model_validate(
        _body(), scim_ctx=Context.RESOURCE_CREATION_REQUEST, scim_policy=POLICY
    )
    if resource.active is None:
        resource.active = True  # also for a person deleted earlier, now provisioned again
    revived = services.removed_person((resource.user_name or ""), session=session)
    user, link = services.save_user(
        resource,
        session=session,
        actor=_actor(),
        user=revived[0] if revived else None,
        link=revived[1] if revived else None,
    )
    created = services.user_resource(user, link, session=session, base_url=_base_url())
    return _resource_response(created, 201, Context.RESOURCE_CREATION_RESPONSE)


@bp.route("/Users/<scim_id>", methods=["GET"])
@scim_view
def get_user(scim_id):
    session = db_session()
    user, link = services.find_person(scim_id, session=session)
    return _resource_response(
        services.user_resource(user, link, session=session, base_url=_base_url())
    )


@bp.route("/Users/<scim_id>", methods=["PUT"])
@scim_view
def replace_user(scim_id):
    session = db_session()
    user, link = services.find_person(scim_id, session=session)
    before = services.user_resource(user, link, session=session, base_url=_base_url())
    _check_version(before)
    resource = UserResource.model_validate(
        _body(), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST, scim_policy=POLICY
    )
    user, link = services.save_user(
        resource, session=session, actor=_actor(), user=user, link=link, previous=before
    )
    return _resource_response(
        services.user_resource(user, link, session=session, base_url=_base_url()),
        ctx=Context.RESOURCE_REPLACEMENT_RESPONSE,
    )


@bp.route("/Users/<scim_id>", methods=["PATCH"])
@scim_view
def patch_user(scim_id):
    session = db_session()
    user, link = services.find_person(scim_id, session=session)
    _check_version(services.user_resource(user, link, session=session, base_url=_base_url()))
    user, link = services.patch_user(
        _body(), user, link, session=session, actor=_actor(), base_url=_base_url()
    )
    return _resource_response(
        services.user_resource(user, link, session=session, base_url=_base_url()),
        ctx=Context.RESOURCE_PATCH_RESPONSE,
    )


@bp.route("/Users/<scim_id>", methods=["DELETE"])
@scim_view
def delete_user(scim_id):
    session = db_session()
    user, link = services.find_person(scim_id, session=session)
    _check_version(services.user_resource(user, link, session=session, base_url=_base_url()))
    services.remove_user(user, link, session=session, actor=_actor())
    return current_app.response_class(status=204)


# Groups: trainer's org units, read-only (units are built in trainer, where their place in the
# tree and their managers are set; a person's unit is set with the enterprise department), and
# the groups the directory pushes, kept with their members (they give no rights in trainer).


@bp.route("/Groups", methods=["GET"])
@scim_view
def list_groups():
    session = db_session()
    start, count = _paging()
    conditions = services.group_filter_conditions(request.args.get("filter"))
    total, groups = services.list_groups(
        session=session, conditions=conditions, start=start, count=count
    )
    members = "members" not in (request.args.get("excludedAttributes") or "")
    resources = [
        services.group_resource(group, session=session, base_url=_base_url(), members=members)
        for group in groups
    ]
    return _list_response(GroupResource, total, start, resources)


@bp.route("/Groups/<scim_id>", methods=["GET"])
@scim_view
def get_group(scim_id):
    session = db_session()
    group = services.find_group(scim_id, session=session)
    return _resource_response(services.group_resource(group, session=session, base_url=_base_url()))


@bp.route("/Groups", methods=["POST"])
@scim_view
def create_group():
    session = db_session()
    resource = GroupResource.model_validate(
        _body(), scim_ctx=Context.RESOURCE_CREATION_REQUEST, scim_policy=POLICY
    )
    group = services.save_group(resource, session=session, actor=_actor())
    created = services.group_resource(group, session=session, base_url=_base_url())
    return _resource_response(created, 201, Context.RESOURCE_CREATION_RESPONSE)


def _directory_group(scim_id):
    """The directory group to change, checked against If-Match."""
    session = db_session()
    group = services.find_directory_group(scim_id, session=session)
    _check_version(services.group_resource(group, session=session, base_url=_base_url()))
    return session, group


@bp.route("/Groups/<scim_id>", methods=["PUT"])
@scim_view
def replace_group(scim_id):
    session, group = _directory_group(scim_id)
    resource = GroupResource.model_validate(
        _body(), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST, scim_policy=POLICY
    )
    group = services.save_group(resource, session=session, actor=_actor(), group=group)
    return _resource_response(
        services.group_resource(group, session=session, base_url=_base_url()),
        ctx=Context.RESOURCE_REPLACEMENT_RESPONSE,
    )


@bp.route("/Groups/<scim_id>", methods=["PATCH"])
@scim_view
def patch_group(scim_id):
    session, group = _directory_group(scim_id)
    group = services.patch_group(
        _body(), group, session=session, actor=_actor(), base_url=_base_url()
    )
    return _resource_response(
        services.group_resource(group, session=session, base_url=_base_url()),
        ctx=Context.RESOURCE_PATCH_RESPONSE,
    )


@bp.route("/Groups/<scim_id>", methods=["DELETE"])
@scim_view
def delete_group(scim_id):
    session, group = _directory_group(scim_id)
    services.delete_group(group, session=session, actor=_actor())
    return current_app.response_class(status=204)


@bp.route("/.search", methods=["POST"])
@bp.route("/Users/.search", methods=["POST"])
@scim_view
def search():
    raise NotImplementedException(
        detail='Search with GET and a filter, e.g. /Users?filter=userName eq "a@example.com".'
    )
