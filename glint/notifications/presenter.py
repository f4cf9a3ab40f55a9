"""Turns notifications into their API shape."""

from __future__ import annotations

from glint.accounts.schemas import UserSummary
from glint.infra.ids import created_at
from glint.media.urls import MediaUrls
from glint.notifications.schemas import NotificationOut
from glint.notifications.service import Shown


def notification_out(shown: Shown, *, urls: MediaUrls) -> NotificationOut:
    """One (possibly grouped) notification, dated by its newest activity."""
    row, actors, count = shown
    return NotificationOut(
        id=row.id,
        kind=row.kind,
        actors=[UserSummary.of(actor, urls=urls) for actor in actors],
        actor_count=count,
        post_id=row.post_id,
        comment_id=row.comment_id,
        text=row.text,
        read=row.read,
        created_at=created_at(row.activity_id),
    )
