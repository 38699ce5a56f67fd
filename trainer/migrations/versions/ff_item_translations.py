"""question items in other languages; course versions keep their language variants

Revision ID: ff_item_translations
Revises: f0_user_locale
Create Date: 2026-12-06 01:45:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


# revision identifiers, used by Alembic.
revision: str = 'ff_item_translations'
down_revision: str | None = 'f0_user_locale'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'pulse_item_translation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['pulse_item.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('item_id', 'language', name='uq_pulse_item_translation_language'),
    )
    with op.batch_alter_table('pulse_item_translation') as batch_op:
        batch_op.create_index(
            batch_op.f('ix_pulse_item_translation_item_id'), ['item_id'], unique=False
        )
    with op.batch_alter_table('course_version') as batch_op:
        batch_op.add_column(sa.Column('variants', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('course_version') as batch_op:
        batch_op.drop_column('variants')
    with op.batch_alter_table('pulse_item_translation') as batch_op:
        batch_op.drop_index(batch_op.f('ix_pulse_item_translation_item_id'))
    op.drop_table('pulse_item_translation')
