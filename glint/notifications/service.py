"""The rules of notifications: who hears of what, grouping, withdrawal, reading."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User, active_accounts
from glint.infra.db import insert_ignore, utcnow
from glint.infra.events import bus
from glint.infra.ids import IdGenerator
from glint.notifications import events
from glint.notifications.models import NOTICE_KINDS, Notification, NotificationActor
from glint.social import service as social_service

MAX_ACTORS_SHOWN = 3


def group_key(kind: str, *, actor_id: int, post_id: int | None, comment_id: int | None) -> str:
    """Events sharing a key are one notification: likes of one post, likes of one comment."""
    if kind == "like":
        return f"like:post:{post_id}"
    if kind == "comment_like":
        return f"comment_like:{comment_id}"
    if kind in ("follow", "follow_request", "follow_accepted"):
        return f"{kind}:{actor_id}"
    if comment_id is not None:
        return f"{kind}:comment:{comment_id}"
    return f"{kind}:post:{post_id}:{actor_id}"


async def record(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    kind: str,
    actor_id: int,
    recipient_id: int,
    post_id: int | None,
    comment_id: int | None,
    text: str | None,
    activity_id: int | None = None,
    group: str | None = None,
) -> int | None:
    """Store one event, grouped with its kind and announced (NotificationRecorded); the
    notification's ID, or None when it is not to be shown or showed this actor already."""
    if actor_id == recipient_id:
        return None
    actor = await session.get(User, actor_id)
    recipient = await session.get(User, recipient_id)
    if actor is None or recipient is None or not actor.is_active_account:
        return None
    if await social_service.is_blocked_either_way(session, a=actor_id, b=recipient_id):
        return None
    # `group` names the notification outright when its kind's rule does not fit (a story reply).
    key = group or group_key(kind, actor_id=actor_id, post_id=post_id, comment_id=comment_id)
    activity = activity_id or ids.next_id()
    await insert_ignore(
        session,
        Notification,
        {
            "id": ids.next_id(),
            "user_id": recipient_id,
            "kind": kind,
            "group_key": key,
            "post_id": post_id,
            "comment_id": comment_id,
            "text": text[:300] if text else None,
            "activity_id": activity,
            "read": False,
            "created_at": utcnow(),
        },
    )
    notification_id = await session.scalar(
        sa.select(Notification.id).where(
            Notification.user_id == recipient_id, Notification.group_key == key
        )
    )
    assert notification_id is not None
    added = await insert_ignore(
        session,
        NotificationActor,
        {"notification_id": notification_id, "actor_id": actor_id, "activity_id": activity},
    )
    if not added:
        return None
    await session.execute(
        sa.update(Notification)
        .where(Notification.id == notification_id)
        .values(
            activity_id=sa.case(
                (Notification.activity_id < activity, activity),
                else_=Notification.activity_id,
            ),
            read=False,
        )
    )
    await bus.emit(
        session,
        ids=ids,
        event=events.NotificationRecorded(notification_id, recipient_id),
    )
    return notification_id


async def request_became_follow(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    requester_id: int,
    target_id: int,
    activity_id: int | None = None,
) -> None:
    """An approved follow request: the target's `follow_request` notification from the
    requester turns into a `follow` one ("started following you"), keeping its ID, time and
    read state, so no stale request is left. When there is no request notification (yet), a
    follow is recorded; when there is a follow notification already, the request one goes."""
    keys = {
        kind: group_key(kind, actor_id=requester_id, post_id=None, comment_id=None)
        for kind in ("follow_request", "follow")
    }
    rows = dict(
        (
            await session.execute(
                sa.select(Notification.group_key, Notification.id).where(
                    Notification.user_id == target_id,
                    Notification.group_key.in_(keys.values()),
                )
            )
        ).all()
    )
    request_id, follow_id = rows.get(keys["follow_request"]), rows.get(keys["follow"])
    if request_id is None:
        if follow_id is None:
            await record(
                session,
                ids=ids,
                kind="follow",
                actor_id=requester_id,
                recipient_id=target_id,
                post_id=None,
                comment_id=None,
                text=None,
                activity_id=activity_id,
            )
        return
    if follow_id is not None:
        await session.execute(sa.delete(Notification).where(Notification.id == request_id))
        return
    await session.execute(
        sa.update(Notification)
        .where(Notification.id == request_id)
        .values(kind="follow", group_key=keys["follow"])
    )


async def retract(
    session: AsyncSession,
    *,
    kinds: list[str],
    actor_id: int,
    recipient_id: int,
    post_id: int | None,
    comment_id: int | None,
) -> None:
    """Remove an actor from the notifications an undone action made; drop emptied ones."""
    keys = [group_key(k, actor_id=actor_id, post_id=post_id, comment_id=comment_id) for k in kinds]
    notification_ids = list(
        await session.scalars(
            sa.select(Notification.id).where(
                Notification.user_id == recipient_id, Notification.group_key.in_(keys)
            )
        )
    )
    if not notification_ids:
        return
    await _drop_actor(session, actor_id=actor_id, notification_ids=notification_ids)


