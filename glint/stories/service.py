"""The rules of stories: posting, who may see one, views and viewers, replies, deletion.

Every time rule takes `now` from the caller (the runtime's clock), so tests move time.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User, active_accounts
from glint.errors import Forbidden, NotFound, ValidationFailed
from glint.infra import db as db_mod
from glint.infra.db import insert_ignore
from glint.infra.events import bus
from glint.infra.ids import IdGenerator
from glint.infra.storage import ObjectStore
from glint.media import service as media_service
from glint.media.lifecycle import MediaStatus
from glint.messaging import messages as messages_service
from glint.messaging import service as messaging_service
from glint.messaging.models import MemberState, Message
from glint.messaging.store import StoredMessage
from glint.social import service as social_service
from glint.stories import events
from glint.stories.models import (
    Audience,
    CloseFriend,
    Story,
    StoryView,
    in_a_highlight,
    live,
)

NO_SUCH_STORY = "No such story."


def shown_to(viewer_id: int) -> sa.ColumnElement[bool]:
    """SQL: the story's audience includes the viewer (everyone it is for, by its audience)."""
    return sa.or_(
        Story.audience == Audience.FOLLOWERS,
        Story.author_id == viewer_id,
        sa.exists().where(
            CloseFriend.owner_id == Story.author_id, CloseFriend.friend_id == viewer_id
        ),
    )


async def create_story(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    storage: ObjectStore,
    author: User,
    photo: bytes,
    caption: str | None,
    alt_text: str | None,
    audience: Audience,
    now: dt.datetime,
) -> Story:
    """Judge the photo by content, store the original, add the story (flushed, processing)."""
    info = media_service.probe_upload(photo)
    story_id = ids.next_id()
    key = media_service.original_key(media_service.KIND_STORY, author.id, 0)
    await media_service.put_original(storage, key=key, data=photo, mime=info.mime)
    story = Story(
        id=story_id,
        author_id=author.id,
        status=MediaStatus.PROCESSING,
        audience=audience,
        caption=caption or None,
        alt_text=alt_text or None,
        original_key=key,
        base_key=media_service.new_base_key(media_service.KIND_STORY, author.id),
        width=info.width,
        height=info.height,
        view_count=0,
        created_at=now,
    )
    try:
        session.add(story)
        await bus.emit(session, ids=ids, event=events.StoryCreated(story_id, author.id))
        await session.flush()
    except BaseException:
        await session.rollback()
        await media_service.forget_objects(storage, [key])
        raise
    return story


async def visible_story(
    session: AsyncSession, *, viewer: User | None, story_id: int, now: dt.datetime
) -> tuple[Story, User]:
    """A story and its author, if the viewer may see it now; else NotFound.

    Its owner sees it in every state until it is cleaned away; anyone else while it is live
    (or kept by a highlight), if they may see the author's content and are in its audience.
    """
    row = (
        await session.execute(
            sa.select(Story, User)
            .join(User, User.id == Story.author_id)
            .where(Story.id == story_id)
        )
    ).first()
    if row is None:
        raise NotFound(NO_SUCH_STORY)
    story, author = row
    if viewer is not None and viewer.id == author.id and author.is_active_account:
        return story, author
    if story.status != MediaStatus.PUBLISHED or not await social_service.can_view(
        session, viewer=viewer, author=author
    ):
        raise NotFound(NO_SUCH_STORY)
    if story.audience == Audience.CLOSE_FRIENDS and (
        viewer is None
        or not await is_close_friend(session, owner_id=author.id, friend_id=viewer.id)
    ):
        raise NotFound(NO_SUCH_STORY)
    if not is_live(story, now) and not await session.scalar(
        sa.select(in_a_highlight()).where(Story.id == story.id)
    ):
        raise NotFound(NO_SUCH_STORY)
    return story, author


def is_live(story: Story, now: dt.datetime) -> bool:
    """Published and within its 24 hours."""
    return (
        story.status == MediaStatus.PUBLISHED
        and story.expires_at is not None
        and story.expires_at > now
    )


async def live_story(
    session: AsyncSession, *, viewer: User, story_id: int, now: dt.datetime
) -> tuple[Story, User]:
    """A story the viewer may see that is within its 24 hours (views and replies); else 404."""
    story, author = await visible_story(session, viewer=viewer, story_id=story_id, now=now)
    if not is_live(story, now):
        raise NotFound(NO_SUCH_STORY)
    return story, author


async def is_close_friend(session: AsyncSession, *, owner_id: int, friend_id: int) -> bool:
    """Whether friend is on owner's close-friends list."""
    found = await session.scalar(
        sa.select(CloseFriend.id).where(
            CloseFriend.owner_id == owner_id, CloseFriend.friend_id == friend_id
        )
    )
    return found is not None


def _owner_only(story: Story, viewer: User, action: str) -> None:
    if story.author_id != viewer.id:
        raise Forbidden(f"Only the story's author can {action}.")


async def delete_story(
    session: AsyncSession, *, ids: IdGenerator, viewer: User, story_id: int, now: dt.datetime
) -> None:
    """Delete a story at once (its author, or an admin); its objects go after it, by event."""
    story, _ = await visible_story(session, viewer=viewer, story_id=story_id, now=now)
    if viewer.role != "admin":
        _owner_only(story, viewer, "delete it")
    await remove(session, ids=ids, story=story)


