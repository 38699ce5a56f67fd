"""people without email (known by the employee number fc_scim added) and personal sign-in cards

Revision ID: fd_kiosk
Revises: fc_scim
Create Date: 2026-12-06 01:50:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


# revision identifiers, used by Alembic.
revision: str = 'fd_kiosk'
down_revision: str | None = 'fc_scim'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'sign_in_card',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('issued_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code_hash'),
    )
    with op.batch_alter_table('sign_in_card') as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_card_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_card_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.alter_column(
            'email', existing_type=sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True
        )


def downgrade() -> None:
    op.drop_table('sign_in_card')
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.alter_column(
            'email', existing_type=sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False
        )
