"""stream: each user's recent real-time events (embedded event log)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 23:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('stream_events',
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', 'id', name=op.f('pk_stream_events'))
    )
    with op.batch_alter_table('stream_events', schema=None) as batch_op:
        batch_op.create_index('ix_stream_events_id', ['id'], unique=False)

    op.create_table('stream_heads',
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('last_id', sa.BigInteger(), nullable=False),
    sa.Column('trimmed_through', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_stream_heads'))
    )


def downgrade() -> None:
    op.drop_table('stream_heads')
    with op.batch_alter_table('stream_events', schema=None) as batch_op:
        batch_op.drop_index('ix_stream_events_id')
    op.drop_table('stream_events')
