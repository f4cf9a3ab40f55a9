"""Background work of discovery: the index follows posts and profiles, by their events."""

from __future__ import annotations

from glint.accounts import events as accounts_events
from glint.discovery import indexing
from glint.infra.queue import JobContext
from glint.posts import events as posts_events
from glint.posts.events import PostDeleted, PostEdited


async def index_published(ctx: JobContext, event: posts_events.PostPublished) -> None:
    """A post went public: its caption and hashtags become searchable, its uses trend."""
    async with ctx.runtime.db.session() as session:
        await indexing.post_published(
            session,
            post_id=event.post_id,
            author_id=event.author_id,
            now=ctx.runtime.clock.now(),
        )
        await session.commit()


async def reindex_post(ctx: JobContext, event: PostEdited | PostDeleted) -> None:
    """A caption changed or the post is gone: the index follows what the database says now."""
    async with ctx.runtime.db.session() as session:
        await indexing.sync_post(session, post_id=event.post_id)
        await session.commit()


async def reindex_person(ctx: JobContext, event: accounts_events.ProfileChanged) -> None:
    """An account signed up or changed its name: find it by what it is called now."""
    async with ctx.runtime.db.session() as session:
        await indexing.sync_person(session, user_id=event.user_id)
        await session.commit()
