"""Single sign-on with OpenID Connect against a real provider (oidc-provider-mock) started here."""

import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlmodel import select

from tests.auth.oidc_provider import PROVIDER_WARNINGS, running_provider
from tests.conftest import PASSWORD
from trainer import create_app
from trainer.audit import AuditEntry
from trainer.auth.models import User
from trainer.mail import OutboxMessage

pytestmark = PROVIDER_WARNINGS
PROVIDER_NAME = "Northwind ID"


@pytest.fixture(scope="module")
def provider():
    with running_provider() as provider:
        yield provider


@pytest.fixture
def app_config(app_config, provider):
    return {
        **app_config,
        "OIDC_ISSUER": provider.url,
        "OIDC_CLIENT_ID": "trainer",
        "OIDC_CLIENT_SECRET": "client-secret",
        "OIDC_NAME": PROVIDER_NAME,
    }


def new_sub() -> str:
    return f"sub-{uuid.uuid4().hex[:12]}"


def start(client) -> str:
    """Press "Sign in with …"; return the provider's authorization URL trainer sent us to."""
    response = client.get("/auth/sso/start?next=/learn/")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.location.startswith("http://localhost:")
    return response.location


def sso_sign_in(client, provider, sub):
    """Go through the whole sign-in as `sub`; return trainer's answer to the callback."""
    callback = provider.authorize(start(client), sub)
    return client.get(callback)


def signed_in_as(client, session) -> User | None:
    response = client.get("/")
    if response.status_code == 302 and "/auth/login" in response.location:
        return None
    assert response.status_code == 200
    with client.session_transaction() as sess:
        token = sess.get("_user_id")
    return session.exec(select(User).where(User.session_token == token)).first()


def new_people_go_to(session, unit) -> None:
    """HR's choice: single sign-on creates people trainer does not know in `unit`."""
    from trainer.auth.sso import set_jit_unit

    set_jit_unit(unit, session=session, by="test")
    session.commit()


def page_text(response) -> str:
    return response.get_data(as_text=True)


def test_login_page_offers_the_provider_and_passwords(client, org):
    page = page_text(client.get("/auth/login"))
    assert f"Sign in with {PROVIDER_NAME}" in page
    assert 'href="/auth/sso/start"' in page
    assert 'name="password"' in page
    assert "emergencies only" not in page


def test_login_page_without_a_provider_has_no_sso_button(app_config, provider):
    del provider
    config = {**app_config, "OIDC_ISSUER": None}
    app = create_app(config)
    try:
        page = page_text(app.test_client().get("/auth/login"))
        assert "Sign in with" not in page
        assert app.test_client().get("/auth/sso/start").status_code == 404
        assert app.test_client().get("/auth/sso/callback?code=x&state=y").status_code == 404
    finally:
        app.extensions["trainer.engine"].dispose()


def test_the_authorization_request_uses_pkce_state_and_nonce(client, org):
    query = parse_qs(urlsplit(start(client)).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0]
    assert query["redirect_uri"] == ["http://localhost/auth/sso/callback"]
    assert query["client_id"] == ["trainer"]


def test_verified_email_links_then_sub_matches_after_the_email_changed(
    client, session, org, provider
):
    sub = new_sub()
    provider.set_user(sub, email="Employee@example.com", email_verified=True, name="E")
    response = sso_sign_in(client, provider, sub)
    assert response.status_code == 302 and response.location.endswith("/learn/")
    assert signed_in_as(client, session).id == org.employee.id
    session.refresh(org.employee)
    assert org.employee.oidc_subject == sub
    link = session.exec(select(AuditEntry).where(AuditEntry.action == "person.sso_link")).one()
    assert link.target_id == org.employee.id and link.actor_label == "single sign-on"

    client.post("/auth/logout")
    assert signed_in_as(client, session) is None
    provider.set_user(sub, email="new.address@example.com", email_verified=True)
    assert sso_sign_in(client, provider, sub).status_code == 302
    assert signed_in_as(client, session).id == org.employee.id


