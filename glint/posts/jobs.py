"""Background work of posts: the image pipeline (processing → published | failed) and clean-up."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import sqlalchemy as sa

from glint.accounts.models import User
from glint.feeds import jobs as feeds_jobs
from glint.infra.db import utcnow
from glint.infra.logging import get_logger
from glint.infra.queue import JobContext, registry
from glint.infra.storage import ObjectNotFound
from glint.media import imaging
from glint.media import service as media_service
from glint.notifications import service as notifications_service
from glint.posts.models import Comment, CommentLike, Post, PostLike, PostMedia
from glint.posts.service import PROCESS_JOB

if TYPE_CHECKING:
    from glint.infra.runtime import Runtime

log = get_logger(__name__)


async def _mark_failed(ctx: JobContext, reason: str) -> None:
    """Processing -> failed, once; a post that got published meanwhile is left alone."""
    post_id = int(ctx.payload["post_id"])
    async with ctx.runtime.db.session() as session:
        await session.execute(
            sa.update(Post)
            .where(Post.id == post_id, Post.status == "processing")
            .values(status="failed", failure_reason=reason[:500])
        )
        await session.commit()
    log.warning("post_failed", post_id=post_id, reason=reason)


async def _on_dead(ctx: JobContext, error: str) -> None:
    await _mark_failed(ctx, f"Processing failed after retries: {error}")


@registry.job(PROCESS_JOB, max_attempts=5, on_dead=_on_dead)
async def process_post(ctx: JobContext) -> None:
    """Render every photo of a post, then publish it. Safe to run twice: finished photos stay."""
    runtime = ctx.runtime
    post_id = int(ctx.payload["post_id"])
    async with runtime.db.session() as session:
        post = await session.get(Post, post_id)
        if post is None or post.status == "published":
            return  # deleted, or already finished by an earlier run
        # A failed post comes back here only when an admin retries its dead job.
        filter_name = post.filter or "none"
        media = list(
            await session.scalars(
                sa.select(PostMedia)
                .where(PostMedia.post_id == post_id)
                .order_by(PostMedia.position)
            )
        )
    for row in media:
        if row.processed_at is not None:
            continue
        try:
            original = await runtime.storage.get(row.original_key)
        except ObjectNotFound:
            await _mark_failed(ctx, "The uploaded original is missing.")
            return
        try:
            result = await runtime.cpu.run(imaging.process, original.data, filter_name=filter_name)
        except imaging.ImageRejected as exc:
            await _mark_failed(ctx, exc.message)  # a broken file will not mend on retry
            return
        await asyncio.gather(
            *(
                runtime.storage.put(
                    media_service.rendition_key(row.base_key, item.size, item.format),
                    item.data,
                    content_type=item.mime,
                )
                for item in result.renditions
            )
        )
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
    async with runtime.db.session() as session:
        published = await session.execute(
            sa.update(Post)
            .where(Post.id == post_id, Post.status.in_(("processing", "failed")))
            .values(status="published", published_at=utcnow(), failure_reason=None)
        )
        follow_ups: list[int] = []
        if getattr(published, "rowcount", 0):
            await session.execute(
                sa.update(User)
                .where(
                    User.id == sa.select(Post.author_id).where(Post.id == post_id).scalar_subquery()
                )
                .values(post_count=User.post_count + 1)
            )
            # Work that follows publication commits with it, so none of it can be lost.
            follow_ups.append(
                await feeds_jobs.enqueue_fanout(session, runtime=runtime, post_id=post_id)
            )
            follow_ups.append(
                await notifications_service.announce_post_mentions(
                    session, runtime=runtime, post_id=post_id
                )
            )
        await session.commit()
    await runtime.jobs.dispatch(follow_ups)


async def reconcile_post_counts(runtime: Runtime) -> int:
    """Recount post, like and comment counters from their rows; the number of rows fixed."""
    published = (
        sa.select(sa.func.count())
        .where(Post.author_id == User.id, Post.status == "published")
        .scalar_subquery()
    )
    likes = sa.select(sa.func.count()).where(PostLike.post_id == Post.id).scalar_subquery()
    comments = sa.select(sa.func.count()).where(Comment.post_id == Post.id).scalar_subquery()
    comment_likes = (
        sa.select(sa.func.count()).where(CommentLike.comment_id == Comment.id).scalar_subquery()
    )
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


@registry.periodic("posts.reconcile_counts", every_seconds=3600.0)
async def _reconcile(runtime: Runtime) -> None:
    await reconcile_post_counts(runtime)
