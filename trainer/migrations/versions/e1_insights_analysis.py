"""stored insights analyses, shared by the scheduler and the web workers

Revision ID: e1_insights_analysis
Revises: e1_hot_indexes
Create Date: 2026-12-05 12:30:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


# revision identifiers, used by Alembic.
revision: str = 'e1_insights_analysis'
down_revision: str | None = 'e1_hot_indexes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('insights_analysis',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('scope_spec', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('computed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('insights_analysis', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_insights_analysis_computed_at'), ['computed_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_insights_analysis_scope'), ['scope'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('insights_analysis', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_insights_analysis_scope'))
        batch_op.drop_index(batch_op.f('ix_insights_analysis_computed_at'))
    op.drop_table('insights_analysis')
