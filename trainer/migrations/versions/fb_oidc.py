"""single sign-on: a person's subject at the provider, and HR's sign-in settings

Revision ID: fb_oidc
Revises: fe_themes
Create Date: 2026-12-06 01:50:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


# revision identifiers, used by Alembic.
revision: str = 'fb_oidc'
down_revision: str | None = 'fe_themes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'sign_in_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('jit_unit_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['jit_unit_id'], ['org_unit.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.add_column(sa.Column('oidc_subject', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_account_oidc_subject'), ['oidc_subject'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_oidc_subject'))
        batch_op.drop_column('oidc_subject')
    op.drop_table('sign_in_settings')
