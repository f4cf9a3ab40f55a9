"""An account that is going away leaves stories: its own go with their photos (by the same
removal as an author's), its highlights and close-friends lists with it, its views of others'
stories are taken back (their counters recounted), and no tray names it any more."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.infra.ids import IdGenerator
from glint.infra.trays import TrayStore
from glint.social.models import Follow
from glint.stories import service as stories_service
from glint.stories.models import CloseFriend, Highlight, Story, StoryView

# How many rows one statement of an account's forgetting names at most.
BATCH = 500


async def remove_stories_of(
    session: AsyncSession, *, ids: IdGenerator, author_id: int, limit: int
) -> bool:
    """Remove a batch of the account's stories (their objects go by StoryDeleted); True when
    more may remain. Its highlights and close friends go with the last batch."""
    stories = list(
        await session.scalars(
            sa.select(Story).where(Story.author_id == author_id).order_by(Story.id).limit(limit)
        )
    )
    for story in stories:
        await stories_service.remove(session, ids=ids, story=story)
    if len(stories) < limit:
        await session.execute(sa.delete(Highlight).where(Highlight.owner_id == author_id))
        await session.execute(
            sa.delete(CloseFriend).where(
                sa.or_(CloseFriend.owner_id == author_id, CloseFriend.friend_id == author_id)
            )
        )
    await session.flush()
    return len(stories) == limit


async def take_back_views(session: AsyncSession, *, viewer_id: int) -> None:
    """Remove the account's views of others' stories; their view counts are recounted (in
    batches: highlights keep views for good, more than one IN list may name)."""
    counted = sa.select(sa.func.count()).where(StoryView.story_id == Story.id).scalar_subquery()
    while story_ids := list(
        await session.scalars(
            sa.select(StoryView.story_id).where(StoryView.viewer_id == viewer_id).limit(BATCH)
        )
    ):
        await session.execute(
            sa.delete(StoryView).where(
                StoryView.viewer_id == viewer_id, StoryView.story_id.in_(story_ids)
            )
        )
        await session.execute(
            sa.update(Story)
            .where(Story.id.in_(story_ids))
            .values(view_count=counted)
            .execution_options(synchronize_session=False)
        )
    await session.flush()


async def leave_trays(session: AsyncSession, *, trays: TrayStore, author_id: int) -> None:
    """The account leaves its followers' trays and its own tray is dropped (call it while the
    follows still exist: they say whose trays may hold it)."""
    followers = list(
        await session.scalars(sa.select(Follow.follower_id).where(Follow.followee_id == author_id))
    )
    for start in range(0, len(followers), BATCH):
        await trays.remove(author_id, followers[start : start + BATCH])
    await trays.forget(author_id)
