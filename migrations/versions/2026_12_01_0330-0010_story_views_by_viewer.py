"""stories: story views by viewer (the tray joins one viewer's marks in one range scan)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 03:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('story_views', schema=None) as batch_op:
        batch_op.create_index(
            'ix_story_views_viewer_id_story_id', ['viewer_id', 'story_id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('story_views', schema=None) as batch_op:
        batch_op.drop_index('ix_story_views_viewer_id_story_id')
