"""Sign-in, sign-out, throttling, invitations and password reset, as a person uses them."""

import re
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import Session, select

from tests.conftest import PASSWORD
from trainer.auth import services
from trainer.auth.models import LoginThrottle, User
from trainer.auth.services import password_matches
from trainer.db import get_engine
from trainer.util import utcnow


def _login(client, email, password=PASSWORD, next_url=None):
    url = "/auth/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": password})


def test_login_then_logout(client, org):
    response = _login(client, "employee@example.com")
    assert response.status_code == 302 and response.location == "/"
    assert client.get("/").status_code == 200
    client.post("/auth/logout")
    assert client.get("/").status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_answer(client, org):
    wrong = _login(client, "employee@example.com", "nope")
    unknown = _login(client, "nobody@example.com", "nope")
    assert wrong.status_code == unknown.status_code == 400
    assert b"do not match" in wrong.data and b"do not match" in unknown.data
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(wrong) == strip(unknown)


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, org, session):
    for _ in range(5):
        assert _login(client, "employee@example.com", "wrong").status_code == 400
    assert _login(client, "employee@example.com").status_code == 400
    row = session.get(LoginThrottle, "employee@example.com")
    assert row.failures == 6 and row.locked_until is not None  # every attempt counts


def test_the_throttle_lives_in_the_database_so_every_worker_shares_it(app, client, org, session):
    for _ in range(5):
        _login(client, "employee@example.com", "wrong")
    other_worker = app.test_client()  # a fresh client shares nothing in memory but the database
    assert _login(other_worker, "employee@example.com").status_code == 400


def test_the_lock_runs_out_and_the_count_starts_again(client, org, session):
    for _ in range(5):
        _login(client, "employee@example.com", "wrong")
    row = session.get(LoginThrottle, "employee@example.com")
    row.locked_until = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert _login(client, "employee@example.com", "wrong").status_code == 400
    session.refresh(row)
    assert (row.failures, row.locked_until) == (1, None)
    assert _login(client, "employee@example.com").status_code == 302
    session.expire_all()
    assert session.get(LoginThrottle, "employee@example.com") is None


def test_a_locked_account_answers_after_a_password_check_as_long_as_any(
    app, client, org, monkeypatch
):
    for _ in range(5):
        _login(client, "employee@example.com", "wrong")
    verified, looked_up = [], []
    real_verify, real_find = services._hasher.verify, services.find_user
    monkeypatch.setattr(
        services,
        "_hasher",
        SimpleNamespace(
            verify=lambda stored, password: verified.append(stored) or real_verify(stored, password)
        ),
    )
    monkeypatch.setattr(
        services,
        "find_user",
        lambda *args, **kwargs: looked_up.append(args) or real_find(*args, **kwargs),
    )

    assert _login(client, "employee@example.com").status_code == 400

    assert verified == [services._DUMMY_HASH]  # argon2 runs, against the dummy hash
    assert looked_up == []  # the real password is never checked while locked


def test_parallel_wrong_passwords_cannot_slip_past_the_limit(app, org, monkeypatch):
    """20 attempts at once: exactly LOGIN_MAX_FAILURES reach the password check, and the
    counter records every attempt (no lost updates)."""
    limit, attempts = app.config["LOGIN_MAX_FAILURES"], 20
    checked = []
    real_find = services.find_user
    monkeypatch.setattr(
        services,
        "find_user",
        lambda *args, **kwargs: checked.append(1) or real_find(*args, **kwargs),
    )
    start = threading.Barrier(attempts)

    def attempt():
        with app.app_context(), Session(get_engine(), expire_on_commit=False) as throttle:
            start.wait()
            services.authenticate("employee@example.com", "wrong password", session=throttle)
            throttle.commit()

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(checked) == limit
    with app.app_context(), Session(get_engine()) as check:
        row = check.get(LoginThrottle, "employee@example.com")
        assert row.failures == attempts and row.locked_until is not None


def test_unknown_emails_are_throttled_too(client, org, session):
    for _ in range(5):
        _login(client, "ghost@example.com", "x")
    assert session.get(LoginThrottle, "ghost@example.com").locked_until is not None


def test_a_copied_session_cookie_stops_working_after_logout(app, client, org):
    _login(client, "employee@example.com")
    stolen = client.get_cookie("session").value
    client.post("/auth/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen, domain="localhost")
    assert thief.get("/").status_code == 302


def test_login_starts_a_new_session(client, org):
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    _login(client, "employee@example.com")
    with client.session_transaction() as sess:
        assert "planted" not in sess


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil", "javascript:alert(1)"]
)
def test_next_redirects_stay_on_the_site(client, org, target):
    response = _login(client, "employee@example.com", next_url=target)
    assert response.location == "/"


