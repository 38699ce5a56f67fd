"""Who may call /scim/v2: a token with the scim scope, and nothing else (no cookie, no CSRF)."""

import pytest
from sqlmodel import select

from tests.scim.bodies import person
from trainer.auth.models import User
from trainer.outcomes.models import OutcomeError
from trainer.outcomes.tokens import create_token


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        (None, "Send an API token: 'Authorization: Bearer <token>'."),
        ("Basic dXNlcjpwYXNz", "Send an API token: 'Authorization: Bearer <token>'."),
        ("Bearer trn_not-a-real-token", "The API token is not valid."),
    ],
)
def test_a_missing_or_wrong_token_gets_a_scim_401(client, org, authorization, detail):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/scim/v2/Users", headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/scim+json"
    assert response.get_json() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": "401",
        "detail": detail,
    }
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="trainer"')


def test_a_token_without_the_scim_scope_gets_a_403(client, scim_token):
    secret = scim_token(scopes=["outcomes:write", "outcomes:read"])
    response = client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 403
    assert "lacks the scim scope" in response.get_json()["detail"]


def test_a_signed_in_browser_session_grants_nothing(client, login_as, org, session):
    login_as(org.admin)
    assert client.get("/scim/v2/Users").status_code == 401
    created = client.post("/scim/v2/Users", json=person("sneaky@example.com"))
    assert created.status_code == 401

    assert session.exec(select(User).where(User.email == "sneaky@example.com")).first() is None


def test_scim_sets_no_cookie_and_needs_no_csrf_token(app, scim):
    app.config["WTF_CSRF_ENABLED"] = True
    response = scim("POST", "/Users", json=person("tok@example.com"))
    assert response.status_code == 201, response.get_json()
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_addresses_and_methods_answer_in_scim_json(scim, org):
    missing = scim("GET", "/NoSuchThing")
    assert missing.status_code == 404 and missing.get_json()["status"] == "404"
    not_allowed = scim("DELETE", "/ServiceProviderConfig")
    assert not_allowed.status_code == 405 and not_allowed.get_json()["status"] == "405"
    read_only = scim("DELETE", f"/Groups/{org.t1.id}")
    assert read_only.status_code == 400 and "read-only" in read_only.get_json()["detail"]


def test_a_scim_token_cannot_be_limited_to_a_unit(session, org):
    with pytest.raises(OutcomeError, match="covers every unit"):
        create_token(
            session=session, name="Dir", scopes=["scim"], created_by=org.hr, unit_id=org.s1.id
        )


def test_hr_creates_a_scim_token_on_the_tokens_page(client, login_as, org):
    login_as(org.hr)
    page = client.get("/outcomes/tokens").get_data(as_text=True)
    assert "Provision people from the company directory (SCIM 2.0, /scim/v2)" in page
    created = client.post(
        "/outcomes/tokens",
        data={"name": "Okta", "scopes": ["scim"], "unit_id": 0, "expires_in_days": 0},
    )
    assert created.status_code == 200
    secret = created.get_data(as_text=True).split("trn_", 1)[1].split("<", 1)[0].split('"', 1)[0]
    response = client.get("/scim/v2/Users", headers={"Authorization": f"Bearer trn_{secret}"})
    assert response.status_code == 200, response.get_json()
