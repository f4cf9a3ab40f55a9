"""Stories as the API shows them: Story, tray entries, viewers and highlights."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts import service as accounts_service
from glint.accounts.models import User
from glint.accounts.schemas import UserSummary
from glint.media.urls import MediaUrls
from glint.posts import presenter as posts_presenter
from glint.posts.schemas import MediaOut
from glint.stories import service as stories_service
from glint.stories.highlights import Shown
from glint.stories.models import Story, StoryView
from glint.stories.schemas import (
    HighlightOut,
    StoryOut,
    StoryViewerOut,
    StoryViewerState,
    TrayItemOut,
)
from glint.stories.tray import TrayEntry


def media_out(urls: MediaUrls, story: Story) -> MediaOut | None:
    """The story's photo, once processed."""
    return posts_presenter.photo_out(
        urls,
        base_key=story.base_key,
        width=story.width if story.blurhash else None,
        height=story.height,
        blurhash=story.blurhash,
        alt_text=story.alt_text,
    )


def story_out(
    story: Story, *, author: User, viewer: User | None, seen: set[int], urls: MediaUrls
) -> StoryOut:
    """One story; `viewer` only when signed in, `view_count` only for its owner."""
    own = viewer is not None and viewer.id == story.author_id
    return StoryOut(
        id=story.id,
        author=UserSummary.of(author, urls=urls),
        media=media_out(urls, story),
        caption=story.caption,
        audience=story.audience,
        status=story.status,
        failure_reason=story.failure_reason if own else None,
        created_at=story.created_at,
        expires_at=story.expires_at,
        # An author has seen what they posted.
        viewer=StoryViewerState(seen=own or story.id in seen) if viewer is not None else None,
        view_count=story.view_count if own else None,
    )


async def stories_out(
    session: AsyncSession, *, stories: Sequence[Story], viewer: User | None, urls: MediaUrls
) -> list[StoryOut]:
    """Stories with their authors and the viewer's seen state, in two queries."""
    authors = await accounts_service.get_many(
        session, user_ids=list({story.author_id for story in stories})
    )
    seen = (
        await stories_service.seen_ids(
            session, viewer_id=viewer.id, story_ids=[story.id for story in stories]
        )
        if viewer is not None
        else set()
    )
    return [
        story_out(story, author=authors[story.author_id], viewer=viewer, seen=seen, urls=urls)
        for story in stories
        if story.author_id in authors
    ]


def tray_out(entries: Sequence[TrayEntry], *, viewer: User, urls: MediaUrls) -> list[TrayItemOut]:
    """The tray's entries."""
    return [
        TrayItemOut(
            user=UserSummary.of(entry.author, urls=urls),
            stories=[
                story_out(story, author=entry.author, viewer=viewer, seen=entry.seen, urls=urls)
                for story in entry.stories
            ],
            has_unseen=entry.has_unseen,
            has_close_friends=any(story.audience == "close_friends" for story in entry.stories),
            latest_at=entry.latest_at,
        )
        for entry in entries
    ]


def viewers_out(rows: Sequence[tuple[StoryView, User]], *, urls: MediaUrls) -> list[StoryViewerOut]:
    """Who viewed a story, and when."""
    return [
        StoryViewerOut(user=UserSummary.of(user, urls=urls), viewed_at=seen.viewed_at)
        for seen, user in rows
    ]


async def highlights_out(
    session: AsyncSession, *, shown: Sequence[Shown], viewer: User | None, urls: MediaUrls
) -> list[HighlightOut]:
    """Highlights with their stories and covers."""
    every = [story for item in shown for story in item.stories]
    presented = {
        out.id: out for out in await stories_out(session, stories=every, viewer=viewer, urls=urls)
    }
    result = []
    for item in shown:
        cover = next(
            (s for s in item.stories if s.id == item.highlight.cover_story_id),
            item.stories[0] if item.stories else None,
        )
        result.append(
            HighlightOut(
                id=item.highlight.id,
                title=item.highlight.title,
                cover=media_out(urls, cover) if cover is not None else None,
                cover_story_id=cover.id if cover is not None else None,
                stories=[presented[s.id] for s in item.stories if s.id in presented],
                created_at=item.highlight.created_at,
                updated_at=item.highlight.updated_at,
            )
        )
    return result
