"""account ownership: data exports, deletion with a grace period, two-factor sign-in, e-mail
tokens, reserved usernames

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 16:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Added in place (ALTER TABLE ADD COLUMN): copying `users` on SQLite would cascade-delete
# every row that references it.
def _user_columns() -> tuple[sa.Column[object], ...]:
    return (
        sa.Column("deletion_status", sa.String(length=16), nullable=True),
        sa.Column("purge_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_pending_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_enabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
    )


def _user_id() -> sa.Column[int]:
    return sa.Column("user_id", sa.BigInteger(), nullable=False, index=True)


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "account_tokens",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        _user_id(),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('verify_email', 'reset_password')",
            name=op.f("ck_account_tokens_purpose"),
        ),
        _user_fk("account_tokens"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_tokens_token_hash")),
    )
    op.create_table(
        "data_exports",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        _user_id(),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'ready', 'failed', 'expired')",
            name=op.f("ck_data_exports_status"),
        ),
        _user_fk("data_exports"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_exports")),
    )
    op.create_index(
        "uq_data_exports_running",
        "data_exports",
        ["user_id"],
        unique=True,
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        _user_id(),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        _user_fk("recovery_codes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    op.create_table(
        "username_reservations",
        sa.Column("username", sa.String(length=30), nullable=False),
        _user_id(),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        _user_fk("username_reservations"),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_username_reservations")),
    )
    op.add_column(
        "sessions",
        sa.Column(
            "factor", sa.String(length=16), nullable=False, server_default="password"
        ),
    )
    for column in _user_columns():
        op.add_column("users", column)
    op.create_index(
        "ix_users_purge_after",
        "users",
        ["purge_after"],
        sqlite_where=sa.text("deletion_status IS NOT NULL"),
        postgresql_where=sa.text("deletion_status IS NOT NULL"),
    )


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN on both databases (SQLite ≥ 3.35): batch mode would copy
    # `users`, and dropping the original would cascade to every row that references it.
    op.drop_index("ix_users_purge_after", table_name="users")
    for column in reversed(_user_columns()):
        op.execute(f"ALTER TABLE users DROP COLUMN {column.name}")
    op.execute("ALTER TABLE sessions DROP COLUMN factor")
    op.drop_index("uq_data_exports_running", table_name="data_exports")
    for table in ("username_reservations", "recovery_codes", "data_exports", "account_tokens"):
        op.drop_table(table)
