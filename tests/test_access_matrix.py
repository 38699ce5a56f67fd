"""Walk every endpoint in the URL map as each role and check it against its declared policy."""

import pytest

from tests.access_samples import OUT_OF_SCOPE, SAMPLES, Ctx, sign_in, url_of
from trainer import create_app

ROLES = ["anonymous", "employee", "manager", "hr", "admin"]
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def _endpoints():
    app = create_app({"DATABASE_URL": "sqlite://", "TESTING": True})
    rules = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & METHODS):
            rules.append(pytest.param(rule.endpoint, rule.rule, method, id=f"{method} {rule.rule}"))
    return rules


def _request(client, method, url):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={})


@pytest.mark.parametrize(("endpoint", "rule_text", "method"), _endpoints())
def test_endpoint_follows_its_declared_policy(
    app, client, session, org, endpoint, rule_text, method
):
    view = app.view_functions[endpoint]
    if endpoint == "static":
        return  # static files are public by nature
    access = getattr(view, "access", None)
    assert access is not None, f"{endpoint} declares no access policy: add @allow(...)"
    ctx = Ctx(app, session, org)
    url = url_of(app, ctx, endpoint, rule_text, SAMPLES)
    for role in ROLES:
        user = None if role == "anonymous" else org.user(role)
        sign_in(client, user)
        response = _request(client, method, url)
        status = response.status_code
        where = f"{method} {url} as {role}: {status}"
        assert status < 500, where
        if access.api_token:
            assert status == 401, where  # a session cookie is never an API credential
        elif user is None and not access.public:
            assert status == 302 and "/auth/login" in response.location, where
        elif access.permits(user) if user else access.public:
            assert status not in (401, 403), where
            assert "/auth/login?" not in (response.location or ""), where
        else:
            assert status == 403, where

    scoped = [a for a in OUT_OF_SCOPE if f"<{a}>" in rule_text or f":{a}>" in rule_text]
    if scoped and access.permits(org.manager) and not access.public:
        outside = dict(SAMPLES, **OUT_OF_SCOPE)
        url = url_of(app, ctx, endpoint, rule_text, outside)
        sign_in(client, org.manager)
        status = _request(client, method, url).status_code
        if org.manager.has_role("hr", "admin"):
            return
        assert status in (403, 404), f"manager reached {url} outside their scope: {status}"


@pytest.mark.parametrize(
    ("endpoint", "rule_text", "method"), [p for p in _endpoints() if p.values[2] != "GET"]
)
def test_every_post_requires_a_csrf_token(app, client, session, org, endpoint, rule_text, method):
    """A change sent with a session cookie but no CSRF token is refused; on the token APIs
    (/api/v1, /scim/v2) CSRF does not apply, and the cookie alone is refused (401)."""
    app.config["WTF_CSRF_ENABLED"] = True
    access = app.view_functions[endpoint].access
    url = url_of(app, Ctx(app, session, org), endpoint, rule_text, SAMPLES)
    sign_in(client, org.admin if access.permits(org.admin) or access.api_token else org.hr)
    response = client.open(url, method=method, data={})
    expected = 401 if access.api_token else 400
    assert response.status_code == expected, f"{method} {url} without a CSRF token: {response}"
