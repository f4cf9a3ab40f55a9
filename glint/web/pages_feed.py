"""The home feed (chronological or ranked) with infinite scroll and the story tray, and explore.
An empty home feed suggests accounts to follow (glint.web.pages_discovery has the hashtag pages).

The first page is rendered here; later pages come from /feed/page and /explore/page as HTML
fragments made with the same post-card macro, which js/feed.js appends as the reader scrolls.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Response

from glint.feeds import service as feeds_service
from glint.paging import MAX_CURSOR_LENGTH, Page, PageParams
from glint.posts.schemas import PostOut
from glint.web.pages_discovery import EMPTY_FEED_SUGGESTIONS, Person, suggested_people
from glint.web.pages_stories import tray_circles
from glint.web.rendering import MemberPageDep, PageCtx, WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

FEED_PAGE = 10
EXPLORE_PAGE = 24
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH)]
FeedView = Literal["following", "ranked"]


async def _feed(page: PageCtx, view: FeedView, cursor: str | None) -> Page[PostOut]:
    params = PageParams(limit=FEED_PAGE, cursor=cursor)
    if view == "ranked":
        return await feeds_service.ranked_feed(
            page.session, runtime=page.runtime, urls=page.urls, viewer=page.me, params=params
        )
    return await feeds_service.home_feed(
        page.session, runtime=page.runtime, urls=page.urls, viewer=page.me, params=params
    )


def _next_urls(path: str, view: str | None, cursor: str | None) -> tuple[str | None, str | None]:
    """(fragment URL, full-page URL) of the page after this one."""
    if cursor is None:
        return None, None
    query = {"cursor": cursor} if view is None else {"view": view, "cursor": cursor}
    encoded = urlencode(query)
    base = "/" if path == "/feed" else path
    return f"{path}/page?{encoded}", f"{base}?{encoded}"


@router.get("/")
async def home(
    page: MemberPageDep, view: FeedView = "following", cursor: Cursor = None
) -> Response:
    """The home feed: people you follow and you, newest first, or ranked; the story tray
    above its first page."""
    circles = await tray_circles(page) if cursor is None else []
    result = await _feed(page, view, cursor)
    fragment_url, page_url = _next_urls("/feed", view, result.next_cursor)
    # Nothing to show yet: accounts to follow instead (wide screens fetch theirs beside a feed).
    suggestions: list[Person] = []
    if not result.items and cursor is None:
        suggestions = await suggested_people(page, limit=EMPTY_FEED_SUGGESTIONS)
    context = {
        "posts": result.items,
        "suggestions": suggestions,
        "view": view,
        "fragment_url": fragment_url,
        "page_url": page_url,
        "first_page": cursor is None,
        "tray": circles,
    }
    return await page.render("feed.html", context)


@router.get("/feed/page")
async def feed_fragment(
    page: MemberPageDep, view: FeedView = "following", cursor: Cursor = None
) -> Response:
    """The next cards of the home feed, for infinite scroll."""
    result = await _feed(page, view, cursor)
    fragment_url, page_url = _next_urls("/feed", view, result.next_cursor)
    context = {"posts": result.items, "fragment_url": fragment_url, "page_url": page_url}
    return page.fragment("feed_page.html", context)


async def _explore(page: PageCtx, cursor: str | None) -> Page[PostOut]:
    params = PageParams(limit=EXPLORE_PAGE, cursor=cursor)
    return await feeds_service.explore(
        page.session, runtime=page.runtime, urls=page.urls, viewer=page.me, params=params
    )


@router.get("/explore")
async def explore(page: MemberPageDep, cursor: Cursor = None) -> Response:
    """Popular public posts from accounts you don't follow yet."""
    result = await _explore(page, cursor)
    fragment_url, page_url = _next_urls("/explore", None, result.next_cursor)
    context = {"posts": result.items, "fragment_url": fragment_url, "page_url": page_url}
    return await page.render("explore.html", context)


@router.get("/explore/page")
async def explore_fragment(page: MemberPageDep, cursor: Cursor = None) -> Response:
    """More explore tiles, for infinite scroll."""
    result = await _explore(page, cursor)
    fragment_url, page_url = _next_urls("/explore", None, result.next_cursor)
    context = {"posts": result.items, "fragment_url": fragment_url, "page_url": page_url}
    return page.fragment("grid_page.html", context)
