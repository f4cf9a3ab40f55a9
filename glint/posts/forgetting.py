"""An account that is going away takes back everything it did to others' posts: its likes,
comment likes, saves and comments, with the counters they moved recounted from the rows.

Each function works one batch and says whether more may remain, so the purge can commit
between batches and a second run after a crash simply finds less to do.
"""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.infra.events import bus
from glint.infra.ids import IdGenerator
from glint.posts import engagement, events
from glint.posts.models import Comment, CommentLike, Post, PostLike, Save


def counted_likes() -> sa.ScalarSelect[int]:
    """SQL: a post's likes counted from their rows (what its like_count must say)."""
    return sa.select(sa.func.count()).where(PostLike.post_id == Post.id).scalar_subquery()


def counted_comments() -> sa.ScalarSelect[int]:
    """SQL: a post's comments counted from their rows; held ones count nowhere."""
    return (
        sa.select(sa.func.count())
        .where(Comment.post_id == Post.id, Comment.held.is_(False))
        .scalar_subquery()
    )


def counted_comment_likes() -> sa.ScalarSelect[int]:
    """SQL: a comment's likes counted from their rows."""
    return sa.select(sa.func.count()).where(CommentLike.comment_id == Comment.id).scalar_subquery()


async def recount(
    session: AsyncSession, *, post_ids: Collection[int], comment_ids: Collection[int]
) -> None:
    """Set the like and comment counters of these posts and comments from their rows."""
    if post_ids:
        await session.execute(
            sa.update(Post)
            .where(Post.id.in_(set(post_ids)))
            .values(like_count=counted_likes(), comment_count=counted_comments())
            .execution_options(synchronize_session=False)
        )
    if comment_ids:
        await session.execute(
            sa.update(Comment)
            .where(Comment.id.in_(set(comment_ids)))
            .values(like_count=counted_comment_likes())
            .execution_options(synchronize_session=False)
        )


async def take_back_likes(
    session: AsyncSession, *, ids: IdGenerator, user_id: int, limit: int
) -> bool:
    """Remove a batch of the account's post and comment likes (and all its saves); the
    counters are recounted, notifications withdrawn and cached posts dropped by the events.
    True when more may remain."""
    likes = (
        await session.execute(
            sa.select(PostLike.post_id, Post.author_id)
            .join(Post, Post.id == PostLike.post_id)
            .where(PostLike.user_id == user_id)
            .limit(limit)
        )
    ).all()
    comment_likes = (
        await session.execute(
            sa.select(CommentLike.comment_id, Comment.post_id, Comment.author_id)
            .join(Comment, Comment.id == CommentLike.comment_id)
            .where(CommentLike.user_id == user_id)
            .limit(limit)
        )
    ).all()
    post_ids = [post_id for post_id, _ in likes]
    comment_ids = [comment_id for comment_id, _, _ in comment_likes]
    await session.execute(
        sa.delete(PostLike).where(PostLike.user_id == user_id, PostLike.post_id.in_(post_ids))
    )
    await session.execute(
        sa.delete(CommentLike).where(
            CommentLike.user_id == user_id, CommentLike.comment_id.in_(comment_ids)
        )
    )
    await session.execute(sa.delete(Save).where(Save.user_id == user_id))
    await recount(session, post_ids=post_ids, comment_ids=comment_ids)
    for post_id, author_id in likes:
        await bus.emit(session, ids=ids, event=events.PostUnliked(post_id, author_id, user_id))
    for comment_id, post_id, author_id in comment_likes:
        unliked = events.CommentUnliked(comment_id, post_id, author_id, user_id)
        await bus.emit(session, ids=ids, event=unliked)
    await session.flush()
    return len(likes) == limit or len(comment_likes) == limit


async def remove_comments_of(
    session: AsyncSession, *, ids: IdGenerator, author_id: int, limit: int
) -> bool:
    """Remove a batch of the account's comments (with their replies, as its author deleting
    them would); True when more may remain."""
    comment_ids = list(
        await session.scalars(
            sa.select(Comment.id)
            .where(Comment.author_id == author_id)
            # Top-level comments first: their replies go with them, not twice.
            .order_by(Comment.parent_id.is_not(None), Comment.id)
            .limit(limit)
        )
    )
    for comment_id in comment_ids:
        # Re-read: a reply in this batch may have gone with its parent a moment ago.
        comment = await session.scalar(sa.select(Comment).where(Comment.id == comment_id))
        if comment is not None:
            await engagement.remove_comment(session, ids=ids, comment=comment)
    await session.flush()
    return len(comment_ids) == limit