async def remove(session: AsyncSession, *, ids: IdGenerator, story: Story) -> None:
    """The story's row goes (views and highlight places with it); its objects by event."""
    gone = events.StoryDeleted(
        story_id=story.id,
        author_id=story.author_id,
        object_keys=[story.original_key],
        object_prefixes=[story.base_key],
    )
    await session.execute(sa.delete(Story).where(Story.id == story.id))
    await bus.emit(session, ids=ids, event=gone)
    await session.flush()


async def view(
    session: AsyncSession, *, ids: IdGenerator, viewer: User, story_id: int, now: dt.datetime
) -> None:
    """Mark a live story seen by the viewer: once, also under concurrent duplicates."""
    story, _ = await live_story(session, viewer=viewer, story_id=story_id, now=now)
    if story.author_id == viewer.id:
        return  # an author's look at their own story is not a view
    added = await insert_ignore(
        session,
        StoryView,
        {"story_id": story.id, "viewer_id": viewer.id, "id": ids.next_id(), "viewed_at": now},
    )
    if added:
        await session.execute(
            sa.update(Story)
            .where(Story.id == story.id)
            .values(view_count=Story.view_count + 1)
            .execution_options(synchronize_session=False)
        )
    await session.flush()


async def viewers(
    session: AsyncSession,
    *,
    viewer: User,
    story_id: int,
    before_id: int | None,
    limit: int,
    now: dt.datetime,
) -> list[tuple[StoryView, User]]:
    """Who viewed the owner's story, newest first (limit+1 rows); blocked accounts left out."""
    story, _ = await visible_story(session, viewer=viewer, story_id=story_id, now=now)
    _owner_only(story, viewer, "see who viewed it")
    query = (
        sa.select(StoryView, User)
        .join(User, User.id == StoryView.viewer_id)
        .where(
            StoryView.story_id == story.id,
            active_accounts(),
            ~social_service.blocks_between(viewer.id, StoryView.viewer_id),
        )
    )
    if before_id is not None:
        query = query.where(StoryView.id < before_id)
    rows = await session.execute(query.order_by(StoryView.id.desc()).limit(limit + 1))
    return [(seen, user) for seen, user in rows]


async def seen_ids(session: AsyncSession, *, viewer_id: int, story_ids: list[int]) -> set[int]:
    """Which of these stories the viewer has seen."""
    if not story_ids:
        return set()
    rows = await session.scalars(
        sa.select(StoryView.story_id).where(
            StoryView.viewer_id == viewer_id, db_mod.among(session, StoryView.story_id, story_ids)
        )
    )
    return set(rows)


async def reply(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    storage: ObjectStore,
    viewer: User,
    story_id: int,
    text: str,
    now: dt.datetime,
) -> StoredMessage:
    """Answer a live story: a story_reply message in the 1:1 with its author (made if missing)."""
    story, author = await live_story(session, viewer=viewer, story_id=story_id, now=now)
    if author.id == viewer.id:
        raise ValidationFailed("You cannot reply to your own story.", fields={"story": "yours"})
    found, _ = await messaging_service.open_conversation(
        session, ids=ids, creator=viewer, usernames=[author.username], title=None
    )
    outgoing = messages_service.Outgoing(kind="story_reply", text=text, story_id=story.id)
    message, created = await messages_service.send(
        session,
        ids=ids,
        storage=storage,
        sender=viewer,
        conversation_id=found.conversation.id,
        outgoing=outgoing,
    )
    if created:
        state = await messaging_service.member_state(
            session, conversation_id=found.conversation.id, user_id=author.id
        )
        replied = events.StoryReplied(
            story_id=story.id,
            author_id=author.id,
            replier_id=viewer.id,
            message_id=message.id,
            to_request=state == MemberState.REQUEST,
        )
        await bus.emit(session, ids=ids, event=replied)
        await session.flush()
    return message


async def reply_text(session: AsyncSession, *, message_id: int) -> str | None:
    """The text of a story reply, or None once it is unsent."""
    return await session.scalar(sa.select(Message.text).where(Message.id == message_id))


async def check_photo_access(
    session: AsyncSession, *, viewer: User | None, base_key: str, now: dt.datetime
) -> None:
    """NotFound unless the viewer may see the story whose renditions live under base_key."""
    story_id = await session.scalar(sa.select(Story.id).where(Story.base_key == base_key))
    if story_id is None:
        raise NotFound()
    await visible_story(session, viewer=viewer, story_id=story_id, now=now)


async def live_stories(
    session: AsyncSession, *, viewer: User | None, author: User, now: dt.datetime
) -> list[Story]:
    """An account's live stories the viewer may see, oldest first (what its profile ring
    opens, followed or not); empty when the viewer may not see the account's content."""
    await social_service.ensure_visible_profile(session, viewer=viewer, user=author)
    if not await social_service.can_view(session, viewer=viewer, author=author):
        return []
    query = sa.select(Story).where(Story.author_id == author.id, live(now))
    if viewer is None:
        query = query.where(Story.audience == Audience.FOLLOWERS)
    else:
        query = query.where(shown_to(viewer.id))
    return list(await session.scalars(query.order_by(Story.id)))
