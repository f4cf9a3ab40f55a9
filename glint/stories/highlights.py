"""Highlights: named collections of one's own stories, kept on the profile beyond 24 hours.

A story in any highlight keeps its media; once it leaves the last one after its 24 hours,
the hourly clean-up removes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User
from glint.errors import Forbidden, NotFound, ValidationFailed
from glint.infra.ids import IdGenerator
from glint.media.lifecycle import MediaStatus
from glint.social import service as social_service
from glint.stories import service as stories_service
from glint.stories.models import Audience, Highlight, HighlightStory, Story

NO_SUCH_HIGHLIGHT = "No such highlight."


@dataclass(frozen=True, slots=True)
class Shown:
    """A highlight with the stories the viewer may see, in its order."""

    highlight: Highlight
    stories: list[Story]


async def _own_stories(session: AsyncSession, *, owner: User, story_ids: Sequence[int]) -> None:
    """ValidationFailed unless every ID is a published story of the owner's, each once."""
    if len(set(story_ids)) != len(story_ids):
        raise ValidationFailed("A story appears twice.", fields={"story_ids": "each story once"})
    found = set(
        await session.scalars(
            sa.select(Story.id).where(
                Story.id.in_(story_ids),
                Story.author_id == owner.id,
                Story.status == MediaStatus.PUBLISHED,
            )
        )
    )
    if found != set(story_ids):
        raise ValidationFailed(
            "Highlights hold your own published stories.",
            fields={"story_ids": "unknown, not yours, or not published"},
        )


def _cover(story_ids: Sequence[int], cover_story_id: int | None) -> int:
    if cover_story_id is None:
        return story_ids[0]
    if cover_story_id not in story_ids:
        raise ValidationFailed(
            "The cover is one of the highlight's stories.",
            fields={"cover_story_id": "not in story_ids"},
        )
    return cover_story_id


async def _place(session: AsyncSession, *, highlight_id: int, story_ids: Sequence[int]) -> None:
    await session.execute(
        sa.delete(HighlightStory).where(HighlightStory.highlight_id == highlight_id)
    )
    session.add_all(
        HighlightStory(highlight_id=highlight_id, story_id=story_id, position=index)
        for index, story_id in enumerate(story_ids)
    )


async def create(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    owner: User,
    title: str,
    story_ids: Sequence[int],
    cover_story_id: int | None,
    now: dt.datetime,
) -> Highlight:
    """A new highlight of the owner's stories (flushed)."""
    await _own_stories(session, owner=owner, story_ids=story_ids)
    highlight = Highlight(
        id=ids.next_id(),
        owner_id=owner.id,
        title=title,
        cover_story_id=_cover(story_ids, cover_story_id),
        created_at=now,
        updated_at=now,
    )
    session.add(highlight)
    await session.flush()
    await _place(session, highlight_id=highlight.id, story_ids=story_ids)
    await session.flush()
    return highlight


async def _owned(session: AsyncSession, *, owner: User, highlight_id: int) -> Highlight:
    highlight = await session.get(Highlight, highlight_id)
    if highlight is None:
        raise NotFound(NO_SUCH_HIGHLIGHT)
    if highlight.owner_id != owner.id:
        author = await session.get(User, highlight.owner_id)
        if author is None or not await social_service.can_view(
            session, viewer=owner, author=author
        ):
            raise NotFound(NO_SUCH_HIGHLIGHT)
        raise Forbidden("Only the highlight's owner can change it.")
    return highlight


async def update(
    session: AsyncSession,
    *,
    owner: User,
    highlight_id: int,
    title: str | None,
    story_ids: Sequence[int] | None,
    cover_story_id: int | None,
    now: dt.datetime,
) -> Highlight:
    """Change a highlight's title, stories and cover (the owner only; flushed)."""
    highlight = await _owned(session, owner=owner, highlight_id=highlight_id)
    if story_ids is not None:
        await _own_stories(session, owner=owner, story_ids=story_ids)
        await _place(session, highlight_id=highlight.id, story_ids=story_ids)
    current = story_ids if story_ids is not None else await _story_ids(session, highlight.id)
    if cover_story_id is not None or highlight.cover_story_id not in current:
        highlight.cover_story_id = _cover(current, cover_story_id) if current else None
    if title is not None:
        highlight.title = title
    highlight.updated_at = now
    await session.flush()
    return highlight


async def _story_ids(session: AsyncSession, highlight_id: int) -> list[int]:
    return list(
        await session.scalars(
            sa.select(HighlightStory.story_id)
            .where(HighlightStory.highlight_id == highlight_id)
            .order_by(HighlightStory.position)
        )
    )


async def delete(session: AsyncSession, *, owner: User, highlight_id: int) -> None:
    """Delete a highlight (its stories stay, and expire if nothing else keeps them)."""
    highlight = await _owned(session, owner=owner, highlight_id=highlight_id)
    await session.delete(highlight)
    await session.flush()


async def shown(
    session: AsyncSession, *, viewer: User | None, highlights: Sequence[Highlight]
) -> list[Shown]:
    """Highlights with the stories in each the viewer may see (close-friends ones only to
    close friends); highlights left empty for this viewer are left out."""
    if not highlights:
        return []
    query = (
        sa.select(HighlightStory.highlight_id, Story)
        .join(Story, Story.id == HighlightStory.story_id)
        .where(
            HighlightStory.highlight_id.in_([h.id for h in highlights]),
            Story.status == MediaStatus.PUBLISHED,
        )
        .order_by(HighlightStory.position)
    )
    if viewer is None:
        query = query.where(Story.audience == Audience.FOLLOWERS)
    else:
        query = query.where(stories_service.shown_to(viewer.id))
    by_highlight: dict[int, list[Story]] = {}
    for highlight_id, story in await session.execute(query):
        by_highlight.setdefault(highlight_id, []).append(story)
    return [Shown(h, by_highlight[h.id]) for h in highlights if by_highlight.get(h.id)]


async def list_for(session: AsyncSession, *, viewer: User | None, owner: User) -> list[Shown]:
    """A profile's highlights, newest first, as its privacy allows the viewer."""
    await social_service.ensure_visible_profile(session, viewer=viewer, user=owner)
    if not await social_service.can_view(session, viewer=viewer, author=owner):
        raise Forbidden("This account is private.", code="account_private")
    rows = await session.scalars(
        sa.select(Highlight).where(Highlight.owner_id == owner.id).order_by(Highlight.id.desc())
    )
    return await shown(session, viewer=viewer, highlights=list(rows))


async def owned(session: AsyncSession, *, owner: User, highlight_id: int) -> Shown:
    """One of the owner's highlights with all its stories (what a create or edit answers)."""
    highlight = await _owned(session, owner=owner, highlight_id=highlight_id)
    found = await shown(session, viewer=owner, highlights=[highlight])
    return found[0] if found else Shown(highlight, [])
