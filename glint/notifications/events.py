"""What happens in notifications, as events (emitted in the transaction that did it)."""

from __future__ import annotations

from dataclasses import dataclass

from glint.infra.events import Event


@dataclass(frozen=True, slots=True)
class NotificationRecorded(Event):
    """Someone was added to a user's notification (new, or grouped into one they have)."""

    name = "notification.recorded"
    notification_id: int
    user_id: int
