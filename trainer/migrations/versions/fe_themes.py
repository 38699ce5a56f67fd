"""driver analyses and comment themes stored at cycle close

Revision ID: fe_themes
Revises: f0_user_locale
Create Date: 2026-12-06 01:50:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


# revision identifiers, used by Alembic.
revision: str = 'fe_themes'
down_revision: str | None = 'f0_user_locale'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'pulse_unit_drivers',
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('analysis', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['cycle_id'], ['pulse_cycle.id']),
        sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id']),
        sa.PrimaryKeyConstraint('cycle_id', 'unit_id'),
    )
    op.create_table(
        'pulse_comment_theme',
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('terms', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('bank_theme', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('comments', sa.Integer(), nullable=False),
        sa.Column('of_comments', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['cycle_id'], ['pulse_cycle.id']),
        sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id']),
        sa.PrimaryKeyConstraint('cycle_id', 'unit_id', 'position'),
    )
    with op.batch_alter_table('pulse_cycle') as batch_op:
        batch_op.add_column(
            sa.Column('analyses_done', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('pulse_cycle') as batch_op:
        batch_op.drop_column('analyses_done')
    op.drop_table('pulse_comment_theme')
    op.drop_table('pulse_unit_drivers')
