"""indexes for the queries hot pages run

Revision ID: e1_hot_indexes
Revises: d3_fixes
Create Date: 2026-12-05 12:40:00

- survey_response (survey_id, group_key, id) WHERE comment IS NOT NULL: a team's comments on
  the results page (`pulse.services._comments`) read only commented answers of that team,
  already in order, instead of every answer of the cycle.
- fix_rollup (period): one quarter's cells for the fixes and insights pages
  (`fixes.released.released_cells`).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e1_hot_indexes'
down_revision: str | None = 'd3_fixes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMMENTED = sa.text("comment IS NOT NULL")


def upgrade() -> None:
    op.create_index('ix_survey_response_comments', 'survey_response',
                    ['survey_id', 'group_key', 'id'],
                    sqlite_where=COMMENTED, postgresql_where=COMMENTED)
    op.create_index('ix_fix_rollup_period', 'fix_rollup', ['period'])


def downgrade() -> None:
    op.drop_index('ix_fix_rollup_period', table_name='fix_rollup')
    op.drop_index('ix_survey_response_comments', table_name='survey_response')
