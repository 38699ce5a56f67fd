"""Alembic: `upgrade head` builds the schema, and autogenerate then finds no drift."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from trainer.db import import_all_models, make_engine, upgrade


def test_upgrade_head_then_autogenerate_finds_no_differences(database_url):
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA migration_check"))
        engine.dispose()
        engine = sa.create_engine(
            engine.url, connect_args={"options": "-csearch_path=migration_check"}
        )
    else:
        with engine.begin() as conn:  # start from nothing, not from the test template
            for table in reversed(import_all_models().metadata.sorted_tables):
                conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table.name}"'))
    try:
        upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, import_all_models().metadata)
        assert diff == [], f"models and migrations differ: {diff}"
    finally:
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA migration_check CASCADE"))
        engine.dispose()
