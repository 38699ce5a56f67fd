"""SCIM request bodies for the tests."""

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def person(user_name, *, email=None, name="Ada Lovelace", department=None, active=None, **more):
    """A SCIM User body."""
    body = {
        "schemas": [USER, ENTERPRISE],
        "userName": user_name,
        "name": {"formatted": name},
        "emails": [{"value": email or user_name, "primary": True}],
    }
    if active is not None:
        body["active"] = active
    enterprise = {k: v for k, v in {"department": department, **more}.items() if v is not None}
    if enterprise:
        body[ENTERPRISE] = enterprise
    return body


def patch(*operations):
    return {"schemas": [PATCH], "Operations": list(operations)}
