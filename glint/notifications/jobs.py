"""Background work of notifications: recording, retracting, and fanning out comment events."""

from __future__ import annotations

import sqlalchemy as sa

from glint.accounts.models import User
from glint.infra.queue import JobContext, registry
from glint.notifications import service as notifications_service
from glint.posts import text as post_text
from glint.posts.models import Comment, Post


@registry.job(notifications_service.RECORD_JOB, max_attempts=5)
async def record(ctx: JobContext) -> None:
    """Store one notification event (idempotent: an actor is counted once per group)."""
    payload = ctx.payload
    async with ctx.runtime.db.session() as session:
        await notifications_service.record(
            session,
            ids=ctx.runtime.ids,
            kind=payload["kind"],
            actor_id=int(payload["actor_id"]),
            recipient_id=int(payload["recipient_id"]),
            post_id=payload.get("post_id"),
            comment_id=payload.get("comment_id"),
            text=payload.get("text"),
            activity_id=payload.get("activity_id"),
        )
        await session.commit()


@registry.job(notifications_service.RETRACT_JOB, max_attempts=5)
async def retract(ctx: JobContext) -> None:
    """Take back what an undone action announced (idempotent)."""
    payload = ctx.payload
    async with ctx.runtime.db.session() as session:
        await notifications_service.retract(
            session,
            kinds=list(payload["kinds"]),
            actor_id=int(payload["actor_id"]),
            recipient_id=int(payload["recipient_id"]),
            post_id=payload.get("post_id"),
            comment_id=payload.get("comment_id"),
        )
        await session.commit()


async def _record_mentions(
    ctx: JobContext,
    *,
    names: list[str],
    actor_id: int,
    post_id: int,
    comment_id: int | None,
    snippet: str,
) -> None:
    if not names:
        return
    async with ctx.runtime.db.session() as session:
        mentioned = list(await session.scalars(sa.select(User.id).where(User.username.in_(names))))
        for user_id in mentioned:
            await notifications_service.record(
                session,
                ids=ctx.runtime.ids,
                kind="mention",
                actor_id=actor_id,
                recipient_id=user_id,
                post_id=post_id,
                comment_id=comment_id,
                text=snippet,
            )
        await session.commit()


@registry.job(notifications_service.COMMENT_JOB, max_attempts=5)
async def comment(ctx: JobContext) -> None:
    """A new comment tells the post's author, the thread's author, and whoever it mentions."""
    comment_id = int(ctx.payload["comment_id"])
    async with ctx.runtime.db.session() as session:
        row = await session.get(Comment, comment_id)
        if row is None:
            return  # deleted before we got to it
        post = await session.get(Post, row.post_id)
        if post is None:
            return
        parent = await session.get(Comment, row.parent_id) if row.parent_id else None
        await notifications_service.record(
            session,
            ids=ctx.runtime.ids,
            kind="comment",
            actor_id=row.author_id,
            recipient_id=post.author_id,
            post_id=post.id,
            comment_id=row.id,
            text=row.text,
        )
        if parent is not None and parent.author_id != post.author_id:
            await notifications_service.record(
                session,
                ids=ctx.runtime.ids,
                kind="comment_reply",
                actor_id=row.author_id,
                recipient_id=parent.author_id,
                post_id=post.id,
                comment_id=row.id,
                text=row.text,
            )
        await session.commit()
        names, author_id, post_id, snippet = (
            post_text.mentions(row.text),
            row.author_id,
            post.id,
            row.text,
        )
    await _record_mentions(
        ctx,
        names=names,
        actor_id=author_id,
        post_id=post_id,
        comment_id=comment_id,
        snippet=snippet,
    )


@registry.job(notifications_service.POST_MENTIONS_JOB, max_attempts=5)
async def post_mentions(ctx: JobContext) -> None:
    """A published post tells everyone its caption mentions."""
    post_id = int(ctx.payload["post_id"])
    async with ctx.runtime.db.session() as session:
        post = await session.get(Post, post_id)
        if post is None or post.status != "published":
            return
        names, author_id, caption = post_text.mentions(post.caption), post.author_id, post.caption
    await _record_mentions(
        ctx, names=names, actor_id=author_id, post_id=post_id, comment_id=None, snippet=caption
    )