def test_next_redirect_to_a_local_page_is_kept(client, org):
    assert _login(client, "hr@example.com", next_url="/org/people").location == "/org/people"


def test_invitation_email_link_sets_the_first_password_once(
    client, org, make_user, session, login_as, mailbox
):
    newbie = make_user("employee", org.t1, email="new@example.com", password=False)
    login_as(org.hr)
    client.post(f"/org/people/{newbie.id}/invite")
    mailbox.deliver()
    [message] = mailbox
    assert message["To"] == "new@example.com"
    link = re.search(r"https?://\S+/auth/invite/\S+", message.get_content()).group(0)
    path = link.split("localhost", 1)[1]
    client.post("/auth/logout")
    form = {"password": "a brand new password", "confirm": "a brand new password"}
    assert client.post(path, data=form).status_code == 302
    assert _login(client, "new@example.com", "a brand new password").status_code == 302
    client.post("/auth/logout")
    again = client.post(
        path, data={"password": "another password!", "confirm": "another password!"}
    )
    assert again.status_code == 400 and b"no longer works" in again.data


def test_password_reset_by_email(client, org, mailbox):
    client.post("/auth/forgot", data={"email": "employee@example.com"})
    client.post("/auth/forgot", data={"email": "nobody@example.com"})
    assert mailbox.deliver() == 1
    [message] = mailbox  # nothing is sent for an unknown address, and the page says the same
    path = re.search(r"/auth/reset/\S+", message.get_content()).group(0)
    form = {"password": "reset to this one", "confirm": "reset to this one"}
    assert client.post(path, data=form).status_code == 302
    assert _login(client, "employee@example.com", "reset to this one").status_code == 302


def test_reset_links_use_base_url_not_the_host_the_request_claims(app, client, org, mailbox):
    app.config["BASE_URL"] = "https://trainer.example.com/staff"
    client.post(
        "/auth/forgot", data={"email": "employee@example.com"}, headers={"Host": "attacker.example"}
    )
    mailbox.deliver()
    [message] = mailbox
    assert "https://trainer.example.com/staff/auth/reset/" in message.get_content()
    assert "attacker.example" not in message.get_content()


def test_expired_reset_links_are_refused(app, client, org, session):
    from trainer.auth.services import make_link_token

    user = session.exec(select(User).where(User.email == "employee@example.com")).one()
    with app.test_request_context():
        token = make_link_token(user, "reset")
    app.config["RESET_MAX_AGE_MINUTES"] = -1
    assert client.get(f"/auth/reset/{token}").status_code == 400


def test_set_password_form_shows_errors_next_to_fields(client, app, org, session):
    from trainer.auth.services import make_link_token

    with app.test_request_context():
        token = make_link_token(org.employee, "reset")
    response = client.post(f"/auth/reset/{token}", data={"password": "short", "confirm": "x"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="password-error"' in html and "at least 12 characters" in html
    assert 'id="confirm-error"' in html


def test_passwords_are_hashed_with_argon2(session, org):
    user = session.exec(select(User).where(User.email == "employee@example.com")).one()
    assert user.password_hash.startswith("$argon2id$")


def test_inactive_people_cannot_sign_in(client, org, session):
    user = session.get(User, org.employee.id)
    user.active = False
    session.add(user)
    session.commit()
    assert _login(client, "employee@example.com").status_code == 400


def test_create_admin_command(runner, session):
    result = runner.invoke(
        args=[
            "create-admin",
            "--email",
            "Boss@Example.com",
            "--name",
            "Boss",
            "--password",
            "long enough password",
        ]
    )
    assert result.exit_code == 0, result.output
    admin = session.exec(select(User).where(User.email == "boss@example.com")).one()
    assert admin.role_set == {"admin", "hr"}
    again = runner.invoke(
        args=[
            "create-admin",
            "--email",
            "boss@example.com",
            "--name",
            "B",
            "--password",
            "long enough password",
        ]
    )
    assert again.exit_code == 2 and "already exists" in again.output
    short = runner.invoke(
        args=["create-admin", "--email", "x@example.com", "--name", "X", "--password", "short"]
    )
    assert short.exit_code == 2 and "at least 12" in short.output


def test_create_admin_reads_the_password_from_the_environment_without_asking(runner, session):
    result = runner.invoke(
        args=["create-admin", "--email", "ops@example.com", "--name", "Ops"],
        env={"TRAINER_ADMIN_PASSWORD": "from the environment"},
        input="",
    )
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output  # no prompt
    admin = session.exec(select(User).where(User.email == "ops@example.com")).one()
    assert password_matches(admin, "from the environment")
