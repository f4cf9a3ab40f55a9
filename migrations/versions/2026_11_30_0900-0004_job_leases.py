"""jobs: holder and lost-lease count; periodic task leases

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_by', sa.String(length=200), nullable=True))
        # Existing rows never lost a lease that was counted: start them at zero.
        batch_op.add_column(
            sa.Column('lost_leases', sa.Integer(), nullable=False, server_default=sa.text('0'))
        )

    op.create_table('periodic_leases',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_periodic_leases'))
    )


def downgrade() -> None:
    op.drop_table('periodic_leases')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('lost_leases')
        batch_op.drop_column('locked_by')
