"""HTTP routes of likes, comments and saves."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User
from glint.accounts.schemas import UserSummary
from glint.http.deps import (
    CurrentUser,
    MediaUrlsDep,
    PageParamsDep,
    RuntimeDep,
    SessionDep,
    ViewerDep,
    rate_limit,
)
from glint.media.urls import MediaUrls
from glint.moderation import content as moderation_content
from glint.paging import Page, cursor_int, decode_cursor, encode_cursor, page_by_id
from glint.posts import engagement, presenter
from glint.posts.models import Comment
from glint.posts.schemas import CommentIn, CommentOut, CommentViewer, LikeOut, PostOut, SaveOut
from glint.schemas import path_id

router = APIRouter(tags=["engagement"])


@router.post("/posts/{post_id}/like", dependencies=[Depends(rate_limit("likes"))])
async def like(
    post_id: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> LikeOut:
    """Like a post (idempotent)."""
    post, _ = await engagement.like_post(
        session, ids=runtime.ids, viewer=user, post_id=path_id(post_id, "post")
    )
    await runtime.commit(session)
    return LikeOut(liked=True, like_count=post.like_count)


@router.delete("/posts/{post_id}/like")
async def unlike(
    post_id: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> LikeOut:
    """Take a like back (idempotent)."""
    post, _ = await engagement.unlike_post(
        session, ids=runtime.ids, viewer=user, post_id=path_id(post_id, "post")
    )
    await runtime.commit(session)
    return LikeOut(liked=False, like_count=post.like_count)


@router.get("/posts/{post_id}/likes")
async def likes(
    post_id: str, page: PageParamsDep, viewer: ViewerDep, urls: MediaUrlsDep, session: SessionDep
) -> Page[UserSummary]:
    """Who liked a post, most recent first."""
    rows = await engagement.likers(
        session,
        viewer=viewer.user if viewer else None,
        post_id=path_id(post_id, "post"),
        before_id=page.before_id(),
        limit=page.limit,
    )
    items, cursor = page_by_id(rows, limit=page.limit, key=lambda row: row[0])
    return Page[UserSummary](
        items=[UserSummary.of(u, urls=urls) for _, u in items], next_cursor=cursor
    )


async def _comments_out(
    session: AsyncSession, urls: MediaUrls, viewer: User | None, rows: list[tuple[Comment, User]]
) -> list[CommentOut]:
    liked: set[int] = set()
    if viewer is not None:
        liked = await engagement.liked_comment_ids(
            session, viewer_id=viewer.id, comment_ids=[comment.id for comment, _ in rows]
        )
    return [
        CommentOut(
            id=comment.id,
            post_id=comment.post_id,
            parent_id=comment.parent_id,
            author=UserSummary.of(author, urls=urls),
            text=comment.text,
            like_count=comment.like_count,
            created_at=comment.created_at,
            viewer=CommentViewer(liked=comment.id in liked) if viewer else None,
            held=comment.held,
        )
        for comment, author in rows
    ]


@router.get("/posts/{post_id}/comments")
async def comments(
    post_id: str,
    page: PageParamsDep,
    viewer: ViewerDep,
    urls: MediaUrlsDep,
    session: SessionDep,
    parent_id: Annotated[str | None, Query(max_length=20)] = None,
) -> Page[CommentOut]:
    """Top-level comments oldest first, or the replies to one with parent_id."""
    user = viewer.user if viewer else None
    after_id = cursor_int(decode_cursor(page.cursor), "after") if page.cursor else None
    rows = await engagement.list_comments(
        session,
        viewer=user,
        post_id=path_id(post_id, "post"),
        parent_id=path_id(parent_id, "comment") if parent_id else None,
        after_id=after_id,
        limit=page.limit,
    )
    items = rows[: page.limit]
    cursor = encode_cursor({"after": items[-1][0].id}) if len(rows) > page.limit else None
    return Page[CommentOut](
        items=await _comments_out(session, urls, user, items), next_cursor=cursor
    )


@router.post(
    "/posts/{post_id}/comments",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(rate_limit("comments"))],
)
async def comment(
    post_id: str,
    body: CommentIn,
    user: CurrentUser,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
) -> CommentOut:
    """Comment on a post, or reply with parent_id."""
    created = await engagement.add_comment(
        session,
        ids=runtime.ids,
        viewer=user,
        post_id=path_id(post_id, "post"),
        text=body.text,
        parent_id=body.parent_id,
        guard=engagement.CommentGuard.of(runtime.settings),
    )
    await runtime.commit(session)
    (shaped,) = await _comments_out(session, urls, user, [(created, user)])
    return shaped


@router.delete("/comments/{comment_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_comment(
    comment_id: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> None:
    """Delete a comment: its author, the post's author, or staff (a take-down)."""
    # Notifications about the comment go with it: their foreign key cascades.
    await moderation_content.delete_comment(
        session, ids=runtime.ids, viewer=user, comment_id=path_id(comment_id, "comment")
    )
    await runtime.commit(session)


@router.post("/comments/{comment_id}/like", dependencies=[Depends(rate_limit("likes"))])
async def like_comment(
    comment_id: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> LikeOut:
    """Like a comment (idempotent)."""
    target, _ = await engagement.like_comment(
        session, ids=runtime.ids, viewer=user, comment_id=path_id(comment_id, "comment")
    )
    await runtime.commit(session)
    return LikeOut(liked=True, like_count=target.like_count)


@router.delete("/comments/{comment_id}/like")
async def unlike_comment(
    comment_id: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> LikeOut:
    """Take a comment like back (idempotent)."""
    target, _ = await engagement.unlike_comment(
        session, ids=runtime.ids, viewer=user, comment_id=path_id(comment_id, "comment")
    )
    await runtime.commit(session)
    return LikeOut(liked=False, like_count=target.like_count)


@router.post("/posts/{post_id}/save")
async def save(
    post_id: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> SaveOut:
    """Save a post (idempotent)."""
    await engagement.save_post(
        session, ids=runtime.ids, viewer=user, post_id=path_id(post_id, "post")
    )
    await session.commit()
    return SaveOut(saved=True)


@router.delete("/posts/{post_id}/save")
async def unsave(post_id: str, user: CurrentUser, session: SessionDep) -> SaveOut:
    """Unsave a post (idempotent)."""
    await engagement.unsave_post(session, viewer=user, post_id=path_id(post_id, "post"))
    await session.commit()
    return SaveOut(saved=False)


@router.get("/users/me/saved")
async def saved(
    page: PageParamsDep, user: CurrentUser, urls: MediaUrlsDep, session: SessionDep
) -> Page[PostOut]:
    """The viewer's saved posts, most recently saved first."""
    rows = await engagement.saved_posts(
        session, viewer=user, before_id=page.before_id(), limit=page.limit
    )
    items, cursor = page_by_id(rows, limit=page.limit, key=lambda row: row[0])
    shaped = await presenter.posts_out(
        session, posts=[post for _, post in items], viewer=user, urls=urls
    )
    return Page[PostOut](items=shaped, next_cursor=cursor)
