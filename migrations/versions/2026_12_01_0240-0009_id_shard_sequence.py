"""ids: shards numbered by a PostgreSQL sequence (durable, unlike a Redis counter)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 02:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite tells its processes apart by process ID and needs no sequence.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE IF NOT EXISTS id_shards START 1")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS id_shards")
