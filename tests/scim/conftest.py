"""Builders for the SCIM tests: a token with the scim scope and a client that sends it."""

import threading

import httpx
import pytest
from werkzeug.serving import make_server

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


@pytest.fixture
def live_scim(app, session, org):
    """Serve the app over HTTP on a free port; yield an httpx client with a scim token."""
    _token, secret = create_token(
        session=session, name="Conformance", scopes=["scim"], created_by=org.hr
    )
    session.commit()
    app.config["SERVER_NAME"] = None
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}/scim/v2"
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {secret}"}) as client:
        yield client
    server.shutdown()
    thread.join()
