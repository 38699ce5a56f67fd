"""Fixtures named as actions: app, client, runner, session, login_as, and small builders."""

import base64
import os
import shutil
import socket
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlmodel import Session, SQLModel

from trainer import create_app
from trainer.auth.models import User
from trainer.db import import_all_models, make_engine
from trainer.org.models import ManagedUnit
from trainer.org.services import create_unit

PG_URL = os.environ.get("TRAINER_TEST_DATABASE_URL")
PASSWORD = "correct horse battery"
# A cheap argon2 hash for test people: verifying it is fast, and real sign-in code still runs.
_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
SHARED = Path(__file__).resolve().parents[2] / "shared"

BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    """Create the schema once; each test gets a copy of this file."""
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    import_all_models().metadata.create_all(engine)
    engine.dispose()
    return path


def _worker_pg_url() -> str:
    """Give each pytest-xdist worker a PostgreSQL database of its own, next to the given one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return PG_URL
    base = sa.engine.make_url(PG_URL)
    name = f"{base.database}_{worker}"
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _pg_url():
    if not PG_URL:
        pytest.skip("TRAINER_TEST_DATABASE_URL is not set")
    return _worker_pg_url()


@pytest.fixture(scope="session")
def _pg_engine(_pg_url):
    engine = make_engine(_pg_url)
    metadata = import_all_models().metadata
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def _empty_all_tables(engine) -> None:
    """Delete every row (much faster than TRUNCATE for the small tables tests leave behind)."""
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path, _sqlite_template):
    """An isolated, empty database with the full schema, on each configured backend."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(_sqlite_template, path)
        yield f"sqlite:///{path}"
    else:
        engine = request.getfixturevalue("_pg_engine")
        _empty_all_tables(engine)
        yield engine.url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def seal_keys(tmp_path_factory):
    """One sealing key pair for the run: (public key file, private key file)."""
    from nacl.public import PrivateKey

    folder = tmp_path_factory.mktemp("seal")
    key = PrivateKey.generate()
    public, private = folder / "seal-public.key", folder / "seal-private.key"
    public.write_text(base64.b64encode(bytes(key.public_key)).decode())
    private.write_text(base64.b64encode(bytes(key)).decode())
    return public, private


@pytest.fixture
def app_config(database_url, tmp_path, seal_keys):
    return {
        "SEAL_PUBLIC_KEY_FILE": str(seal_keys[0]),
        "SEAL_PRIVATE_KEY_FILE": str(seal_keys[1]),
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "localhost",
        "BASE_URL": "http://localhost",
        # A missed analysis is worked out in the test's own process; one test covers the
        # separate process web workers use (tests/insights/test_web_imports.py).
        "INSIGHTS_COMPUTE": "inline",
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    yield app
    app.extensions["trainer.engine"].dispose()


@pytest.fixture
def runner(app):
    """Invoke `flask` CLI commands against the test app."""
    return app.test_cli_runner()


@pytest.fixture
def session(app, database_url):
    """A session for arranging and checking data, outside any request.

    On SQLite each statement commits on its own, so the test never holds a lock that the app
    under test would wait for, nor reads an old snapshot.
    """
    engine = make_engine(database_url, autocommit=True)
    with Session(engine, expire_on_commit=False) as s:
        yield s
    engine.dispose()


@pytest.fixture
def make_unit(session):
    def build(code, kind="team", parent=None, name=None):
        unit = create_unit(session=session, code=code, name=name or code, kind=kind, parent=parent)
        session.commit()
        return unit

    return build


@pytest.fixture
def make_user(session):
    counter = iter(range(1, 10_000))

    def build(roles="employee", unit=None, email=None, name=None, manages=(), password=True):
        n = next(counter)
        user = User(
            email=email or f"person{n}@example.com",
            name=name or f"Person {n}",
            roles=roles,
            unit_id=unit.id if unit else None,
            password_hash=_HASH if password else None,
        )
        session.add(user)
        session.flush()
        for managed in manages:
            session.add(ManagedUnit(user_id=user.id, unit_id=managed.id))
        session.commit()
        return user

    return build


class Org:
    """A small org: company C > regions R1, R2 > sites S1 (R1), S2 (R2) > teams T1, T2 (S1), T3."""

    def __init__(self, make_unit, make_user):
        self.company = make_unit("C", "company")
        self.r1 = make_unit("R1", "region", self.company)
        self.r2 = make_unit("R2", "region", self.company)
        self.s1 = make_unit("S1", "site", self.r1)
        self.s2 = make_unit("S2", "site", self.r2)
        self.t1 = make_unit("T1", "team", self.s1)
        self.t2 = make_unit("T2", "team", self.s1)
        self.t3 = make_unit("T3", "team", self.s2)
        self.employee = make_user("employee", self.t1, email="employee@example.com")
        self.manager = make_user(
            "employee,manager", self.s1, email="manager@example.com", manages=[self.s1]
        )
        self.hr = make_user("employee,hr", self.company, email="hr@example.com")
        self.admin = make_user("admin", self.company, email="admin@example.com")

    def user(self, role):
        return getattr(self, role)


@pytest.fixture
def org(make_unit, make_user):
    return Org(make_unit, make_user)


@pytest.fixture
def login_as(client):
    """Sign the test client in as `user` (through the real login form)."""

    def login(user):
        client.post("/auth/logout")
        response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return login


class Mailbox(list):
    """Messages a real SMTP server received; `deliver()` runs the outbox's sender once."""

    def __init__(self, app):
        super().__init__()
        self.app = app

    def deliver(self) -> int:
        from trainer.mail import drain

        with self.app.app_context(), Session(self.app.extensions["trainer.engine"]) as s:
            return drain(session=s)


def start_smtp_server(received: list):
    """Start a real SMTP server (aiosmtpd) that appends each message it accepts."""
    import logging

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # a line per SMTP command

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            from email import message_from_bytes
            from email.policy import default

            received.append(message_from_bytes(envelope.content, policy=default))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller


@pytest.fixture
def mailbox(app):
    """Point the app at a real SMTP server; yield the messages it receives."""
    box = Mailbox(app)
    controller = start_smtp_server(box)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    yield box
    controller.stop()
