"""Tables of notifications: one row per (grouped) event, and the actors behind it."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from glint.infra.db import Base, UTCDateTime

KINDS = (
    "like",
    "comment",
    "comment_reply",
    "comment_like",
    "mention",
    "follow",
    "follow_request",
    "follow_accepted",
    "story_reply",
    "report_resolved",
    "content_removed",
    "export_ready",
)
# Told by the service itself (a moderation outcome, a finished data export): no actor, never
# grouped.
NOTICE_KINDS = ("report_resolved", "content_removed", "export_ready")


class Notification(Base):
    """Something that happened to a user; likes on one target share one row."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(sa.String(20))
    # Events with the same key collapse into one row (e.g. "like:post:123").
    group_key: Mapped[str] = mapped_column(sa.String(80))
    post_id: Mapped[int | None] = mapped_column(
        sa.BigInteger, sa.ForeignKey("posts.id", ondelete="CASCADE"), default=None
    )
    comment_id: Mapped[int | None] = mapped_column(
        sa.BigInteger, sa.ForeignKey("comments.id", ondelete="CASCADE"), default=None
    )
    text: Mapped[str | None] = mapped_column(sa.String(300), default=None)
    # The ID of the newest event in the group: lists sort on it, so new activity floats up.
    activity_id: Mapped[int] = mapped_column(sa.BigInteger)
    read: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("user_id", "group_key"),
        sa.Index("ix_notifications_user_id_activity_id", "user_id", "activity_id"),
    )


class NotificationActor(Base):
    """One actor of a notification (several for grouped likes)."""

    __tablename__ = "notification_actors"

    notification_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    activity_id: Mapped[int] = mapped_column(sa.BigInteger)
