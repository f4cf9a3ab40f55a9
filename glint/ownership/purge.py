"""The purge of a deleted account: every row and every stored object it made goes, and the
counters it moved on others are recounted.

Each domain removes its own part the way it removes it for anyone (a post through
`remove_post`, a message through its unsend, …), so feeds, caches, search and storage follow by
the same events. The purge is a list of steps, each working one batch in one transaction and
saying whether more remains; the job commits between batches. Nothing records progress: a
step that runs again simply finds less to do, so a purge that died midway is finished by
running it again. The users row goes last, taking with it (by its foreign keys) what nothing
else counts on: sessions, recovery codes, e-mail tokens, username reservations, reports it
filed, hashtag follows, dismissed suggestions, its own data exports' rows.

Kept on purpose: the moderation audit log. It is append-only (refused by database triggers),
has no foreign key to users, and records what staff did; an entry about this account keeps
its ID and the username it had then, as the record of a staff action must.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts import events as accounts_events
from glint.accounts.models import User
from glint.discovery import trends as discovery_trends
from glint.infra.eventlog import EventLog
from glint.infra.events import bus
from glint.infra.ids import IdGenerator
from glint.infra.storage import ObjectStore
from glint.infra.timelines import TimelineStore
from glint.infra.trays import TrayStore
from glint.media import service as media_service
from glint.messaging import forgetting as messaging_forgetting
from glint.notifications import service as notifications_service
from glint.ownership import exports
from glint.posts import forgetting as posts_forgetting
from glint.posts import service as posts_service
from glint.posts.models import Post
from glint.social import forgetting as social_forgetting
from glint.stories import forgetting as stories_forgetting

# Rows per transaction: small enough for SQLite's one writer to keep taking turns.
BATCH = 100


@dataclass(frozen=True, slots=True)
class PurgeTools:
    """The adapters a purge needs besides the database."""

    ids: IdGenerator
    storage: ObjectStore
    timelines: TimelineStore
    trays: TrayStore
    eventlog: EventLog


Step = Callable[[AsyncSession, PurgeTools, int], Awaitable[bool]]


async def _posts(session: AsyncSession, tools: PurgeTools, user_id: int) -> bool:
    posts = list(
        await session.scalars(
            sa.select(Post).where(Post.author_id == user_id).order_by(Post.id).limit(BATCH)
        )
    )
    for post in posts:
        await posts_service.remove_post(session, ids=tools.ids, post=post)
    return len(posts) == BATCH


async def _trays(session: AsyncSession, tools: PurgeTools, user_id: int) -> bool:
    await stories_forgetting.leave_trays(session, trays=tools.trays, author_id=user_id)
    return False


async def _stories(session: AsyncSession, tools: PurgeTools, user_id: int) -> bool:
    return await stories_forgetting.remove_stories_of(
        session, ids=tools.ids, author_id=user_id, limit=BATCH
    )


async def _comments(session: AsyncSession, tools: PurgeTools, user_id: int) -> bool:
    return await posts_forgetting.remove_comments_of(
        session, ids=tools.ids, author_id=user_id, limit=BATCH
    )


async def _likes(session: AsyncSession, tools: PurgeTools, user_id: int) -> bool:
    return await posts_forgetting.take_back_likes(
        session, ids=tools.ids, user_id=user_id, limit=BATCH
    )


async def _views(session: AsyncSession, tools: PurgeTools, user_id: int) -> bool:
    await stories_forgetting.take_back_views(session, viewer_id=user_id)
    return False


async def _graph(session: AsyncSession, tools: PurgeTools, user_id: int) -> bool:
    return await social_forgetting.leave_graph(session, ids=tools.ids, user_id=user_id, limit=BATCH)


async def _messages(session: AsyncSession, tools: PurgeTools, user_id: int) -> bool:
    return await messaging_forgetting.unsend_all_of(
        session, ids=tools.ids, sender_id=user_id, limit=BATCH
    )


async def _conversations(session: AsyncSession, tools: PurgeTools, user_id: int) -> bool:
    await messaging_forgetting.leave_conversations(
        session, ids=tools.ids, storage=tools.storage, user_id=user_id
    )
    return False


async def _notifications(session: AsyncSession, tools: PurgeTools, user_id: int) -> bool:
    await notifications_service.forget_account(session, user_id=user_id)
    await discovery_trends.forget_poster(session, author_id=user_id)
    return False


def owned_prefixes(user_id: int) -> list[str]:
    """Every storage folder named after the account: its photos' renditions and originals of
    each kind it owns (posts, avatars, stories) and its data exports."""
    kinds = (media_service.KIND_POST, media_service.KIND_AVATAR, media_service.KIND_STORY)
    return [
        *(f"{kind}/{user_id}/" for kind in kinds),
        *(f"originals/{kind}/{user_id}/" for kind in kinds),
        exports.exports_prefix(user_id),
    ]


async def _objects_and_caches(session: AsyncSession, tools: PurgeTools, user_id: int) -> bool:
    # The domains' removal events delete their objects too; this sweep catches whatever a
    # crash or a photo still being processed left behind.
    await media_service.delete_objects(tools.storage, keys=[], prefixes=owned_prefixes(user_id))
    await tools.timelines.forget(user_id)
    await tools.eventlog.forget(user_id)
    return False


async def _account(session: AsyncSession, tools: PurgeTools, user_id: int) -> bool:
    await session.execute(sa.delete(User).where(User.id == user_id))
    # Search forgets the account for good (it already left at the request).
    await bus.emit(session, ids=tools.ids, event=accounts_events.ProfileChanged(user_id))
    return False


# In this order: posts before comments (a post takes the comments on it along), trays while
# the follows that say whose trays hold the account still exist, the users row last.
STEPS: tuple[Step, ...] = (
    _posts,
    _trays,
    _stories,
    _comments,
    _likes,
    _views,
    _graph,
    _messages,
    _conversations,
    _notifications,
    _objects_and_caches,
    _account,
)
