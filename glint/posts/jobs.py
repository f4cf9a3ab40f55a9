"""Background work of posts: the image pipeline (processing → published | failed), dropping
changed posts from the cache, and recounting counters (a deleted post's objects go by
`media.jobs.delete_objects`).

Each handler is a subscriber of one or more post events; `glint.wiring` says which.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa

from glint.accounts.models import User
from glint.infra.db import utcnow
from glint.infra.events import bus
from glint.infra.logging import get_logger
from glint.infra.queue import JobContext
from glint.infra.storage import ObjectNotFound
from glint.media import imaging
from glint.media import service as media_service
from glint.media.lifecycle import IllegalTransition, MediaStatus
from glint.posts import cache as posts_cache
from glint.posts import events, forgetting
from glint.posts.models import (
    Comment,
    Post,
    PostMedia,
    move_post,
    published_only,
)

if TYPE_CHECKING:
    from glint.infra.runtime import Runtime

log = get_logger(__name__)


class ShowsInPost(Protocol):
    """An event that changes how a post is shown."""

    @property
    def post_id(self) -> int:
        """The post it changes."""
        ...


async def _mark_failed(runtime: Runtime, *, post_id: int, author_id: int, reason: str) -> None:
    """Processing -> failed, once; a post that got published meanwhile is left alone."""
    async with runtime.db.session() as session:
        try:
            failed = await move_post(
                session, post_id=post_id, to=MediaStatus.FAILED, failure_reason=reason
            )
        except IllegalTransition:
            return  # published meanwhile (a last try that finished): it stays published
        if failed:
            await bus.emit(
                session, ids=runtime.ids, event=events.PostFailed(post_id, author_id, reason)
            )
        await runtime.commit(session)
    log.warning("post_failed", post_id=post_id, reason=reason)


async def post_not_processed(ctx: JobContext, event: events.PostCreated, error: str) -> None:
    """The pipeline ran out of tries: the post fails, with the reason."""
    reason = f"Processing failed after retries: {error}"[:500]
    await _mark_failed(ctx.runtime, post_id=event.post_id, author_id=event.author_id, reason=reason)


async def process_post(ctx: JobContext, event: events.PostCreated) -> None:
    """Render every photo of a post, then publish it. Safe to run twice: finished photos stay."""
    runtime = ctx.runtime
    async with runtime.db.session() as session:
        post = await session.get(Post, event.post_id)
        if post is None or post.status == MediaStatus.PUBLISHED:
            return  # deleted, or already finished by an earlier run
        if post.status == MediaStatus.FAILED:
            # Back here only when an admin retried its dead job: try again from the start.
            await move_post(session, post_id=post.id, to=MediaStatus.PROCESSING)
            await session.commit()
        filter_name = post.filter or "none"
        media = list(
            await session.scalars(
                sa.select(PostMedia)
                .where(PostMedia.post_id == post.id)
                .order_by(PostMedia.position)
            )
        )
    for row in media:
        if row.processed_at is None and not await _render(ctx, row, filter_name, event):
            return
    async with runtime.db.session() as session:
        published = await move_post(
            session,
            post_id=event.post_id,
            to=MediaStatus.PUBLISHED,
            published_at=utcnow(),
            failure_reason=None,
        )
        if published:
            await session.execute(
                sa.update(User)
                .where(User.id == event.author_id)
                .values(post_count=User.post_count + 1)
            )
            # Its consequences (fan-out, mentions, …) commit with the publication itself.
            await bus.emit(
                session, ids=runtime.ids, event=events.PostPublished(event.post_id, event.author_id)
            )
        await runtime.commit(session)


async def _render(
    ctx: JobContext, row: PostMedia, filter_name: str, event: events.PostCreated
) -> bool:
    """Process and store one photo; False when the post failed for good on it."""
    runtime = ctx.runtime
    try:
        result = await media_service.render_original(
            runtime.storage,
            runtime.cpu,
            original_key=row.original_key,
            base_key=row.base_key,
            filter_name=filter_name,
        )
    except ObjectNotFound:
        await _mark_failed(
            runtime,
            post_id=event.post_id,
            author_id=event.author_id,
            reason="The uploaded original is missing.",
        )
        return False
    except imaging.ImageRejected as exc:
        # A broken file will not mend on retry.
        await _mark_failed(
            runtime, post_id=event.post_id, author_id=event.author_id, reason=exc.message
        )
        return False
    async with runtime.db.session() as session:
        await session.execute(
            sa.update(PostMedia)
            .where(PostMedia.id == row.id)
            .values(
                width=result.width,
                height=result.height,
                blurhash=result.blurhash,
                processed_at=utcnow(),
            )
        )
        await session.commit()
    return True


async def forget_cached_post(ctx: JobContext, event: ShowsInPost) -> None:
    """A post shows differently now (a like, a comment, an edit, gone): drop its cached copy."""
    await posts_cache.forget(ctx.runtime.cache, [event.post_id])


async def reconcile_post_counts(runtime: Runtime) -> int:
    """Recount post, like and comment counters from their rows; the number of rows fixed."""
    published = (
        sa.select(sa.func.count())
        .where(Post.author_id == User.id, published_only())
        .scalar_subquery()
    )
    likes, comments = forgetting.counted_likes(), forgetting.counted_comments()
    comment_likes = forgetting.counted_comment_likes()
    fixed = 0
    async with runtime.db.session() as session:
        for statement in (
            sa.update(User).where(User.post_count != published).values(post_count=published),
            sa.update(Post)
            .where(sa.or_(Post.like_count != likes, Post.comment_count != comments))
            .values(like_count=likes, comment_count=comments),
            sa.update(Comment)
            .where(Comment.like_count != comment_likes)
            .values(like_count=comment_likes),
        ):
            result = await session.execute(statement.execution_options(synchronize_session=False))
            fixed += int(getattr(result, "rowcount", 0) or 0)
        await session.commit()
    return fixed
