"""people import: large people files imported by the scheduler

Revision ID: b1_people_import
Revises: c2_outbox_and_lease
Create Date: 2026-12-04 18:00:00.000000

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


# revision identifiers, used by Alembic.
revision: str = 'b1_people_import'
down_revision: str | None = 'c2_outbox_and_lease'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('people_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('deactivate_missing', sa.Boolean(), nullable=False),
    sa.Column('force', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('rows_checked', sa.Integer(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('people_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_people_import_created_by'), ['created_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_people_import_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('people_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_people_import_status'))
        batch_op.drop_index(batch_op.f('ix_people_import_created_by'))
    op.drop_table('people_import')
