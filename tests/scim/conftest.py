"""Builders for the SCIM tests: a token with the scim scope and a client that sends it."""

import pytest

from trainer.outcomes.tokens import create_token


@pytest.fixture
def scim_token(session, org):
    """Return the secret of a new token with the given scopes (the scim scope by default)."""

    def build(scopes=("scim",), name="Directory"):
        _token, secret = create_token(
            session=session, name=name, scopes=list(scopes), created_by=org.hr
        )
        session.commit()
        return secret

    return build


@pytest.fixture
def scim(client, scim_token):
    """Send SCIM requests with a scim token: scim("POST", "/Users", json=...)."""
    headers = {"Authorization": f"Bearer {scim_token()}"}

    def send(method, path, json=None, **kwargs):
        extra = kwargs.pop("headers", {})
        return client.open(
            f"/scim/v2{path}", method=method, json=json, headers={**headers, **extra}, **kwargs
        )

    return send
