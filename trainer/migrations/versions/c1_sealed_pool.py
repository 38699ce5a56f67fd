"""sealed pool: pooled answers and marks are sealed boxes, opened in random batches

Answers still waiting in the plaintext pool are moved into the response tables first, in
random order (as a flush at close would), then the pools are rebuilt with one sealed column.

Revision ID: c1_sealed_pool
Revises: a6c782fd97ef
Create Date: 2026-12-04 18:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = 'c1_sealed_pool'
down_revision: str | None = 'a6c782fd97ef'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None



def _random_key() -> str:
    if op.get_bind().dialect.name == "sqlite":
        return "lower(hex(randomblob(16)))"
    return "md5(random()::text)"


def upgrade() -> None:
    key = _random_key()
    op.execute(f"INSERT INTO survey_response (id, survey_id, group_key, answers, comment) "
               f"SELECT {key}, survey_id, group_key, answers, comment FROM response_pool "
               f"ORDER BY random()")
    op.execute(f"INSERT INTO pulse_commitment_mark (id, commitment_id, answer) "
               f"SELECT {key}, commitment_id, answer FROM pulse_mark_pool ORDER BY random()")
    op.drop_table('response_pool')
    op.drop_table('pulse_mark_pool')
    op.drop_column('pulse_cycle', 'pool_waiting_since')  # batches no longer age out
    op.create_table('response_pool',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['pulse_cycle.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_response_pool_survey_id', 'response_pool', ['survey_id'])
    op.create_table('pulse_mark_pool',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('commitment_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['commitment_id'], ['pulse_commitment.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_pulse_mark_pool_commitment_id', 'pulse_mark_pool', ['commitment_id'])
    op.create_index('ix_pulse_mark_pool_unit_id', 'pulse_mark_pool', ['unit_id'])


def downgrade() -> None:
    # Sealed rows cannot be opened here: run the scheduler's flush before downgrading.
    op.add_column('pulse_cycle', sa.Column('pool_waiting_since',
                                           sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.drop_table('pulse_mark_pool')
    op.drop_table('response_pool')
    op.create_table('response_pool',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('group_key', sa.Integer(), nullable=False),
    sa.Column('answers', sa.Text(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['group_key'], ['org_unit.id'], ),
    sa.ForeignKeyConstraint(['survey_id'], ['pulse_cycle.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_response_pool_survey_id', 'response_pool', ['survey_id'])
    op.create_table('pulse_mark_pool',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('commitment_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.ForeignKeyConstraint(['commitment_id'], ['pulse_commitment.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_pulse_mark_pool_commitment_id', 'pulse_mark_pool', ['commitment_id'])
    op.create_index('ix_pulse_mark_pool_unit_id', 'pulse_mark_pool', ['unit_id'])
