"""A post's own page with its comments and replies, the comment form's no-JS fallback, and
the new-post page (the upload itself goes to POST /api/v1/posts from js/upload.js)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Response
from starlette.datastructures import UploadFile

from glint.accounts.models import User
from glint.accounts.schemas import UserSummary
from glint.errors import NotFound, ValidationFailed
from glint.http import uploads
from glint.media import filters as media_filters
from glint.media import service as media_service
from glint.paging import MAX_CURSOR_LENGTH, cursor_int, decode_cursor, encode_cursor
from glint.posts import engagement as posts_engagement
from glint.posts import models as posts_models
from glint.posts import presenter as posts_presenter
from glint.posts import service as posts_service
from glint.posts.schemas import MAX_CAPTION, MAX_IMAGES, PostOut
from glint.schemas import clean_text, parse_path_id
from glint.social import service as social_service
from glint.web import filter_preview
from glint.web.rendering import (
    MemberPageDep,
    PageCtx,
    PageDep,
    WebRoute,
    redirect,
    with_security_headers,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

COMMENTS_PAGE = 20
REPLIES_SHOWN = 3
REPLIES_PAGE = 20
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH)]


@dataclass
class CommentView:
    """A comment as the templates show it, with the first replies of a thread."""

    id: int
    post_id: int
    parent_id: int | None
    author: UserSummary
    text: str
    like_count: int
    created_at: Any
    replies: list[CommentView] = field(default_factory=list)
    more_replies_url: str | None = None
    liked: bool = False
    can_delete: bool = False


def _post_id(value: str) -> int:
    parsed = parse_path_id(value)
    if parsed is None:
        raise NotFound("No such post.")
    return parsed


def _view(page: PageCtx, comment: posts_models.Comment, author: User) -> CommentView:
    return CommentView(
        id=comment.id,
        post_id=comment.post_id,
        parent_id=comment.parent_id,
        author=UserSummary.of(author, urls=page.urls),
        text=comment.text,
        like_count=comment.like_count,
        created_at=comment.created_at,
    )


async def _mark(page: PageCtx, views: list[CommentView], post_author_id: int) -> None:
    """The viewer's own flags on comments shown: liked, and whether they may delete it."""
    viewer = page.user
    if viewer is None:
        return
    every = [view for top in views for view in (top, *top.replies)]
    liked = await posts_engagement.liked_comment_ids(
        page.session, viewer_id=viewer.id, comment_ids=[view.id for view in every]
    )
    for view in every:
        view.liked = view.id in liked
        view.can_delete = posts_engagement.may_delete_comment(
            viewer, author_id=view.author.id, post_author_id=post_author_id
        )


def _after(cursor: str | None) -> int | None:
    return cursor_int(decode_cursor(cursor), "after") if cursor else None


def _comments_url(post_id: int, cursor: str, parent_id: int | None = None) -> str:
    query: dict[str, str] = {"cursor": cursor}
    if parent_id is not None:
        query["parent_id"] = str(parent_id)
    return f"/p/{post_id}/comments?{urlencode(query)}"


async def _threads(
    page: PageCtx, post_id: int, post_author_id: int, cursor: str | None
) -> tuple[list[CommentView], str | None]:
    """A page of top-level comments, oldest first, each with its first replies."""
    rows = await posts_engagement.list_comments(
        page.session,
        viewer=page.user,
        post_id=post_id,
        parent_id=None,
        after_id=_after(cursor),
        limit=COMMENTS_PAGE,
    )
    threads = []
    replies_of = await posts_engagement.first_replies(
        page.session,
        viewer=page.user,
        post_id=post_id,
        parent_ids=[comment.id for comment, _ in rows[:COMMENTS_PAGE]],
        limit=REPLIES_SHOWN,
    )
    for comment, author in rows[:COMMENTS_PAGE]:
        thread = _view(page, comment, author)
        replies = replies_of[comment.id]
        thread.replies = [_view(page, reply, who) for reply, who in replies[:REPLIES_SHOWN]]
        if len(replies) > REPLIES_SHOWN:
            last = encode_cursor({"after": replies[REPLIES_SHOWN - 1][0].id})
            thread.more_replies_url = _comments_url(post_id, last, comment.id)
        threads.append(thread)
    next_url = None
    if len(rows) > COMMENTS_PAGE:
        next_url = _comments_url(post_id, encode_cursor({"after": rows[COMMENTS_PAGE - 1][0].id}))
    await _mark(page, threads, post_author_id)
    return threads, next_url


