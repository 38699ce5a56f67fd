"""question items in other languages; course versions keep their language variants

Revision ID: ff_item_translations
Revises: fd_kiosk
Create Date: 2026-12-06 01:45:00.000000

"""
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
import yaml
import sqlmodel.sql.sqltypes
from alembic import op


# revision identifiers, used by Alembic.
revision: str = 'ff_item_translations'
down_revision: str | None = 'fd_kiosk'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'pulse_item_translation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
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
    _translate_default_items()


def _translate_default_items() -> None:
    """Give the default bank's items already in the database their shipped translations."""
    bank_file = Path(__file__).parents[2] / 'pulse' / 'default_bank.yaml'
    bank = yaml.safe_load(bank_file.read_text(encoding='utf-8'))
    items = sa.table('pulse_item', sa.column('id'), sa.column('code'), sa.column('text'))
    translations = sa.table(
        'pulse_item_translation',
        sa.column('item_id'),
        sa.column('language'),
        sa.column('text'),
        sa.column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime()),
    )
    connection = op.get_bind()
    stored = {code: (item_id, text) for item_id, code, text in connection.execute(sa.select(items))}
    rows = [
        {'item_id': stored[spec['code']][0], 'language': language, 'text': text,
         'updated_at': datetime.now(UTC)}
        for spec in bank['items']
        if spec['code'] in stored and stored[spec['code']][1] == spec['text']
        for language, text in (spec.get('translations') or {}).items()
    ]
    if rows:
        op.bulk_insert(translations, rows)


def downgrade() -> None:
    with op.batch_alter_table('course_version') as batch_op:
        batch_op.drop_column('variants')
    with op.batch_alter_table('pulse_item_translation') as batch_op:
        batch_op.drop_index(batch_op.f('ix_pulse_item_translation_item_id'))
    op.drop_table('pulse_item_translation')
