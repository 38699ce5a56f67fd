"""a person's subject at the single sign-on provider

Revision ID: fb_oidc
Revises: f0_user_locale
Create Date: 2026-12-06 01:50:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


# revision identifiers, used by Alembic.
revision: str = 'fb_oidc'
down_revision: str | None = 'f0_user_locale'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.add_column(sa.Column('oidc_subject', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_account_oidc_subject'), ['oidc_subject'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_oidc_subject'))
        batch_op.drop_column('oidc_subject')
