"""The rules of likes, comments and saves: idempotent, counted in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User, active_accounts
from glint.config import Settings
from glint.errors import Forbidden, NotFound, ValidationFailed
from glint.infra.db import insert_ignore, utcnow
from glint.infra.events import bus
from glint.infra.ids import IdGenerator
from glint.media.lifecycle import MediaStatus
from glint.posts import events
from glint.posts import service as posts_service
from glint.posts import text as post_text
from glint.posts.models import Comment, CommentLike, Post, PostLike, Save, published_only
from glint.posts.schemas import PostOut, PostViewer
from glint.social import queries as social_queries
from glint.social import service as social_service


async def like_post(
    session: AsyncSession, *, ids: IdGenerator, viewer: User, post_id: int
) -> tuple[Post, bool]:
    """Like a post the viewer can see; (post, whether a like was added)."""
    post = await posts_service.get_post(session, viewer=viewer, post_id=post_id)
    added = await insert_ignore(
        session,
        PostLike,
        {"post_id": post.id, "user_id": viewer.id, "id": ids.next_id(), "created_at": utcnow()},
    )
    if added:
        await session.execute(
            sa.update(Post).where(Post.id == post.id).values(like_count=Post.like_count + 1)
        )
        await bus.emit(session, ids=ids, event=events.PostLiked(post.id, post.author_id, viewer.id))
    await session.refresh(post, ["like_count"])
    return post, added


async def unlike_post(
    session: AsyncSession, *, ids: IdGenerator, viewer: User, post_id: int
) -> tuple[Post, bool]:
    """Take a like back; (post, whether one was removed)."""
    post = await posts_service.get_post(session, viewer=viewer, post_id=post_id)
    result = await session.execute(
        sa.delete(PostLike).where(PostLike.post_id == post.id, PostLike.user_id == viewer.id)
    )
    removed = bool(getattr(result, "rowcount", 0))
    if removed:
        await session.execute(
            sa.update(Post).where(Post.id == post.id).values(like_count=Post.like_count - 1)
        )
        await bus.emit(
            session, ids=ids, event=events.PostUnliked(post.id, post.author_id, viewer.id)
        )
    await session.refresh(post, ["like_count"])
    return post, removed


async def likers(
    session: AsyncSession, *, viewer: User | None, post_id: int, before_id: int | None, limit: int
) -> list[tuple[int, User]]:
    """(like id, user) of a post's likers, newest first, limit+1; blocked users left out."""
    post = await posts_service.get_post(session, viewer=viewer, post_id=post_id)
    query = (
        sa.select(PostLike.id, User)
        .join(User, User.id == PostLike.user_id)
        .where(PostLike.post_id == post.id, active_accounts())
    )
    if viewer is not None:
        query = query.where(social_queries.not_blocked_with(viewer.id, User.id))
    if before_id is not None:
        query = query.where(PostLike.id < before_id)
    rows = await session.execute(query.order_by(PostLike.id.desc()).limit(limit + 1))
    return [(like_id, user) for like_id, user in rows]


@dataclass(frozen=True, slots=True)
class CommentGuard:
    """Which new comments wait for a moderator: `min_links` or more web addresses from an
    account younger than `account_age` (the usual shape of link spam); 0 links: none."""

    min_links: int = 2
    account_age: dt.timedelta = dt.timedelta(hours=24)

    @classmethod
    def of(cls, settings: Settings) -> CommentGuard:
        """The guard as configured."""
        return cls(settings.hold_comment_links, dt.timedelta(hours=settings.new_account_hours))

    def holds(self, author: User, text: str) -> bool:
        """Whether this comment by this author is held."""
        young = utcnow() - author.created_at < self.account_age
        return self.min_links > 0 and young and post_text.link_count(text) >= self.min_links


async def add_comment(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    viewer: User,
    post_id: int,
    text: str,
    parent_id: int | None,
    guard: CommentGuard,
) -> Comment:
    """Comment on a visible post, or reply to a top-level comment of it (held for review when
    the guard says so: seen by its author only, until a moderator releases it)."""
    post = await posts_service.get_post(session, viewer=viewer, post_id=post_id)
    if post.status != MediaStatus.PUBLISHED:
        raise ValidationFailed("Posts can be commented on once published.")
    if post.comments_disabled:
        raise Forbidden("Comments are turned off for this post.", code="comments_disabled")
    if parent_id is not None:
        parent = await session.get(Comment, parent_id)
        if parent is None or parent.post_id != post.id:
            raise NotFound("No such comment to reply to.")
        # One level of replies: a reply to a reply attaches to the thread's top comment.
        parent_id = parent.parent_id or parent.id
    comment = Comment(
        id=ids.next_id(),
        post_id=post.id,
        author_id=viewer.id,
        parent_id=parent_id,
        text=text,
        like_count=0,
        held=guard.holds(viewer, text),
        created_at=utcnow(),
    )
    session.add(comment)
    if comment.held:
        await bus.emit(session, ids=ids, event=events.CommentHeld(comment.id, post.id, viewer.id))
    else:
        await _announce(session, ids=ids, comment=comment)
    await session.flush()
    return comment