async def _drop_actor(
    session: AsyncSession, *, actor_id: int, notification_ids: Sequence[int]
) -> None:
    """Take an actor out of these notifications; those left without any actor go."""
    await session.execute(
        sa.delete(NotificationActor).where(
            NotificationActor.notification_id.in_(notification_ids),
            NotificationActor.actor_id == actor_id,
        )
    )
    await session.execute(
        sa.delete(Notification).where(
            Notification.id.in_(notification_ids),
            ~sa.exists().where(NotificationActor.notification_id == Notification.id),
        )
    )


# How many notifications one statement of an account's forgetting names at most.
FORGET_BATCH = 500


async def forget_account(session: AsyncSession, *, user_id: int) -> None:
    """An account going away: its own notifications go, and it leaves everyone else's (those
    it alone was behind go too)."""
    await session.execute(sa.delete(Notification).where(Notification.user_id == user_id))
    # In batches: a busy account acted in more notifications than one IN list may name.
    while acted_in := list(
        await session.scalars(
            sa.select(NotificationActor.notification_id)
            .where(NotificationActor.actor_id == user_id)
            .limit(FORGET_BATCH)
        )
    ):
        await _drop_actor(session, actor_id=user_id, notification_ids=acted_in)


Shown = tuple[Notification, list[User], int]


def has_something_to_say(shown: Shown) -> bool:
    """Whether a notification is worth showing: every actor gone (banned, deleted) leaves
    nothing to say, not even the comment's words; notices have no actor anyway."""
    row, actors, _ = shown
    return bool(actors) or row.kind in NOTICE_KINDS


async def _with_actors(session: AsyncSession, rows: list[Notification]) -> list[Shown]:
    """Each notification with its newest active actors and how many there are."""
    actors: dict[int, list[tuple[int, User]]] = defaultdict(list)
    if rows:
        for notification_id, activity, actor in await session.execute(
            sa.select(NotificationActor.notification_id, NotificationActor.activity_id, User)
            .join(User, User.id == NotificationActor.actor_id)
            .where(
                NotificationActor.notification_id.in_([row.id for row in rows]),
                active_accounts(),
            )
        ):
            actors[notification_id].append((activity, actor))
    result = []
    for row in rows:
        ordered = [user for _, user in sorted(actors[row.id], key=lambda item: -item[0])]
        result.append((row, ordered[:MAX_ACTORS_SHOWN], len(ordered)))
    return result


async def list_for(
    session: AsyncSession, *, user: User, before_activity: int | None, limit: int
) -> tuple[list[Shown], int]:
    """(notification, newest actors, actor count) rows, newest activity first; and unread."""
    query = sa.select(Notification).where(Notification.user_id == user.id)
    if before_activity is not None:
        query = query.where(Notification.activity_id < before_activity)
    rows = list(
        await session.scalars(query.order_by(Notification.activity_id.desc()).limit(limit + 1))
    )
    unread = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read.is_(False))
    )
    return await _with_actors(session, rows), int(unread or 0)


async def get_one(session: AsyncSession, *, user: User, notification_id: int) -> Shown | None:
    """One of the user's notifications with its actors; None when it is gone (or not theirs)."""
    row = await session.scalar(
        sa.select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user.id
        )
    )
    if row is None:
        return None
    (shown,) = await _with_actors(session, [row])
    return shown if shown[2] or row.kind in NOTICE_KINDS else None


async def mark_read(session: AsyncSession, *, user: User, up_to_id: int | None) -> None:
    """Mark notifications read: all, or those up to one (by newest activity)."""
    query = sa.update(Notification).where(
        Notification.user_id == user.id, Notification.read.is_(False)
    )
    if up_to_id is not None:
        limit = sa.select(Notification.activity_id).where(
            Notification.id == up_to_id, Notification.user_id == user.id
        )
        query = query.where(Notification.activity_id <= limit.scalar_subquery())
    await session.execute(query.values(read=True))


async def record_notice(
    session: AsyncSession, *, ids: IdGenerator, kind: str, recipient_id: int, key: str, text: str
) -> None:
    """Tell one user something the service itself says (no actor); once per `key`."""
    notification_id = ids.next_id()
    added = await insert_ignore(
        session,
        Notification,
        {
            "id": notification_id,
            "user_id": recipient_id,
            "kind": kind,
            "group_key": f"{kind}:{key}",
            "post_id": None,
            "comment_id": None,
            "text": text[:300],
            "activity_id": ids.next_id(),
            "read": False,
            "created_at": utcnow(),
        },
    )
    if added:
        event = events.NotificationRecorded(notification_id, recipient_id)
        await bus.emit(session, ids=ids, event=event)