async def _shaped(page: PageCtx, post_id: int) -> PostOut:
    post = await posts_service.get_post(page.session, viewer=page.user, post_id=post_id)
    (shaped,) = await posts_presenter.posts_out(
        page.session, posts=[post], viewer=page.user, urls=page.urls
    )
    return shaped


@router.get("/p/{post_id}")
async def post_detail(post_id: str, page: PageDep) -> Response:
    """A post with its comments and replies."""
    shaped = await _shaped(page, _post_id(post_id))
    threads, next_url = await _threads(page, shaped.id, shaped.author.id, None)
    author_rel = None
    if page.user is not None and page.user.id != shaped.author.id:
        relations = await social_service.relationships(
            page.session, viewer_id=page.user.id, other_ids=[shaped.author.id]
        )
        author_rel = relations[shaped.author.id]
    context = {"post": shaped, "threads": threads, "next_url": next_url, "author_rel": author_rel}
    return await page.render("post.html", context)


@router.get("/p/{post_id}/comments")
async def comments_fragment(
    post_id: str,
    page: PageDep,
    cursor: Cursor = None,
    parent_id: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """More comment threads, or more replies of one thread (as HTML to append)."""
    pid = _post_id(post_id)
    post = await posts_service.get_post(page.session, viewer=page.user, post_id=pid)
    if parent_id is None:
        threads, next_url = await _threads(page, pid, post.author_id, cursor)
        return page.fragment("comments_page.html", {"threads": threads, "next_url": next_url})
    parent = parse_path_id(parent_id)
    if parent is None:
        raise NotFound("No such comment.")
    rows = await posts_engagement.list_comments(
        page.session,
        viewer=page.user,
        post_id=pid,
        parent_id=parent,
        after_id=_after(cursor),
        limit=REPLIES_PAGE,
    )
    replies = [_view(page, reply, who) for reply, who in rows[:REPLIES_PAGE]]
    await _mark(page, replies, post.author_id)
    more = None
    if len(rows) > REPLIES_PAGE:
        more = _comments_url(pid, encode_cursor({"after": rows[REPLIES_PAGE - 1][0].id}), parent)
    return page.fragment("replies_page.html", {"replies": replies, "next_url": more})


@router.post("/p/{post_id}/comment")
async def add_comment(post_id: str, page: MemberPageDep) -> Response:
    """The comment form without JS: add the comment, then back to the post."""
    fields = await page.verify_form()
    pid = _post_id(post_id)
    try:
        text = clean_text(fields.get("text", "").strip())
    except ValueError as exc:
        raise ValidationFailed(f"The comment {exc}.") from exc
    if not 1 <= len(text) <= MAX_CAPTION:
        raise ValidationFailed(f"A comment has 1 to {MAX_CAPTION} characters.")
    parent_id = None
    if fields.get("parent_id"):
        parent_id = parse_path_id(fields["parent_id"])
        if parent_id is None:
            raise NotFound("No such comment to reply to.")
    await page.count_action("comments")
    created = await posts_engagement.add_comment(
        page.session,
        ids=page.runtime.ids,
        viewer=page.me,
        post_id=pid,
        text=text,
        parent_id=parent_id,
        guard=posts_engagement.CommentGuard.of(page.runtime.settings),
    )
    await page.runtime.commit(page.session)
    return redirect(f"/p/{pid}#c-{created.id}")


@router.get("/new")
async def new_post(page: MemberPageDep) -> Response:
    """The upload page: photos, filter previews, caption, alt texts, location."""
    context = {
        "filters": media_filters.FILTERS,
        "filter_defs": filter_preview.svg_defs(),
        "max_images": MAX_IMAGES,
        "max_caption": MAX_CAPTION,
    }
    return await page.render("new_post.html", context)


@router.post("/new/preview")
async def photo_preview(page: MemberPageDep) -> Response:
    """A JPEG preview of a photo picked on the upload page that the browser cannot draw
    (HEIC): decoded as the pipeline decodes it, at most 640 px wide; nothing is kept."""
    await page.verify_form()
    upload = (await page.request.form()).get("image")
    if not isinstance(upload, UploadFile):
        raise ValidationFailed("Send the photo as the form's `image` file.")
    data = await uploads.read_photo(upload)
    jpeg = await media_service.preview_jpeg(page.runtime.cpu, data)
    response = with_security_headers(Response(jpeg, media_type="image/jpeg"))
    response.headers["Cache-Control"] = "private, no-store"  # the page's own photo, once
    return response