def test_unverified_email_is_refused(client, session, org, provider):
    sub = new_sub()
    provider.set_user(sub, email="employee@example.com", email_verified=False)
    response = sso_sign_in(client, provider, sub)
    assert response.status_code == 403
    assert "Your email address is not confirmed" in page_text(response)
    assert signed_in_as(client, session) is None
    session.refresh(org.employee)
    assert org.employee.oidc_subject is None


def test_an_account_linked_to_another_sub_is_refused(client, session, org, provider):
    org.employee.oidc_subject = "someone-before"
    session.add(org.employee)
    session.commit()
    sub = new_sub()
    provider.set_user(sub, email="employee@example.com", email_verified=True)
    response = sso_sign_in(client, provider, sub)
    assert response.status_code == 403
    assert "already linked to another sign-in" in page_text(response)
    assert signed_in_as(client, session) is None


def test_unknown_person_refused_unless_just_in_time_creation(app, client, session, org, provider):
    sub = new_sub()
    provider.set_user(sub, email="new.starter@example.com", email_verified=True, name="New Starter")
    response = sso_sign_in(client, provider, sub)
    assert response.status_code == 403
    assert "There is no trainer account for you yet" in page_text(response)
    assert signed_in_as(client, session) is None
    assert session.exec(select(User).where(User.email == "new.starter@example.com")).first() is None

    new_people_go_to(session, org.t2)
    assert sso_sign_in(client, provider, sub).status_code == 302
    person = signed_in_as(client, session)
    assert (person.email, person.name, person.roles) == (
        "new.starter@example.com",
        "New Starter",
        "employee",
    )
    assert person.unit_id == org.t2.id and person.oidc_subject == sub
    assert person.password_hash is None
    created = session.exec(select(AuditEntry).where(AuditEntry.action == "person.create")).one()
    assert created.target_id == person.id and created.actor_label == "single sign-on"


def test_just_in_time_creation_needs_a_verified_email(client, session, org, provider):
    new_people_go_to(session, org.t2)
    sub = new_sub()
    provider.set_user(sub, email="unverified@example.com", email_verified=False)
    assert sso_sign_in(client, provider, sub).status_code == 403
    provider.set_user(sub, name="No Email")
    response = sso_sign_in(client, provider, sub)
    assert response.status_code == 403
    assert "There is no trainer account for you yet" in page_text(response)
    assert session.exec(select(User).where(User.oidc_subject == sub)).first() is None


def test_deactivated_people_are_refused(client, session, org, provider):
    sub = new_sub()
    org.employee.oidc_subject = sub
    org.employee.active = False
    session.add(org.employee)
    session.commit()
    provider.set_user(sub, email="employee@example.com", email_verified=True)
    response = sso_sign_in(client, provider, sub)
    assert response.status_code == 403
    assert "Your trainer account is switched off" in page_text(response)
    assert signed_in_as(client, session) is None


def _with_query(url: str, **changes) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return parts._replace(query=urlencode(query)).geturl()


def test_a_wrong_state_is_refused(client, session, org, provider):
    sub = new_sub()
    provider.set_user(sub, email="employee@example.com", email_verified=True)
    callback = provider.authorize(start(client), sub)
    response = client.get(_with_query(callback, state="not-the-state-we-sent"))
    assert response.status_code == 400
    assert "The sign-in did not complete" in page_text(response)
    assert signed_in_as(client, session) is None


def test_a_used_or_unknown_code_is_refused(client, session, org, provider):
    sub = new_sub()
    provider.set_user(sub, email="employee@example.com", email_verified=True)
    first = provider.authorize(start(client), sub)
    assert client.get(first).status_code == 302
    client.post("/auth/logout")

    # A new sign-in started (its state is the browser's), answered with the used code.
    used_code = parse_qs(urlsplit(first).query)["code"][0]
    second = provider.authorize(start(client), sub)
    response = client.get(_with_query(second, code=used_code))
    assert response.status_code == 400
    assert "it may have expired or been used already" in page_text(response)
    assert signed_in_as(client, session) is None

    third = provider.authorize(start(client), sub)
    response = client.get(_with_query(third, code="a-code-never-issued"))
    assert response.status_code == 400
    assert signed_in_as(client, session) is None


