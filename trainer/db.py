"""Database engine, one session per request, SQLite pragmas and the `db` CLI."""

import contextvars
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app, g, request
from flask.cli import AppGroup
from sqlalchemy import event
from sqlmodel import Session, SQLModel

from trainer import features

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"  # shipped in the package

# SQLite write transactions start with BEGIN IMMEDIATE so that two writers queue on the
# busy timeout instead of failing on a lock upgrade. Reads (GET requests) start DEFERRED.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)


def import_all_models() -> type[SQLModel]:
    """Import every module that defines tables; return SQLModel, its metadata complete."""
    features.import_models()
    return SQLModel


def make_engine(url: str, echo: bool = False, autocommit: bool = False) -> sa.Engine:
    """Create an engine; on SQLite apply WAL, busy timeout, foreign keys and IMMEDIATE writes.

    `autocommit=True` (SQLite only, for tests and tools) runs each statement on its own, so a
    session that only looks never holds a lock or an old snapshot.
    """
    if not url.startswith("sqlite"):
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):  # psycopg 3 is the installed driver
                url = "postgresql+psycopg://" + url.removeprefix(prefix)
        return sa.create_engine(url, echo=echo, pool_pre_ping=True)
    engine = sa.create_engine(url, echo=echo, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let the "begin" hook below issue BEGIN
        cursor = dbapi_conn.cursor()
        for pragma in (
            "journal_mode=WAL",
            "busy_timeout=10000",
            "foreign_keys=ON",
            "secure_delete=ON",
            "synchronous=NORMAL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):
        if not autocommit:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")

    return engine


def get_engine() -> sa.Engine:
    return current_app.extensions["trainer.engine"]


def db_session() -> Session:
    """Return the request's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    return g.db_session


def _begin_request():
    write_intent.set(request.method not in ("GET", "HEAD", "OPTIONS"))


def _commit_request(response):
    """Commit once per request when the response succeeded, else roll back."""
    session = g.pop("db_session", None)
    if session is not None:
        try:
            if response.status_code < 400:
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()
    return response


def _close_session(_exc):
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()
    write_intent.set(True)


def alembic_config(engine: sa.Engine | None = None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


db_cli = AppGroup("db", help="Manage the database schema (Alembic migrations).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade_command(revision):
    """Apply migrations up to REVISION (default: head)."""
    upgrade(get_engine(), revision)
    click.echo(f"Database upgraded to {revision}.")


@db_cli.command("downgrade")
@click.argument("revision", default="-1")
def downgrade_command(revision):
    """Revert migrations down to REVISION (default: one step)."""
    from alembic import command

    command.downgrade(alembic_config(get_engine()), revision)
    click.echo(f"Database downgraded to {revision}.")


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate", is_flag=True)
def revision_command(message, autogenerate):
    """Create a new migration script."""
    from alembic import command

    command.revision(alembic_config(get_engine()), message=message, autogenerate=autogenerate)


@db_cli.command("current")
def current_command():
    """Show the current revision."""
    from alembic import command

    command.current(alembic_config(get_engine()))


def init_app(app: Flask) -> None:
    import_all_models()
    engine = make_engine(app.config["DATABASE_URL"], echo=app.config["SQL_ECHO"])
    app.extensions["trainer.engine"] = engine
    app.before_request(_begin_request)
    app.after_request(_commit_request)
    # Flask 3.1 test clients can reuse one app context across requests, so close per request too.
    app.teardown_request(_close_session)
    app.teardown_appcontext(_close_session)
    app.cli.add_command(db_cli)
