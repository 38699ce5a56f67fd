"""The SCIM resources trainer serves, built from scim2-models' parts.

Each model declares only the attributes trainer keeps, so the published schemas say exactly
what a directory can set. Attributes a directory sends that are not here are ignored
(RFC 7644 lets a service provider do so); `ScimPolicy` below says so to scim2-models.
"""

from typing import Annotated

from pydantic import EmailStr, Field
from scim2_models import (
    URN,
    AuthenticationScheme,
    Bulk,
    CaseExact,
    ChangePassword,
    ComplexAttribute,
    ETag,
    Extension,
    Filter,
    GroupMember,
    GroupMembership,
    Mutability,
    Patch,
    Reference,
    Required,
    Resource,
    ResourceType,
    Schema,
    ScimPolicy,
    ServiceProviderConfig,
    Sort,
    Uniqueness,
)

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MAX_RESULTS = 1000  # the most resources one list answer holds


class PersonName(ComplexAttribute):
    formatted: str | None = None
    """The full name, as shown in trainer."""

    family_name: str | None = None
    given_name: str | None = None


class PersonEmail(ComplexAttribute):
    """trainer keeps one email per person: the "work" one, else the first one sent."""

    value: Annotated[EmailStr | None, Required.true] = None
    type: str | None = None


class Person(Resource):
    """A person in trainer, as the core User schema describes them."""

    __schema__ = URN(USER_SCHEMA)

    user_name: Annotated[str | None, Required.true, Uniqueness.server] = None
    """The directory's unique name for the person (often their email)."""

    name: PersonName | None = None
    """Without one, trainer shows the userName until a name is sent."""
    active: bool | None = None
    """False: the person is deactivated (they can't sign in; their record is kept)."""

    # A person without email is known by the enterprise employeeNumber (printed sign-in cards).
    emails: list[PersonEmail] | None = None
    groups: Annotated[list[GroupMembership] | None, Mutability.read_only] = None
    """The org unit and the directory groups the person belongs to (see Groups)."""


class PersonManager(ComplexAttribute):
    value: Annotated[str | None, Required.true, CaseExact.true] = None
    """The SCIM id of the person's manager."""

    ref: Reference["User"] | None = Field(  # noqa: F821
        None, serialization_alias="$ref", validation_alias="$ref"
    )


class PersonEnterprise(Extension):
    """The enterprise extension, as far as trainer keeps it."""

    __schema__ = URN(ENTERPRISE_SCHEMA)

    employee_number: Annotated[str | None, Uniqueness.server] = None
    department: str | None = None
    """The code of the person's org unit in trainer (canonicalValues lists them)."""

    manager: PersonManager | None = None
    """Kept and returned as sent; it grants no access (units and their managers are set in
    trainer, because managing a unit opens its results)."""


class Group(Resource):
    """A group, as the core Group schema describes it. Two kinds are listed: trainer's org units
    (read-only: their id is a number) and the groups a directory pushes (kept with their
    members; they give no rights in trainer)."""

    __schema__ = URN(GROUP_SCHEMA)

    display_name: Annotated[str | None, Required.true] = None
    members: list[GroupMember] | None = None
    """The people in the group (Users only)."""


User = Person[PersonEnterprise]
# Lenient where directories are known to depart from the RFC (Microsoft Entra's PATCH forms).
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)

RESOURCE_TYPES = {
    "User": ResourceType.from_resource(User),
    "Group": ResourceType.from_resource(Group),
}
for name, resource_type in RESOURCE_TYPES.items():
    resource_type.id = name
    resource_type.name = name
    resource_type.endpoint = f"/{name}s"


SERVICE_PROVIDER_CONFIG = ServiceProviderConfig(
    patch=Patch(supported=True),
    bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
    filter=Filter(supported=True, max_results=MAX_RESULTS),
    change_password=ChangePassword(supported=False),
    sort=Sort(supported=False),
    etag=ETag(supported=True),
    authentication_schemes=[
        AuthenticationScheme(
            type="oauthbearertoken",
            name="API token",
            description="An API token with the scim scope, sent as "
            "'Authorization: Bearer <token>'. HR creates it on the Outcomes page.",
            primary=True,
        )
    ],
)


def schemas(unit_codes: list[str]) -> list[Schema]:
    """Return every schema trainer publishes; `department` lists the unit codes."""
    user, enterprise, group = Person.to_schema(), PersonEnterprise.to_schema(), Group.to_schema()
    user.name, enterprise.name, group.name = "User", "EnterpriseUser", "Group"
    for attribute in enterprise.attributes:
        if attribute.name == "department":
            attribute.canonical_values = unit_codes or None
    return [
        user,
        enterprise,
        group,
        ServiceProviderConfig.to_schema(),
        ResourceType.to_schema(),
        Schema.to_schema(),
    ]
