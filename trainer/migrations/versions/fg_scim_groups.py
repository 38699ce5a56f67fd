"""scim groups: the groups a directory pushes (scim_group) and their members

Revision ID: fg_scim_groups
Revises: ff_item_translations
Create Date: 2026-12-06

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "fg_scim_groups"
down_revision: str | None = "ff_item_translations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scim_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scim_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("scim_group", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scim_group_scim_id"), ["scim_id"], unique=True)
        batch_op.create_index(
            batch_op.f("ix_scim_group_display_name"), ["display_name"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_scim_group_external_id"), ["external_id"], unique=False
        )
    op.create_table(
        "scim_group_member",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("display", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.ForeignKeyConstraint(["group_id"], ["scim_group.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("group_id", "user_id"),
    )
    with op.batch_alter_table("scim_group_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scim_group_member_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scim_group_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scim_group_member_user_id"))
    op.drop_table("scim_group_member")
    with op.batch_alter_table("scim_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scim_group_external_id"))
        batch_op.drop_index(batch_op.f("ix_scim_group_display_name"))
        batch_op.drop_index(batch_op.f("ix_scim_group_scim_id"))
    op.drop_table("scim_group")