async def _announce(session: AsyncSession, *, ids: IdGenerator, comment: Comment) -> None:
    """A comment shows: the post counts it, and its event tells whom it concerns."""
    await session.execute(
        sa.update(Post)
        .where(Post.id == comment.post_id)
        .values(comment_count=Post.comment_count + 1)
    )
    event = events.CommentCreated(comment.id, comment.post_id, comment.author_id)
    await bus.emit(session, ids=ids, event=event)


async def release_comment(session: AsyncSession, *, ids: IdGenerator, comment: Comment) -> None:
    """A moderator let a held comment through: it shows, counts and notifies now."""
    if comment.held:
        comment.held = False
        await _announce(session, ids=ids, comment=comment)
        await session.flush()


async def get_comment(session: AsyncSession, *, viewer: User | None, comment_id: int) -> Comment:
    """A comment on a post the viewer can see, by someone not blocked with them."""
    comment = await session.get(Comment, comment_id)
    if comment is None or (comment.held and (viewer is None or viewer.id != comment.author_id)):
        raise NotFound("No such comment.")
    await posts_service.get_post(session, viewer=viewer, post_id=comment.post_id)
    if viewer is not None and await social_service.is_blocked_either_way(
        session, a=viewer.id, b=comment.author_id
    ):
        raise NotFound("No such comment.")
    return comment


def may_delete_comment(viewer: User, *, author_id: int, post_author_id: int) -> bool:
    """Whether the viewer may delete a comment: its author, the post's author, or staff (who
    take it down through moderation)."""
    return viewer.id in (author_id, post_author_id) or viewer.is_staff


async def delete_comment(
    session: AsyncSession, *, ids: IdGenerator, viewer: User, comment_id: int
) -> Comment:
    """Delete a comment and its replies: its author, the post's author, or an admin."""
    comment = await get_comment(session, viewer=viewer, comment_id=comment_id)
    post = await session.get(Post, comment.post_id)
    assert post is not None
    if not may_delete_comment(viewer, author_id=comment.author_id, post_author_id=post.author_id):
        raise Forbidden("You cannot delete this comment.")
    await remove_comment(session, ids=ids, comment=comment)
    return comment


async def remove_comment(session: AsyncSession, *, ids: IdGenerator, comment: Comment) -> None:
    """A comment goes with its replies; the post's count follows (a held one never counted)."""
    replies = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Comment)
        .where(Comment.parent_id == comment.id, Comment.held.is_(False))
    )
    await session.execute(sa.delete(Comment).where(Comment.parent_id == comment.id))
    await session.execute(sa.delete(Comment).where(Comment.id == comment.id))
    counted = 0 if comment.held else 1
    await session.execute(
        sa.update(Post)
        .where(Post.id == comment.post_id)
        .values(comment_count=Post.comment_count - counted - (replies or 0))
    )
    await bus.emit(session, ids=ids, event=events.CommentDeleted(comment.id, comment.post_id))


async def list_comments(
    session: AsyncSession,
    *,
    viewer: User | None,
    post_id: int,
    parent_id: int | None,
    after_id: int | None,
    limit: int,
) -> list[tuple[Comment, User]]:
    """Comments oldest first (top level, or the replies to one), limit+1, hiding the blocked."""
    post = await posts_service.get_post(session, viewer=viewer, post_id=post_id)
    query = _shown_comments(viewer, post.id).where(
        Comment.parent_id.is_(None) if parent_id is None else Comment.parent_id == parent_id
    )
    if after_id is not None:
        query = query.where(Comment.id > after_id)
    rows = await session.execute(query.order_by(Comment.id.asc()).limit(limit + 1))
    return [(comment, user) for comment, user in rows]


def _shown_comments(viewer: User | None, post_id: int) -> sa.Select[Comment, User]:
    """SQL: a post's comments with their authors, leaving out banned, deleted and blocked ones."""
    query = (
        sa.select(Comment, User)
        .join(User, User.id == Comment.author_id)
        .where(Comment.post_id == post_id, active_accounts())
    )
    if viewer is None:
        return query.where(Comment.held.is_(False))
    return query.where(
        social_queries.not_blocked_with(viewer.id, User.id),
        sa.or_(Comment.held.is_(False), Comment.author_id == viewer.id),
    )


async def first_replies(
    session: AsyncSession,
    *,
    viewer: User | None,
    post_id: int,
    parent_ids: Sequence[int],
    limit: int,
) -> dict[int, list[tuple[Comment, User]]]:
    """The oldest limit+1 replies of each of several comments, in one query.

    The caller has already checked that the viewer may see the post (by listing its comments).
    """
    if not parent_ids:
        return {}
    ranked = (
        _shown_comments(viewer, post_id)
        .where(Comment.parent_id.in_(parent_ids))
        .with_only_columns(
            Comment.id,
            sa.func.row_number()
            .over(partition_by=Comment.parent_id, order_by=Comment.id)
            .label("rank"),
        )
        .subquery()
    )
    first = sa.select(ranked.c.id).where(ranked.c.rank <= limit + 1)
    rows = await session.execute(
        sa.select(Comment, User)
        .join(User, User.id == Comment.author_id)
        .where(Comment.id.in_(first))
        .order_by(Comment.id)
    )
    replies: dict[int, list[tuple[Comment, User]]] = {parent: [] for parent in parent_ids}
    for reply, who in rows:
        assert reply.parent_id is not None
        replies[reply.parent_id].append((reply, who))
    return replies


