"""API shapes of notifications."""

from __future__ import annotations

from glint.accounts.schemas import UserSummary
from glint.schemas import Id, InputSchema, Schema, Timestamp


class NotificationOut(Schema):
    """One (possibly grouped) notification."""

    id: Id
    kind: str
    actors: list[UserSummary]
    actor_count: int
    post_id: Id | None
    comment_id: Id | None
    text: str | None
    read: bool
    created_at: Timestamp


class NotificationPage(Schema):
    """GET /notifications."""

    items: list[NotificationOut]
    next_cursor: str | None
    unread_count: int


class MarkReadIn(InputSchema):
    """POST /notifications/read: up to one notification, or all when omitted."""

    up_to_id: Id | None = None