def test_the_same_answer_twice_is_refused(client, session, org, provider):
    sub = new_sub()
    provider.set_user(sub, email="employee@example.com", email_verified=True)
    callback = provider.authorize(start(client), sub)
    assert client.get(callback).status_code == 302
    client.post("/auth/logout")
    response = client.get(callback)
    assert response.status_code == 400
    assert signed_in_as(client, session) is None


def test_a_tampered_id_token_is_refused(client, session, org, provider):
    sub = new_sub()
    provider.set_user(sub, email="employee@example.com", email_verified=True)
    provider.tamper_id_tokens = True
    try:
        response = sso_sign_in(client, provider, sub)
    finally:
        provider.tamper_id_tokens = False
    assert response.status_code == 400
    assert "could not be verified" in page_text(response)
    assert signed_in_as(client, session) is None
    session.refresh(org.employee)
    assert org.employee.oidc_subject is None


def test_an_expired_id_token_is_refused(app_config, session, org):
    with running_provider(access_token_max_age=timedelta(minutes=-10)) as expired:
        app = create_app({**app_config, "OIDC_ISSUER": expired.url})
        try:
            client = app.test_client()
            sub = new_sub()
            expired.set_user(sub, email="employee@example.com", email_verified=True)
            response = sso_sign_in(client, expired, sub)
            assert response.status_code == 400
            assert "could not be verified" in page_text(response)
            assert signed_in_as(client, session) is None
        finally:
            app.extensions["trainer.engine"].dispose()


def test_cancelling_at_the_provider_is_a_clear_message(client, session, org, provider):
    authorize_url = start(client)
    state = parse_qs(urlsplit(authorize_url).query)["state"][0]
    response = client.get(f"/auth/sso/callback?error=access_denied&state={state}")
    assert response.status_code == 400
    assert "The sign-in did not complete" in page_text(response)


def test_an_unreachable_provider_is_a_clear_message(app_config, org):
    app = create_app({**app_config, "OIDC_ISSUER": "http://127.0.0.1:9"})
    try:
        response = app.test_client().get("/auth/sso/start")
        assert response.status_code == 503
        assert "cannot be reached just now" in page_text(response)
    finally:
        app.extensions["trainer.engine"].dispose()


# SSO only: passwords off for everyone but the break-glass admins.


@pytest.fixture
def sso_only(app):
    app.config.update(SSO_ONLY=True, BREAK_GLASS_EMAILS=["Admin@example.com"])


def test_sso_only_page_shows_the_button_and_a_small_break_glass_form(client, org, sso_only):
    page = page_text(client.get("/auth/login"))
    assert f"Sign in with {PROVIDER_NAME}" in page
    assert "<details" in page and "emergencies only" in page
    assert "Or with your email and password" not in page


