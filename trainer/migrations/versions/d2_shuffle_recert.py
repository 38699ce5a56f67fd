"""shuffled choices and recertification

Revision ID: d2_shuffle_recert
Revises: d1_action_plans
Create Date: 2026-12-05 07:05:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


# revision identifiers, used by Alembic.
revision: str = 'd2_shuffle_recert'
down_revision: str | None = 'd1_action_plans'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('scenario_play', schema=None) as batch_op:
        batch_op.add_column(sa.Column('choice_seed', sa.Integer(), nullable=True))
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('option_seed',
                                      sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
    with op.batch_alter_table('course_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certificate_valid_months', sa.Integer(), nullable=True))
    with op.batch_alter_table('course_certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('reminded_30_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('reminded_7_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('renewal_due_on', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_course_certificate_expires_on'), ['expires_on'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('course_certificate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_certificate_expires_on'))
        batch_op.drop_column('renewal_due_on')
        batch_op.drop_column('reminded_7_on')
        batch_op.drop_column('reminded_30_on')
        batch_op.drop_column('expires_on')
    with op.batch_alter_table('course_version', schema=None) as batch_op:
        batch_op.drop_column('certificate_valid_months')
    with op.batch_alter_table('quiz_attempt', schema=None) as batch_op:
        batch_op.drop_column('option_seed')
    with op.batch_alter_table('scenario_play', schema=None) as batch_op:
        batch_op.drop_column('choice_seed')
