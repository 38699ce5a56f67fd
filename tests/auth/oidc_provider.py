"""A real OpenID Connect provider for tests: oidc-provider-mock served on a free port in a thread.

`Provider.tamper_id_tokens` makes the token endpoint hand out ID tokens whose payload was
changed after signing, as an attacker between trainer and the provider would.
"""

import base64
import json
import threading
from contextlib import contextmanager
from datetime import timedelta

import oidc_provider_mock
import pytest
import requests
import werkzeug.serving

# oidc-provider-mock 0.3.4 still uses Authlib APIs that Authlib 1.9 marks as deprecated; the
# provider's thread runs under the test's warning filters, which make warnings errors.
PROVIDER_WARNINGS = [
    pytest.mark.filterwarnings(r"ignore:get_jwt_config\(self, grant\) is deprecated"),
    pytest.mark.filterwarnings("ignore:authlib.jose module is deprecated"),
]


class Provider:
    def __init__(self, **options):
        self.app = oidc_provider_mock.app(require_nonce=True, **options)
        self.tamper_id_tokens = False
        self.url = ""

    def set_user(self, sub: str, **claims) -> None:
        """Say who `sub` is: the claims the provider puts in its ID tokens."""
        response = requests.put(f"{self.url}/users/{sub}", json=claims, timeout=10)
        assert response.status_code == 204, response.text

    def authorize(self, authorize_url: str, sub: str) -> str:
        """Sign in at the provider as `sub` (its form); return where it sends the browser."""
        response = requests.post(
            authorize_url, data={"sub": sub}, allow_redirects=False, timeout=10
        )
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def __call__(self, environ, start_response):
        if not (self.tamper_id_tokens and environ.get("PATH_INFO") == "/oauth2/token"):
            return self.app(environ, start_response)
        captured = {}

        def keep(status, headers, exc_info=None):
            captured.update(status=status, headers=headers)

        body = b"".join(self.app(environ, keep))
        token = json.loads(body)
        if "id_token" in token:
            token["id_token"] = _tampered(token["id_token"])
        body = json.dumps(token).encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]


def _tampered(id_token: str) -> str:
    """Change the signed payload's `sub` (and keep the signature)."""
    header, payload, signature = id_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@contextmanager
def running_provider(access_token_max_age: timedelta = timedelta(hours=1)):
    """Serve a provider on a free port of localhost; yield it with its `url` (the issuer)."""
    provider = Provider(access_token_max_age=access_token_max_age)
    server = werkzeug.serving.make_server("localhost", 0, provider, threaded=True)
    provider.url = f"http://localhost:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
