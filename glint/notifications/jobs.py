"""How notifications follow from what happened: each handler subscribes to one event.

Every handler is idempotent (an actor is counted once per group), and stamps the notification
with the event's ID, taken when the action committed, so workers running in any order keep the
newest activity first.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from glint.accounts.models import User, active_accounts
from glint.infra.events import event_id
from glint.infra.queue import JobContext
from glint.notifications import service as notifications_service
from glint.posts import events as posts_events
from glint.posts import text as post_text
from glint.posts.models import Comment, CommentLike, Post, PostLike
from glint.social import events as social_events
from glint.social.models import Follow, FollowRequest


async def _record(
    ctx: JobContext,
    *,
    kind: str,
    actor_id: int,
    recipient_id: int,
    post_id: int | None = None,
    comment_id: int | None = None,
    text: str | None = None,
) -> None:
    async with ctx.runtime.db.session() as session:
        await notifications_service.record(
            session,
            ids=ctx.runtime.ids,
            kind=kind,
            actor_id=actor_id,
            recipient_id=recipient_id,
            post_id=post_id,
            comment_id=comment_id,
            text=text,
            activity_id=event_id(ctx),
        )
        await ctx.runtime.commit(session)


async def _retract(
    ctx: JobContext,
    *,
    kinds: list[str],
    actor_id: int,
    recipient_id: int,
    post_id: int | None = None,
    comment_id: int | None = None,
) -> None:
    async with ctx.runtime.db.session() as session:
        await notifications_service.retract(
            session,
            kinds=kinds,
            actor_id=actor_id,
            recipient_id=recipient_id,
            post_id=post_id,
            comment_id=comment_id,
        )
        await session.commit()


async def _still_there(ctx: JobContext, *queries: sa.Select[Any]) -> bool:
    """Whether what a notification would announce still holds.

    A like and its unlike are separate jobs that may run in either order (a retry comes later
    than the first try), so an announcement checks its cause first: a like taken back before
    its notification was recorded is never announced.
    """
    async with ctx.runtime.db.session() as session:
        for query in queries:
            if await session.scalar(query.limit(1)) is not None:
                return True
    return False


async def post_liked(ctx: JobContext, event: posts_events.PostLiked) -> None:
    """The author hears of a like (grouped with the post's other likes)."""
    liked = sa.select(PostLike.post_id).where(
        PostLike.post_id == event.post_id, PostLike.user_id == event.user_id
    )
    if not await _still_there(ctx, liked):
        return
    await _record(
        ctx,
        kind="like",
        actor_id=event.user_id,
        recipient_id=event.post_author_id,
        post_id=event.post_id,
    )


async def post_unliked(ctx: JobContext, event: posts_events.PostUnliked) -> None:
    """A like taken back leaves the notification it made (unless it was given again since)."""
    liked = sa.select(PostLike.post_id).where(
        PostLike.post_id == event.post_id, PostLike.user_id == event.user_id
    )
    if await _still_there(ctx, liked):
        return
    await _retract(
        ctx,
        kinds=["like"],
        actor_id=event.user_id,
        recipient_id=event.post_author_id,
        post_id=event.post_id,
    )


async def comment_liked(ctx: JobContext, event: posts_events.CommentLiked) -> None:
    """A comment's author hears of a like on it."""
    liked = sa.select(CommentLike.comment_id).where(
        CommentLike.comment_id == event.comment_id, CommentLike.user_id == event.user_id
    )
    if not await _still_there(ctx, liked):
        return
    await _record(
        ctx,
        kind="comment_like",
        actor_id=event.user_id,
        recipient_id=event.comment_author_id,
        post_id=event.post_id,
        comment_id=event.comment_id,
    )


async def comment_unliked(ctx: JobContext, event: posts_events.CommentUnliked) -> None:
    """A comment like taken back leaves the notification it made (unless given again since)."""
    liked = sa.select(CommentLike.comment_id).where(
        CommentLike.comment_id == event.comment_id, CommentLike.user_id == event.user_id
    )
    if await _still_there(ctx, liked):
        return
    await _retract(
        ctx,
        kinds=["comment_like"],
        actor_id=event.user_id,
        recipient_id=event.comment_author_id,
        comment_id=event.comment_id,
    )


async def _request_became_follow(ctx: JobContext, *, requester_id: int, target_id: int) -> None:
    async with ctx.runtime.db.session() as session:
        await notifications_service.request_became_follow(
            session,
            ids=ctx.runtime.ids,
            requester_id=requester_id,
            target_id=target_id,
            activity_id=event_id(ctx),
        )
        await ctx.runtime.commit(session)


async def followed(ctx: JobContext, event: social_events.FollowCreated) -> None:
    """A new follower is announced. An approved request tells the requester, and the
    request's notification becomes a follow ("started following you")."""
    follows = sa.select(Follow.follower_id).where(
        Follow.follower_id == event.follower_id, Follow.followee_id == event.followee_id
    )
    if not await _still_there(ctx, follows):
        return
    if event.approved:
        await _record(
            ctx, kind="follow_accepted", actor_id=event.followee_id, recipient_id=event.follower_id
        )
        await _request_became_follow(
            ctx, requester_id=event.follower_id, target_id=event.followee_id
        )
    else:
        await _record(
            ctx, kind="follow", actor_id=event.follower_id, recipient_id=event.followee_id
        )


async def follow_requested(ctx: JobContext, event: social_events.FollowRequested) -> None:
    """A private account hears of a follow request (still pending, or since approved)."""
    pending = sa.select(FollowRequest.requester_id).where(
        FollowRequest.requester_id == event.requester_id,
        FollowRequest.target_id == event.target_id,
    )
    approved = sa.select(Follow.follower_id).where(
        Follow.follower_id == event.requester_id, Follow.followee_id == event.target_id
    )
    if not await _still_there(ctx, pending, approved):
        return
    await _record(
        ctx, kind="follow_request", actor_id=event.requester_id, recipient_id=event.target_id
    )
    # Approved before this job ran (or while it did): the approval's job may have come and
    # gone, so the request just announced becomes the follow it turned into.
    if await _still_there(ctx, approved):
        await _request_became_follow(
            ctx, requester_id=event.requester_id, target_id=event.target_id
        )


async def unfollowed(ctx: JobContext, event: social_events.FollowRemoved) -> None:
    """Someone who unfollows (or withdraws a request) leaves the notification it made."""
    pending = sa.select(FollowRequest.requester_id).where(
        FollowRequest.requester_id == event.follower_id,
        FollowRequest.target_id == event.followee_id,
    )
    follows = sa.select(Follow.follower_id).where(
        Follow.follower_id == event.follower_id, Follow.followee_id == event.followee_id
    )
    if event.by_follower and not await _still_there(ctx, pending, follows):
        await _retract(
            ctx,
            kinds=["follow", "follow_request"],
            actor_id=event.follower_id,
            recipient_id=event.followee_id,
        )


async def _record_mentions(
    ctx: JobContext,
    *,
    text: str,
    actor_id: int,
    post_id: int,
    comment_id: int | None,
    told: frozenset[int] = frozenset(),
) -> None:
    """Tell everyone the text mentions, except those `told` of the same event already (one
    event, one notification each: a comment or reply says more than a mention)."""
    names = post_text.mentions(text)
    if not names:
        return
    async with ctx.runtime.db.session() as session:
        mentioned = list(
            await session.scalars(
                sa.select(User.id).where(User.username.in_(names), active_accounts())
            )
        )
    for user_id in mentioned:
        if user_id in told:
            continue
        await _record(
            ctx,
            kind="mention",
            actor_id=actor_id,
            recipient_id=user_id,
            post_id=post_id,
            comment_id=comment_id,
            text=text,
        )


async def commented(ctx: JobContext, event: posts_events.CommentCreated) -> None:
    """A new comment tells the post's author, the thread's author, and whoever else it
    mentions: each of them once (a reply starting with the pre-filled @name is a reply)."""
    async with ctx.runtime.db.session() as session:
        row = await session.get(Comment, event.comment_id)
        post = await session.get(Post, event.post_id)
        if row is None or post is None:
            return  # deleted before we got to it
        parent = await session.get(Comment, row.parent_id) if row.parent_id else None
        text, parent_author = row.text, parent.author_id if parent else None
    await _record(
        ctx,
        kind="comment",
        actor_id=event.author_id,
        recipient_id=post.author_id,
        post_id=post.id,
        comment_id=event.comment_id,
        text=text,
    )
    if parent_author is not None and parent_author != post.author_id:
        await _record(
            ctx,
            kind="comment_reply",
            actor_id=event.author_id,
            recipient_id=parent_author,
            post_id=post.id,
            comment_id=event.comment_id,
            text=text,
        )
    told = frozenset(a for a in (post.author_id, parent_author) if a is not None)
    await _record_mentions(
        ctx,
        text=text,
        actor_id=event.author_id,
        post_id=post.id,
        comment_id=event.comment_id,
        told=told,
    )


async def post_published(ctx: JobContext, event: posts_events.PostPublished) -> None:
    """A published post tells everyone its caption mentions."""
    async with ctx.runtime.db.session() as session:
        caption = await session.scalar(sa.select(Post.caption).where(Post.id == event.post_id))
    if caption is not None:
        await _record_mentions(
            ctx, text=caption, actor_id=event.author_id, post_id=event.post_id, comment_id=None
        )
