"""Profiles: the header with counts and the follow button, story highlights, the posts grid,
followers and following lists, and the owner's saved posts."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Response

from glint.accounts import service as accounts_service
from glint.accounts import usernames
from glint.accounts.models import User
from glint.accounts.schemas import Relationship, UserOut, UserSummary
from glint.errors import Forbidden, NotFound
from glint.paging import MAX_CURSOR_LENGTH, PageParams, page_by_id
from glint.posts import engagement as posts_engagement
from glint.posts import presenter as posts_presenter
from glint.posts import service as posts_service
from glint.posts.schemas import PostOut
from glint.social import queries as social_queries
from glint.social import service as social_service
from glint.stories import highlights as stories_highlights
from glint.stories import presenter as stories_presenter
from glint.stories.schemas import HighlightOut
from glint.web.pages_stories import Ring, read_tray, ring_of
from glint.web.rendering import MemberPageDep, PageCtx, PageDep, WebRoute, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)

GRID_PAGE = 12
LIST_PAGE = 30
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH)]


def _more_urls(base: str, cursor: str | None) -> tuple[str | None, str | None]:
    """(fragment URL, full-page URL) of the next page, or (None, None) at the end."""
    if cursor is None:
        return None, None
    query = urlencode({"cursor": cursor})
    return f"{base}/grid?{query}", f"{base}?{query}"


async def _owner(page: PageCtx, username: str) -> User:
    user = await accounts_service.get_by_username(page.session, username=username)
    await social_service.ensure_visible_profile(page.session, viewer=page.user, user=user)
    return user


async def _grid(page: PageCtx, owner: User, cursor: str | None) -> tuple[list[PostOut], str | None]:
    params = PageParams(limit=GRID_PAGE, cursor=cursor or None)
    rows = await posts_service.list_user_posts(
        page.session,
        viewer=page.user,
        author=owner,
        before_id=params.before_id(),
        limit=params.limit,
    )
    items, next_cursor = page_by_id(rows, limit=params.limit, key=lambda post: post.id)
    posts = await posts_presenter.posts_out(
        page.session, posts=items, viewer=page.user, urls=page.urls
    )
    return posts, next_cursor


async def _highlights(page: PageCtx, owner: User) -> list[HighlightOut]:
    """The profile's highlights, as GET /users/{username}/highlights shows them to the
    viewer (call only when the viewer may see the owner's content)."""
    shown = await stories_highlights.list_for(page.session, viewer=page.user, owner=owner)
    return await stories_presenter.highlights_out(
        page.session, shown=shown, viewer=page.user, urls=page.urls
    )


async def _story_ring(page: PageCtx, owner: User) -> Ring | None:
    """The ring around the profile photo when the owner has live stories in the viewer's
    tray (the photo then opens them), as the tray draws it; None otherwise."""
    if page.user is None:
        return None
    for item in await read_tray(page):
        if item.user.id == owner.id:
            return ring_of(item)
    return None


async def _profile_out(page: PageCtx, user: User) -> UserOut:
    viewer = page.user
    if viewer is None or viewer.id == user.id:
        return UserOut.of(user, urls=page.urls)
    relations = await social_service.relationships(
        page.session, viewer_id=viewer.id, other_ids=[user.id]
    )
    return UserOut.of(user, urls=page.urls, relationship=relations[user.id])


@router.get("/{username}")
async def profile(username: str, page: PageDep, cursor: Cursor = None) -> Response:
    """A profile: header, follow button, and the posts grid (or the private-account notice);
    a name given up lately leads to the new one (301)."""
    try:
        owner = await _owner(page, username)
    except NotFound:
        renamed = await usernames.renamed_to(
            page.session, username=username, now=page.runtime.clock.now()
        )
        if renamed is None:
            raise
        return redirect(f"/{renamed}", status=301)
    shown = await _profile_out(page, owner)
    can_view = await social_service.can_view(page.session, viewer=page.user, author=owner)
    posts: list[PostOut] = []
    highlights: list[HighlightOut] = []
    story_ring: Ring | None = None
    next_cursor = None
    if can_view:
        posts, next_cursor = await _grid(page, owner, cursor)
        highlights = await _highlights(page, owner)
        story_ring = await _story_ring(page, owner)
    fragment_url, page_url = _more_urls(f"/{owner.username}", next_cursor)
    context: dict[str, Any] = {
        "profile": shown,
        "is_self": page.user is not None and page.user.id == owner.id,
        "can_view": can_view,
        "highlights": highlights,
        "story_ring": story_ring,
        "posts": posts,
        "tab": "posts",
        "fragment_url": fragment_url,
        "page_url": page_url,
    }
    return await page.render("profile.html", context)


@router.get("/{username}/grid")
async def grid_fragment(username: str, page: PageDep, cursor: Cursor = None) -> Response:
    """More tiles of a profile's grid (infinite scroll)."""
    owner = await _owner(page, username)
    posts, next_cursor = await _grid(page, owner, cursor)
    fragment_url, page_url = _more_urls(f"/{owner.username}", next_cursor)
    return page.fragment(
        "grid_page.html", {"posts": posts, "fragment_url": fragment_url, "page_url": page_url}
    )


async def _people(
    page: PageCtx, username: str, direction: Literal["followers", "following"], cursor: str | None
) -> Response:
    owner = await _owner(page, username)
    if not await social_service.can_view(page.session, viewer=page.user, author=owner):
        raise Forbidden("This account is private. Follow it to see who follows it.")
    params = PageParams(limit=LIST_PAGE, cursor=cursor)
    rows = await social_queries.follow_list(
        page.session,
        user_id=owner.id,
        direction=direction,
        viewer_id=page.user.id if page.user else None,
        before_id=params.before_id(),
        limit=params.limit,
    )
    items, next_cursor = page_by_id(rows, limit=params.limit, key=lambda row: row[0])
    people = [UserSummary.of(user, urls=page.urls) for _, user in items]
    relations: dict[int, Relationship] = {}
    if page.user is not None and people:
        relations = await social_service.relationships(
            page.session, viewer_id=page.user.id, other_ids=[p.id for p in people]
        )
    next_url = None
    if next_cursor:
        next_url = f"/{owner.username}/{direction}?" + urlencode({"cursor": next_cursor})
    context = {
        "owner": UserSummary.of(owner, urls=page.urls),
        "direction": direction,
        "people": people,
        "relations": relations,
        "next_url": next_url,
    }
    return await page.render("people.html", context)


@router.get("/{username}/followers")
async def followers(username: str, page: PageDep, cursor: Cursor = None) -> Response:
    """Who follows this account."""
    return await _people(page, username, "followers", cursor)


@router.get("/{username}/following")
async def following(username: str, page: PageDep, cursor: Cursor = None) -> Response:
    """Whom this account follows."""
    return await _people(page, username, "following", cursor)


async def _saved(
    page: PageCtx, username: str, cursor: str | None
) -> tuple[User, list[PostOut], tuple[str | None, str | None]]:
    me = page.me
    if me.username != username.strip().lower():
        raise NotFound("Only you can see what you saved.")
    params = PageParams(limit=GRID_PAGE, cursor=cursor)
    rows = await posts_engagement.saved_posts(
        page.session, viewer=me, before_id=params.before_id(), limit=params.limit
    )
    items, next_cursor = page_by_id(rows, limit=params.limit, key=lambda row: row[0])
    posts = await posts_presenter.posts_out(
        page.session, posts=[post for _, post in items], viewer=me, urls=page.urls
    )
    urls: tuple[str | None, str | None] = (None, None)
    if next_cursor:
        query = urlencode({"cursor": next_cursor})
        urls = (f"/{me.username}/saved/grid?{query}", f"/{me.username}/saved?{query}")
    return me, posts, urls


@router.get("/{username}/saved")
async def saved(username: str, page: MemberPageDep, cursor: Cursor = None) -> Response:
    """The owner's saved posts (nobody else's)."""
    me, posts, (fragment_url, page_url) = await _saved(page, username, cursor)
    context: dict[str, Any] = {
        "profile": UserOut.of(me, urls=page.urls),
        "is_self": True,
        "can_view": True,
        "highlights": await _highlights(page, me),
        "story_ring": await _story_ring(page, me),
        "posts": posts,
        "tab": "saved",
        "fragment_url": fragment_url,
        "page_url": page_url,
    }
    return await page.render("profile.html", context)


@router.get("/{username}/saved/grid")
async def saved_fragment(username: str, page: MemberPageDep, cursor: Cursor = None) -> Response:
    """More saved tiles (infinite scroll)."""
    _, posts, (fragment_url, page_url) = await _saved(page, username, cursor)
    return page.fragment(
        "grid_page.html", {"posts": posts, "fragment_url": fragment_url, "page_url": page_url}
    )
