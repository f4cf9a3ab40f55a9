"""The everyday actions behind the "…" menus and on comments, as pages and form posts that work
without JS (js/actions.js runs the same actions in place through the JSON API): block, unblock,
mute and unmute someone; edit a caption; delete a post after a confirmation page; like, unlike
and delete a comment; and the people who liked a post. Each calls the service the API calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Literal, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Response
from pydantic import ValidationError

from glint.accounts import service as accounts_service
from glint.accounts.schemas import Relationship, UserSummary
from glint.errors import NotFound
from glint.moderation import content as moderation_content
from glint.paging import MAX_CURSOR_LENGTH, PageParams, page_by_id
from glint.posts import engagement as posts_engagement
from glint.posts import presenter as posts_presenter
from glint.posts import service as posts_service
from glint.posts.schemas import MAX_CAPTION, PostOut, PostPatchIn
from glint.schemas import parse_path_id
from glint.social import service as social_service
from glint.web.rendering import MemberPageDep, PageCtx, PageDep, WebRoute, redirect, safe_next

router = APIRouter(route_class=WebRoute, include_in_schema=False)

LIKERS_PAGE = 30
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH)]
GraphAction = Literal["block", "unblock", "mute", "unmute"]
CommentAction = Literal["like", "unlike", "delete"]


def _id(value: str, what: str) -> int:
    parsed = parse_path_id(value)
    if parsed is None:
        raise NotFound(f"No such {what}.")
    return parsed


async def _graph(page: PageCtx, username: str, action: GraphAction) -> Response:
    """One block/mute action from a form, then back to where the form said."""
    fields = await page.verify_form()
    target = await accounts_service.get_by_username(page.session, username=username)
    ids = page.runtime.ids
    steps: dict[str, Callable[[], Awaitable[object]]] = {
        "block": lambda: social_service.block(page.session, ids=ids, viewer=page.me, target=target),
        "unblock": lambda: social_service.unblock(page.session, viewer=page.me, target=target),
        "mute": lambda: social_service.mute(page.session, ids=ids, viewer=page.me, target=target),
        "unmute": lambda: social_service.unmute(
            page.session, ids=ids, viewer=page.me, target=target
        ),
    }
    await steps[action]()
    await page.runtime.commit(page.session)
    return redirect(safe_next(fields.get("next"), f"/{target.username}"))


def _graph_route(action: GraphAction) -> Callable[..., Awaitable[Response]]:
    async def handler(username: str, page: MemberPageDep) -> Response:
        return await _graph(page, username, action)

    handler.__doc__ = f"{action.capitalize()} someone from a profile's or a post's menu."
    return handler


# POST /{username}/block, /unblock, /mute, /unmute: one route each (the path stays fixed, so
# any other two-part path is left to the routes after these).
for _action in get_args(GraphAction):
    router.add_api_route(
        f"/{{username}}/{_action}", _graph_route(_action), methods=["POST"], name=_action
    )


async def _own_post(page: PageCtx, post_id: str) -> PostOut:
    """The viewer's own post, shaped (NotFound for anyone else's: nothing to edit there)."""
    post = await posts_service.get_post(page.session, viewer=page.me, post_id=_id(post_id, "post"))
    if post.author_id != page.me.id:
        raise NotFound("Only the author can change this post.")
    (shaped,) = await posts_presenter.posts_out(
        page.session, posts=[post], viewer=page.me, urls=page.urls
    )
    return shaped


@router.get("/p/{post_id}/edit")
async def edit_form(post_id: str, page: MemberPageDep) -> Response:
    """The caption editor (js/actions.js opens the same form in a dialog)."""
    post = await _own_post(page, post_id)
    context = {"post": post, "max_caption": MAX_CAPTION, "error": None, "caption": post.caption}
    return await page.render("post_edit.html", context)


@router.post("/p/{post_id}/edit")
async def save_caption(post_id: str, page: MemberPageDep) -> Response:
    """Save the new caption (as PATCH /posts/{id} does), then back to the post."""
    fields = await page.verify_form()
    post = await _own_post(page, post_id)
    caption = fields.get("caption", "")
    try:
        changes = PostPatchIn(caption=caption)
    except ValidationError:
        context = {
            "post": post,
            "max_caption": MAX_CAPTION,
            "error": f"A caption has at most {MAX_CAPTION:,} characters and only storable text.",
            "caption": caption,
        }
        return await page.render("post_edit.html", context, status=422)
    await posts_service.update_post(
        page.session, ids=page.runtime.ids, viewer=page.me, post_id=post.id, changes=changes
    )
    await page.runtime.commit(page.session)
    return redirect(f"/p/{post.id}")


@router.get("/p/{post_id}/delete")
async def delete_form(post_id: str, page: MemberPageDep) -> Response:
    """ "Delete this post?" with Delete and Cancel."""
    post = await _own_post(page, post_id)
    return await page.render("post_delete.html", {"post": post})


@router.post("/p/{post_id}/delete")
async def delete(post_id: str, page: MemberPageDep) -> Response:
    """Delete the post (author or admin, as DELETE /posts/{id}), then to the profile."""
    await page.verify_form()
    await moderation_content.delete_post(
        page.session, ids=page.runtime.ids, viewer=page.me, post_id=_id(post_id, "post")
    )
    await page.runtime.commit(page.session)
    return redirect(f"/{page.me.username}")


async def _comment_action(page: PageCtx, comment_id: str, action: CommentAction) -> Response:
    await page.verify_form()
    cid = _id(comment_id, "comment")
    ids = page.runtime.ids
    if action == "delete":
        gone = await moderation_content.delete_comment(
            page.session, ids=ids, viewer=page.me, comment_id=cid
        )
        await page.runtime.commit(page.session)
        return redirect(f"/p/{gone.post_id}")
    if action == "like":
        await page.count_action("likes")
        comment, _ = await posts_engagement.like_comment(
            page.session, ids=ids, viewer=page.me, comment_id=cid
        )
    else:
        comment, _ = await posts_engagement.unlike_comment(
            page.session, ids=ids, viewer=page.me, comment_id=cid
        )
    await page.runtime.commit(page.session)
    return redirect(f"/p/{comment.post_id}#c-{comment.id}")


@router.post("/c/{comment_id}/{action}")
async def comment_action(comment_id: str, action: CommentAction, page: MemberPageDep) -> Response:
    """Like or unlike a comment (idempotent), or delete it and its replies (its author, the
    post's author or an admin)."""
    return await _comment_action(page, comment_id, action)


@router.get("/p/{post_id}/likes")
async def likers(post_id: str, page: PageDep, cursor: Cursor = None) -> Response:
    """The people who liked a post, newest first, each with a Follow button."""
    pid = _id(post_id, "post")
    params = PageParams(limit=LIKERS_PAGE, cursor=cursor)
    rows = await posts_engagement.likers(
        page.session, viewer=page.user, post_id=pid, before_id=params.before_id(), limit=LIKERS_PAGE
    )
    items, next_cursor = page_by_id(rows, limit=LIKERS_PAGE, key=lambda row: row[0])
    people = [UserSummary.of(user, urls=page.urls) for _, user in items]
    relations: dict[int, Relationship] = {}
    if page.user is not None and people:
        relations = await social_service.relationships(
            page.session, viewer_id=page.user.id, other_ids=[p.id for p in people]
        )
    next_url = f"/p/{pid}/likes?" + urlencode({"cursor": next_cursor}) if next_cursor else None
    context = {"post_id": pid, "people": people, "relations": relations, "next_url": next_url}
    return await page.render("likers.html", context)