async def like_comment(
    session: AsyncSession, *, ids: IdGenerator, viewer: User, comment_id: int
) -> tuple[Comment, bool]:
    """Like a comment (idempotent); (comment, whether a like was added)."""
    comment = await get_comment(session, viewer=viewer, comment_id=comment_id)
    added = await insert_ignore(
        session,
        CommentLike,
        {"comment_id": comment.id, "user_id": viewer.id, "created_at": utcnow()},
    )
    if added:
        await session.execute(
            sa.update(Comment)
            .where(Comment.id == comment.id)
            .values(like_count=Comment.like_count + 1)
        )
        liked = events.CommentLiked(comment.id, comment.post_id, comment.author_id, viewer.id)
        await bus.emit(session, ids=ids, event=liked)
    await session.refresh(comment, ["like_count"])
    return comment, added


async def unlike_comment(
    session: AsyncSession, *, ids: IdGenerator, viewer: User, comment_id: int
) -> tuple[Comment, bool]:
    """Take a comment like back."""
    comment = await get_comment(session, viewer=viewer, comment_id=comment_id)
    result = await session.execute(
        sa.delete(CommentLike).where(
            CommentLike.comment_id == comment.id, CommentLike.user_id == viewer.id
        )
    )
    removed = bool(getattr(result, "rowcount", 0))
    if removed:
        await session.execute(
            sa.update(Comment)
            .where(Comment.id == comment.id)
            .values(like_count=Comment.like_count - 1)
        )
        unliked = events.CommentUnliked(comment.id, comment.post_id, comment.author_id, viewer.id)
        await bus.emit(session, ids=ids, event=unliked)
    await session.refresh(comment, ["like_count"])
    return comment, removed


async def save_post(session: AsyncSession, *, ids: IdGenerator, viewer: User, post_id: int) -> None:
    """Save a visible post to the viewer's collection (idempotent)."""
    post = await posts_service.get_post(session, viewer=viewer, post_id=post_id)
    await insert_ignore(
        session,
        Save,
        {"user_id": viewer.id, "post_id": post.id, "id": ids.next_id(), "created_at": utcnow()},
    )


async def unsave_post(session: AsyncSession, *, viewer: User, post_id: int) -> None:
    """Remove a post from the viewer's collection (idempotent; works even if now hidden)."""
    await session.execute(sa.delete(Save).where(Save.user_id == viewer.id, Save.post_id == post_id))


async def saved_posts(
    session: AsyncSession, *, viewer: User, before_id: int | None, limit: int
) -> list[tuple[int, Post]]:
    """(save id, post) of the viewer's saved posts, newest save first, limit+1."""
    query = (
        sa.select(Save.id, Post)
        .join(Post, Post.id == Save.post_id)
        .where(Save.user_id == viewer.id, published_only())
    )
    if before_id is not None:
        query = query.where(Save.id < before_id)
    rows = list(await session.execute(query.order_by(Save.id.desc()).limit(limit + 1)))
    allowed = await social_service.viewable_author_ids(
        session, viewer=viewer, author_ids=[post.author_id for _, post in rows]
    )
    return [(save_id, post) for save_id, post in rows if post.author_id in allowed]


async def liked_comment_ids(
    session: AsyncSession, *, viewer_id: int, comment_ids: Sequence[int]
) -> set[int]:
    """The comments among these that the viewer has liked, in one query."""
    if not comment_ids:
        return set()
    return set(
        await session.scalars(
            sa.select(CommentLike.comment_id).where(
                CommentLike.user_id == viewer_id, CommentLike.comment_id.in_(comment_ids)
            )
        )
    )


async def viewer_flags(
    session: AsyncSession, *, viewer_id: int, post_ids: Sequence[int]
) -> tuple[set[int], set[int]]:
    """(liked post IDs, saved post IDs) among the given posts: two queries for a whole page."""
    if not post_ids:
        return set(), set()
    liked = set(
        await session.scalars(
            sa.select(PostLike.post_id).where(
                PostLike.user_id == viewer_id, PostLike.post_id.in_(post_ids)
            )
        )
    )
    saved = set(
        await session.scalars(
            sa.select(Save.post_id).where(Save.user_id == viewer_id, Save.post_id.in_(post_ids))
        )
    )
    return liked, saved


async def with_viewer_flags(
    session: AsyncSession, *, viewer: User, posts: list[PostOut]
) -> list[PostOut]:
    """The posts with the viewer's liked and saved flags, in one query each."""
    if not posts:
        return []
    liked, saved = await viewer_flags(
        session, viewer_id=viewer.id, post_ids=[post.id for post in posts]
    )
    return [
        post.model_copy(
            update={"viewer": PostViewer(liked=post.id in liked, saved=post.id in saved)}
        )
        for post in posts
    ]