def test_sso_only_refuses_passwords_except_break_glass(client, session, org, sso_only):
    response = client.post("/auth/login", data={"email": org.employee.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Sign-in with a password is turned off here" in page_text(response)
    assert signed_in_as(client, session) is None

    response = client.post("/auth/login", data={"email": org.admin.email, "password": PASSWORD})
    assert response.status_code == 302
    assert signed_in_as(client, session).id == org.admin.id


def test_sso_only_sends_no_password_reset_and_closes_invitation_links(
    app, client, session, org, sso_only
):
    from trainer.auth.services import make_link_token

    client.post("/auth/forgot", data={"email": org.employee.email})
    client.post("/auth/forgot", data={"email": org.admin.email})
    sent_to = [m.recipient for m in session.exec(select(OutboxMessage)).all()]
    assert sent_to == [org.admin.email]

    before = org.employee.password_hash
    with app.test_request_context():
        token = make_link_token(org.employee, "invite")
    response = client.get(f"/auth/invite/{token}", follow_redirects=True)
    assert "Sign-in with a password is turned off here" in page_text(response)
    response = client.post(
        f"/auth/invite/{token}",
        data={"password": "a new password 2026", "confirm": "a new password 2026"},
    )
    assert response.status_code == 302
    session.refresh(org.employee)
    assert org.employee.password_hash == before


def test_sso_only_still_signs_in_through_the_provider(client, session, org, provider, sso_only):
    sub = new_sub()
    provider.set_user(sub, email="employee@example.com", email_verified=True)
    assert sso_sign_in(client, provider, sub).status_code == 302
    assert signed_in_as(client, session).id == org.employee.id


def test_sso_only_without_a_provider_refuses_to_start(app_config):
    with pytest.raises(RuntimeError, match="SSO_ONLY"):
        create_app({**app_config, "OIDC_ISSUER": None, "SSO_ONLY": True})


@pytest.mark.parametrize("role", ["employee", "manager", "hr", "admin"])
def test_a_signed_in_person_starting_again_goes_home(client, org, login_as, role):
    login_as(org.user(role))
    response = client.get("/auth/sso/start")
    assert response.status_code == 302 and response.location.endswith("/")


def test_erasing_a_person_unlinks_their_sign_in(app, client, session, org, provider):
    from trainer.privacy.services import erase_person

    sub = new_sub()
    provider.set_user(sub, email="employee@example.com", email_verified=True)
    assert sso_sign_in(client, provider, sub).status_code == 302
    client.post("/auth/logout")
    session.refresh(org.employee)
    assert org.employee.oidc_subject == sub
    with app.app_context():
        erase_person(org.employee, session=session, by="test")
    session.commit()
    session.expire_all()
    assert session.get(User, org.employee.id).oidc_subject is None

    response = sso_sign_in(client, provider, sub)
    assert response.status_code == 403
    assert (
        "There is no trainer account for you yet"
        in page_text(response).split('role="alert">')[1][:300]
    )


# HR's settings page


def test_hr_chooses_the_unit_for_new_people(client, session, org, provider, login_as):
    login_as(org.hr)
    page = page_text(client.get("/auth/sso/settings"))
    assert f"People sign in with {PROVIDER_NAME}." in page
    assert "0 of 4 active people have signed in that way so far." in page
    assert "On: people can also sign in with their email and password." in page
    assert '<option selected value="0">No one: refuse them</option>' in page

    response = client.post("/auth/sso/settings", data={"jit_unit_id": str(org.t2.id)})
    assert response.status_code == 302
    assert "Saved." in page_text(client.get(response.location))
    change = session.exec(select(AuditEntry).where(AuditEntry.action == "sso.settings")).one()
    assert change.actor_id == org.hr.id and '"new_people_unit": "T2"' in change.detail

    client.post("/auth/logout")
    sub = new_sub()
    provider.set_user(sub, email="starter@example.com", email_verified=True, name="Starter")
    assert sso_sign_in(client, provider, sub).status_code == 302
    assert signed_in_as(client, session).unit_id == org.t2.id

    login_as(org.admin)
    assert client.post("/auth/sso/settings", data={"jit_unit_id": "0"}).status_code == 302
    client.post("/auth/logout")
    other = new_sub()
    provider.set_user(other, email="second@example.com", email_verified=True)
    assert sso_sign_in(client, provider, other).status_code == 403


def test_the_settings_page_refuses_a_unit_that_does_not_exist(client, org, login_as):
    login_as(org.hr)
    response = client.post("/auth/sso/settings", data={"jit_unit_id": "999999"})
    assert response.status_code == 400
    assert "Not a valid choice" in page_text(response)


def test_the_settings_page_says_when_passwords_are_off(app, client, org, login_as):
    login_as(org.admin)
    app.config.update(SSO_ONLY=True, BREAK_GLASS_EMAILS=["admin@example.com"])
    page = page_text(client.get("/auth/sso/settings"))
    assert "Off. Only emergency administrator accounts named by IT may use a password (1)." in page


def test_hr_home_links_to_the_settings(client, org, login_as):
    login_as(org.hr)
    assert 'href="/auth/sso/settings"' in page_text(client.get("/"))
    login_as(org.employee)
    assert 'href="/auth/sso/settings"' not in page_text(client.get("/"))
