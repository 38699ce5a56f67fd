"""action plans: owner, due date, theme, status history and nudges

Revision ID: d1_action_plans
Revises: b1_privacy
Create Date: 2026-12-05 07:10:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = 'd1_action_plans'
down_revision: str | None = 'b1_privacy'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('pulse_commitment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('details', sqlmodel.sql.sqltypes.AutoString(length=1000),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('theme', sqlmodel.sql.sqltypes.AutoString(length=32),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('item_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16),
                                      nullable=False, server_default='planned'))
        batch_op.add_column(sa.Column('status_at', sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_pulse_commitment_owner_id'), ['owner_id'],
                              unique=False)
        batch_op.create_foreign_key('fk_pulse_commitment_owner_id', 'user_account',
                                    ['owner_id'], ['id'])
        batch_op.create_foreign_key('fk_pulse_commitment_item_id', 'pulse_item',
                                    ['item_id'], ['id'])

    op.create_table('pulse_action_update',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commitment_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['commitment_id'], ['pulse_commitment.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pulse_action_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pulse_action_update_commitment_id'),
                              ['commitment_id'], unique=False)

    op.create_table('pulse_action_nudge',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('pulse_action_nudge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pulse_action_nudge_user_id'), ['user_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pulse_action_nudge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pulse_action_nudge_user_id'))
    op.drop_table('pulse_action_nudge')
    with op.batch_alter_table('pulse_action_update', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pulse_action_update_commitment_id'))
    op.drop_table('pulse_action_update')
    with op.batch_alter_table('pulse_commitment', schema=None) as batch_op:
        batch_op.drop_constraint('fk_pulse_commitment_item_id', type_='foreignkey')
        batch_op.drop_constraint('fk_pulse_commitment_owner_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_pulse_commitment_owner_id'))
        batch_op.drop_column('status_at')
        batch_op.drop_column('status')
        batch_op.drop_column('item_id')
        batch_op.drop_column('theme')
        batch_op.drop_column('due_on')
        batch_op.drop_column('owner_id')
        batch_op.drop_column('details')
