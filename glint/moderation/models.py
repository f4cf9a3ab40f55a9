"""Tables of moderation: reports, what moderators removed (the authors' tombstones), and the
append-only audit log of every staff action.

A report is a small state machine, resolved once for every open report on its target:

    open ──dismiss / remove_content / ban_user──▶ resolved

A comment held by the automatic guards arrives as an open report with no reporter.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal, get_args

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from glint.errors import Conflict
from glint.infra.db import Base, UTCDateTime

Reason = Literal[
    "spam",
    "harassment",
    "hate",
    "nudity",
    "violence",
    "self_harm",
    "misinformation",
    "intellectual_property",
    "other",
]
TargetType = Literal["post", "comment", "user", "message", "story"]
REASONS: tuple[str, ...] = get_args(Reason)
TARGET_TYPES: tuple[str, ...] = get_args(TargetType)
# What a moderator can take down (a user is banned instead).
CONTENT_TYPES = ("post", "comment", "message", "story")


class ReportStatus(StrEnum):
    """Where a report stands."""

    OPEN = "open"
    RESOLVED = "resolved"


REPORT_TRANSITIONS: dict[ReportStatus, frozenset[ReportStatus]] = {
    ReportStatus.OPEN: frozenset({ReportStatus.RESOLVED}),
    ReportStatus.RESOLVED: frozenset(),
}


class Action(StrEnum):
    """How a moderator resolves a report; stored as the report's outcome."""

    DISMISS = "dismiss"
    REMOVE_CONTENT = "remove_content"
    BAN_USER = "ban_user"


class Report(Base):
    """One member's report of one thing (or the guards' hold, with no reporter)."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    reporter_id: Mapped[int | None] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    target_type: Mapped[str] = mapped_column(sa.String(12))
    # No foreign key: the target may be removed while the report stays as a record.
    target_id: Mapped[int] = mapped_column(sa.BigInteger)
    # Whose it is (the author, or the user reported): for banning and for the queue's names.
    target_user_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE")
    )
    reason: Mapped[str] = mapped_column(sa.String(32))
    text: Mapped[str] = mapped_column(sa.String(1000), default="")
    # What the reporter saw, kept in case the target is gone by the time a moderator looks.
    excerpt: Mapped[str] = mapped_column(sa.String(300), default="")
    status: Mapped[str] = mapped_column(sa.String(12), default=ReportStatus.OPEN)
    action: Mapped[str | None] = mapped_column(sa.String(16), default=None)
    resolved_by_id: Mapped[int | None] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("status IN ('open', 'resolved')", name="status"),
        # One open report per reporter and target (a second asks for the first back).
        sa.Index(
            "ux_reports_open_reporter_target",
            "reporter_id",
            "target_type",
            "target_id",
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        ),
        sa.Index("ix_reports_target", "target_type", "target_id", "status"),
        sa.Index("ix_reports_status_id", "status", "id"),
    )


def check_move(report: Report, to: ReportStatus) -> None:
    """Refuse a move REPORT_TRANSITIONS does not allow (before anything is done for it)."""
    if to not in REPORT_TRANSITIONS[ReportStatus(report.status)]:
        raise Conflict(f"This report is already {report.status}.", code="report_resolved")


def move_report(report: Report, to: ReportStatus) -> None:
    """Move a report along REPORT_TRANSITIONS, or refuse."""
    check_move(report, to)
    report.status = to


class Removal(Base):
    """A tombstone: something a moderator took down, as its author sees it (what and why)."""

    __tablename__ = "moderation_removals"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    author_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    target_type: Mapped[str] = mapped_column(sa.String(12))
    target_id: Mapped[int] = mapped_column(sa.BigInteger)
    excerpt: Mapped[str] = mapped_column(sa.String(300), default="")
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    removed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One staff action: who, what, when, on what, why. Rows are only ever added (the
    database refuses updates and deletes by trigger, see the migration)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    # Null for the system (a ban that ran out); the name is kept as it was then.
    actor_id: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)
    actor_username: Mapped[str] = mapped_column(sa.String(30))
    action: Mapped[str] = mapped_column(sa.String(32))
    target_type: Mapped[str] = mapped_column(sa.String(12))
    target_id: Mapped[int] = mapped_column(sa.BigInteger)
    target_label: Mapped[str] = mapped_column(sa.String(100), default="")
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
