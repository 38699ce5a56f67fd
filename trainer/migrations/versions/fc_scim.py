"""scim: the directory's names for a person (scim_user), and the employee number

Revision ID: fc_scim
Revises: fb_oidc
Create Date: 2026-12-06

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "fc_scim"
down_revision: str | None = "fb_oidc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scim_user",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("user_name", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("user_name_shown", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("email_type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("formatted_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("given_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("family_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("removed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["user_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
        ),
        sa.PrimaryKeyConstraint("user_id"),
    )
    with op.batch_alter_table("scim_user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scim_user_external_id"), ["external_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scim_user_user_name"), ["user_name"], unique=True)
    # The same column as the kiosk branch adds (fd_kiosk): keep one of the two at merge.
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("employee_number", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_user_account_employee_number"), ["employee_number"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_account_employee_number"))
        batch_op.drop_column("employee_number")
    with op.batch_alter_table("scim_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scim_user_user_name"))
        batch_op.drop_index(batch_op.f("ix_scim_user_external_id"))
    op.drop_table("scim_user")
