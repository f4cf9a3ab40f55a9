"""moderation: reports, removals (tombstones), the append-only audit log, held comments, bans with
reason and end, the moderator role

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


OLD_ROLES = "role IN ('user', 'verified', 'admin')"
NEW_ROLES = "role IN ('user', 'verified', 'moderator', 'admin')"

# The audit log is append-only: the database itself refuses to change or remove a row.
PG_AUDIT_GUARD = (
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
)
SQLITE_AUDIT_GUARD = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
)


def _replace_role_check(old: str, new: str) -> None:
    """Swap the users.role CHECK. SQLite cannot alter a constraint, and copying `users` (batch
    mode) would cascade-delete every row that references it, so its stored schema text is
    edited in place, which SQLite allows for a CHECK the existing rows satisfy."""
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
        op.create_check_constraint("role", "users", new)
        return
    version = op.get_bind().exec_driver_sql("PRAGMA schema_version").scalar_one()
    op.execute("PRAGMA writable_schema = ON")
    op.get_bind().exec_driver_sql(
        "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'users'",
        (old, new),
    )
    op.execute(f"PRAGMA schema_version = {int(version) + 1}")
    op.execute("PRAGMA writable_schema = OFF")


def _guard_audit_log() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in PG_AUDIT_GUARD if postgres else SQLITE_AUDIT_GUARD:
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_username", sa.String(length=30), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target_type", sa.String(length=12), nullable=False),
        sa.Column("target_id", sa.BigInteger(), nullable=False),
        sa.Column("target_label", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    _guard_audit_log()
    op.create_table(
        "moderation_removals",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("target_type", sa.String(length=12), nullable=False),
        sa.Column("target_id", sa.BigInteger(), nullable=False),
        sa.Column("excerpt", sa.String(length=300), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_moderation_removals_author_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_removals")),
    )
    with op.batch_alter_table("moderation_removals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_moderation_removals_author_id"), ["author_id"], unique=False
        )

    op.create_table(
        "reports",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("reporter_id", sa.BigInteger(), nullable=True),
        sa.Column("target_type", sa.String(length=12), nullable=False),
        sa.Column("target_id", sa.BigInteger(), nullable=False),
        sa.Column("target_user_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("excerpt", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=True),
        sa.Column("resolved_by_id", sa.BigInteger(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f("ck_reports_status")),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["users.id"],
            name=op.f("fk_reports_reporter_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["users.id"],
            name=op.f("fk_reports_resolved_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["target_user_id"],
            ["users.id"],
            name=op.f("fk_reports_target_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index("ix_reports_status_id", ["status", "id"], unique=False)
        batch_op.create_index(
            "ix_reports_target", ["target_type", "target_id", "status"], unique=False
        )
        batch_op.create_index(
            "ux_reports_open_reporter_target",
            ["reporter_id", "target_type", "target_id"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )

    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("held", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ban_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("banned_until", sa.DateTime(timezone=True), nullable=True))
    _replace_role_check(OLD_ROLES, NEW_ROLES)


def downgrade() -> None:
    _replace_role_check(NEW_ROLES, OLD_ROLES)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("banned_until")
        batch_op.drop_column("ban_reason")

    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_column("held")

    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_reports_open_reporter_target",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
        batch_op.drop_index("ix_reports_target")
        batch_op.drop_index("ix_reports_status_id")

    op.drop_table("reports")
    with op.batch_alter_table("moderation_removals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_moderation_removals_author_id"))

    op.drop_table("moderation_removals")
    op.drop_table("audit_log")
