"""trays: per viewer, the authors with live stories (embedded story-tray store)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 01:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('tray_entries',
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('author_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('score', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('user_id', 'author_id', name=op.f('pk_tray_entries'))
    )
    with op.batch_alter_table('tray_entries', schema=None) as batch_op:
        batch_op.create_index('ix_tray_entries_score', ['score'], unique=False)

    op.create_table('tray_states',
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('fresh_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('generation', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_tray_states'))
    )


def downgrade() -> None:
    op.drop_table('tray_states')
    with op.batch_alter_table('tray_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_tray_entries_score')
    op.drop_table('tray_entries')
