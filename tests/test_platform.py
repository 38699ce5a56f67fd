"""Configuration, security headers, error pages and the demo command."""

import pytest
from sqlmodel import func, select

from trainer import create_app
from trainer.auth.models import User
from trainer.org.models import OrgUnit
from trainer.util import utcnow


def test_every_html_response_carries_security_headers(client):
    response = client.get("/auth/login")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_httponly_and_lax(client, org):
    response = client.post(
        "/auth/login", data={"email": "employee@example.com", "password": "correct horse battery"}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_production_refuses_the_default_secret_key(monkeypatch):
    from trainer.config import DEFAULT_SECRET_KEY

    monkeypatch.setenv("TRAINER_PRODUCTION", "true")
    # Whatever instance/config.py holds (make setup writes a random key there), not this one.
    monkeypatch.setenv("TRAINER_SECRET_KEY", DEFAULT_SECRET_KEY)
    with pytest.raises(RuntimeError, match="default SECRET_KEY"):
        create_app({"DATABASE_URL": "sqlite://"})


def test_production_uses_secure_cookies(monkeypatch):
    monkeypatch.setenv("TRAINER_PRODUCTION", "true")
    monkeypatch.setenv("TRAINER_SECRET_KEY", "a-real-secret-from-the-environment")
    monkeypatch.setenv("TRAINER_BASE_URL", "https://trainer.example.com")
    app = create_app({"DATABASE_URL": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


def test_production_refuses_to_start_without_base_url(monkeypatch):
    monkeypatch.setenv("TRAINER_PRODUCTION", "true")
    monkeypatch.setenv("TRAINER_SECRET_KEY", "a-real-secret-from-the-environment")
    with pytest.raises(RuntimeError, match="without BASE_URL"):
        create_app({"DATABASE_URL": "sqlite://", "BASE_URL": None})


@pytest.mark.parametrize(
    ("host", "port", "base_url", "expected"),
    [
        ("192.0.2.7", "8123", None, "http://192.0.2.7:8123/auth/login"),
        ("0.0.0.0", "5001", None, "http://127.0.0.1:5001/auth/login"),  # noqa: S104
        ("::1", "5002", None, "http://[::1]:5002/auth/login"),
        (
            "192.0.2.7",
            "8123",
            "https://trainer.example.com",
            "https://trainer.example.com/auth/login",
        ),
    ],
)
def test_emailed_links_follow_host_and_port_unless_base_url_is_set(
    monkeypatch, host, port, base_url, expected
):
    from trainer.util import external_url

    monkeypatch.setenv("TRAINER_HOST", host)  # what `make run HOST=... PORT=...` passes on
    monkeypatch.setenv("TRAINER_PORT", port)
    app = create_app({"DATABASE_URL": "sqlite://", "BASE_URL": base_url})
    with app.app_context():
        assert external_url("auth.login") == expected


def test_environment_overrides_defaults(monkeypatch):
    monkeypatch.setenv("TRAINER_LOGIN_MAX_FAILURES", "3")
    app = create_app({"DATABASE_URL": "sqlite://"})
    assert app.config["LOGIN_MAX_FAILURES"] == 3


@pytest.mark.parametrize(("path", "status"), [("/nope", 404), ("/org/", 403)])
def test_friendly_error_pages(client, login_as, org, path, status):
    login_as(org.employee)
    response = client.get(path)
    assert response.status_code == status
    assert b"Go to the home page" in response.data


def test_a_crash_gets_the_friendly_500_page_and_rolls_back(app, client, org, session):
    @app.route("/boom")
    def boom():
        from trainer.db import db_session

        db_session().add(User(email="half@example.com", name="Half"))
        db_session().flush()
        raise RuntimeError("boom")

    boom.access = None
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom")
    assert response.status_code == 500 and b"Nothing you sent was half-saved" in response.data
    assert session.exec(select(User).where(User.email == "half@example.com")).first() is None


def test_api_errors_are_json(client):
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404 and response.json["error"]["status"] == 404


def test_demo_builds_a_dealer_group_with_a_call_centre(runner, session):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    kinds = dict(session.exec(select(OrgUnit.kind, func.count()).group_by(OrgUnit.kind)).all())
    assert kinds["company"] == 1 and kinds["region"] == 2 and kinds["site"] == 8
    assert 28 <= kinds["team"] <= 32
    people = session.exec(select(func.count()).select_from(User)).one()
    assert 250 <= people <= 350
    for role in ("employee", "manager", "hr", "admin"):
        assert f"{role}@example.com" in result.output
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 2 and "already has people" in again.output
    assert runner.invoke(args=["demo", "--if-empty"]).exit_code == 0


def test_demo_scales_with_employees(runner, session):
    result = runner.invoke(args=["demo", "--employees", "700"])
    assert result.exit_code == 0, result.output
    people = session.exec(select(func.count()).select_from(User)).one()
    assert 650 <= people <= 760


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok"}


def _queue(app, key="test:1", to="someone@example.com"):
    from sqlmodel import Session

    from trainer.mail import queue_mail

    with app.app_context(), Session(app.extensions["trainer.engine"]) as session:
        queued = queue_mail(
            session=session, key=key, to=to, subject="Hello there", body="Body text"
        )
        session.commit()
    return queued


def test_without_an_smtp_server_mail_waits_in_the_outbox_not_the_log(
    app, client, login_as, org, caplog
):
    caplog.set_level("DEBUG")
    assert _queue(app)
    assert not _queue(app)  # the same key never queues twice
    assert "Body text" not in caplog.text
    login_as(org.admin)
    page = client.get("/dev/mail").get_data(as_text=True)
    assert "someone@example.com" in page and "Hello there" in page and "Body text" in page
    login_as(org.hr)
    assert client.get("/dev/mail").status_code == 403


def test_the_development_mail_page_is_absent_in_production(app, client, login_as, org):
    app.config.update(PRODUCTION=True)
    login_as(org.admin)
    assert client.get("/dev/mail").status_code == 404


def test_with_an_smtp_server_mail_is_really_sent_once(app, mailbox):
    from trainer.mail import message_id

    _queue(app)
    assert mailbox.deliver() == 1
    assert mailbox.deliver() == 0
    [message] = mailbox
    assert message["Subject"] == "Hello there" and "Body text" in message.get_content()
    assert message["Message-ID"] == message_id("test:1")


def test_a_failed_send_is_retried_with_backoff_and_shown_to_admins(
    app, client, login_as, org, mailbox, session
):
    from datetime import timedelta

    from trainer.mail import OutboxMessage, drain

    _queue(app)
    working_port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = 1  # nothing listens there
    assert mailbox.deliver() == 0
    row = session.exec(select(OutboxMessage)).one()
    assert (row.status, row.attempts) == ("queued", 1) and "Error" in row.last_error
    login_as(org.admin)
    page = client.get("/system").get_data(as_text=True)
    assert "someone@example.com" in page and "ConnectionRefusedError" in page
    app.config["MAIL_PORT"] = working_port
    assert mailbox.deliver() == 0  # not yet: the retry waits a minute
    with app.app_context():
        assert drain(session=session, now=utcnow() + timedelta(minutes=2)) == 1
    session.expire_all()
    row = session.exec(select(OutboxMessage)).one()
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert len(mailbox) == 1
