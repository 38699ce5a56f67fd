"""Alembic environment: SQLModel metadata, batch mode for SQLite."""

from alembic import context

from trainer.db import import_all_models

target_metadata = import_all_models().metadata
config = context.config


def _engine():
    engine = config.attributes.get("engine")
    if engine is None:
        from trainer import create_app
        from trainer.db import get_engine

        with create_app().app_context():
            return get_engine()
    return engine


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
