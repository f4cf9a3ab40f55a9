"""Content as staff handle it: every post in every state, and deletions that are take-downs
when staff delete what someone else made (so they leave a tombstone and an audit line)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User
from glint.infra.ids import IdGenerator
from glint.moderation import service as moderation_service
from glint.moderation import targets
from glint.posts import engagement as posts_engagement
from glint.posts import service as posts_service
from glint.posts.models import Comment, Post

STAFF_REMOVAL = "Removed by a moderator."


async def staff_posts(
    session: AsyncSession,
    *,
    status: str | None,
    author: User | None,
    before_id: int | None,
    limit: int,
) -> list[Post]:
    """Posts of any account in any state (filtered by state and author), newest first, limit+1."""
    query = sa.select(Post)
    if status is not None:
        query = query.where(Post.status == status)
    if author is not None:
        query = query.where(Post.author_id == author.id)
    if before_id is not None:
        query = query.where(Post.id < before_id)
    return list(await session.scalars(query.order_by(Post.id.desc()).limit(limit + 1)))


async def delete_post(
    session: AsyncSession, *, ids: IdGenerator, viewer: User, post_id: int
) -> None:
    """DELETE /posts/{id}: its author deletes it; staff deleting another's take it down."""
    post = await posts_service.get_post(session, viewer=viewer, post_id=post_id)
    if post.author_id == viewer.id or not viewer.is_staff:
        await posts_service.delete_post(session, ids=ids, viewer=viewer, post_id=post_id)
        return
    target = await targets.current(session, target_type="post", target_id=post.id)
    assert target is not None  # just read
    await moderation_service.remove_content(
        session, ids=ids, actor=viewer, target=target, reason=STAFF_REMOVAL
    )


async def delete_comment(
    session: AsyncSession, *, ids: IdGenerator, viewer: User, comment_id: int
) -> Comment:
    """DELETE /comments/{id}: its author or the post's author deletes it; staff deleting
    another's take it down."""
    comment = await posts_engagement.get_comment(session, viewer=viewer, comment_id=comment_id)
    post = await session.get(Post, comment.post_id)
    assert post is not None  # a comment goes with its post
    if viewer.id in (comment.author_id, post.author_id) or not viewer.is_staff:
        return await posts_engagement.delete_comment(
            session, ids=ids, viewer=viewer, comment_id=comment_id
        )
    target = await targets.current(session, target_type="comment", target_id=comment.id)
    assert target is not None  # just read
    await moderation_service.remove_content(
        session, ids=ids, actor=viewer, target=target, reason=STAFF_REMOVAL
    )
    return comment
