"""Schema guard: the answer tables hold nothing that identifies a person or a time."""

import sqlalchemy as sa

from trainer.db import import_all_models

ANSWER_TABLES = ["response_pool", "survey_response", "pulse_mark_pool", "pulse_commitment_mark"]
IDENTITY_TABLES = {
    "user_account",
    "survey_participation",
    "pulse_invitation",
    "pulse_commitment_voter",
    "login_throttle",
    "managed_unit",
    "sign_in_card",
}
FORBIDDEN_WORDS = (
    "user",
    "employee",
    "person",
    "email",
    "name",
    "ip",
    "agent",
    "device",
    "session",
    "token",
    "hash",
    "time",
    "date",
    "created",
    "updated",
    "at",
    "submitted",
    "country",
    "browser",
    "seq",
    "serial",
    "order",
)


def _words(column_name: str) -> set[str]:
    return set(column_name.lower().split("_"))


def test_answer_tables_have_no_identifying_or_time_columns():
    metadata = import_all_models().metadata
    for name in ANSWER_TABLES:
        table = metadata.tables[name]
        for column in table.columns:
            assert not (_words(column.name) & set(FORBIDDEN_WORDS)), f"{name}.{column.name}"
            assert not isinstance(column.type, (sa.DateTime, sa.Date, sa.Time)), (
                f"{name}.{column.name} is a time"
            )
            for fk in column.foreign_keys:
                assert fk.column.table.name not in IDENTITY_TABLES, f"{name}.{column.name}"


def test_answer_tables_have_random_text_keys_and_no_autoincrement():
    metadata = import_all_models().metadata
    for name in ANSWER_TABLES:
        table = metadata.tables[name]
        keys = list(table.primary_key.columns)
        assert [c.name for c in keys] == ["id"], name
        column_type = getattr(keys[0].type, "impl", keys[0].type)
        assert isinstance(column_type, sa.String), f"{name}.id must be a random UUID"
        assert not isinstance(keys[0].type, sa.Integer), f"{name}.id must not autoincrement"


def test_participation_says_only_who_took_part():
    metadata = import_all_models().metadata
    assert {c.name for c in metadata.tables["survey_participation"].columns} == {
        "survey_id",
        "employee_id",
    }
    assert {c.name for c in metadata.tables["pulse_commitment_voter"].columns} == {
        "commitment_id",
        "employee_id",
    }


def test_the_database_schema_matches(app):
    """The live database (SQLite or PostgreSQL) has exactly these columns, none added."""
    inspector = sa.inspect(app.extensions["trainer.engine"])
    metadata = import_all_models().metadata
    for name in ANSWER_TABLES:
        live = {c["name"] for c in inspector.get_columns(name)}
        assert live == {c.name for c in metadata.tables[name].columns}
        for fk in inspector.get_foreign_keys(name):
            assert fk["referred_table"] not in IDENTITY_TABLES
