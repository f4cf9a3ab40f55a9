"""Discovery pages: search results with tabs (people, tags, posts), hashtag pages, and the
"Suggested for you" lists (the empty home feed, the home feed's side column, /explore/people).

The pages call the same discovery functions as the API (glint.discovery), never the API over
HTTP. Every list pages by the service's cursor: the first page is part of the page, the next
ones come as HTML fragments (same macros) that js/feed.js appends as the reader scrolls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Response

from glint.accounts.models import User
from glint.accounts.schemas import Relationship, UserSummary
from glint.discovery import hashtags
from glint.discovery import service as discovery_service
from glint.discovery import suggestions as suggestions_service
from glint.discovery.schemas import HashtagSort, HashtagSummary
from glint.paging import MAX_CURSOR_LENGTH
from glint.posts.schemas import PostOut
from glint.social import service as social_service
from glint.web.rendering import MemberPageDep, PageCtx, PageDep, WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

Tab = Literal["people", "tags", "posts"]
PAGE_SIZES: dict[Tab, int] = {"people": 20, "tags": 20, "posts": 24}
HASHTAG_PAGE = 24
ASIDE_SUGGESTIONS = 5  # the home feed's side column
EMPTY_FEED_SUGGESTIONS = 10  # the empty home feed
ALL_SUGGESTIONS = 30  # /explore/people
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH)]
# Longer queries are cut to the service's maximum rather than refused (a pasted paragraph
# still searches); a query string past this is a 400 page.
SearchText = Annotated[str, Query(max_length=2000)]
TagPath = Annotated[str, Path(max_length=300)]


@dataclass(frozen=True, slots=True)
class Person:
    """Someone in a people list, and what the viewer's follow button should say."""

    user: UserSummary
    is_private: bool
    relationship: Relationship | None
    reason: str = ""  # suggestions: why this account


@dataclass(frozen=True, slots=True)
class Results:
    """One page of one tab of a search."""

    people: list[Person]
    tags: list[HashtagSummary]
    posts: list[PostOut]
    next_cursor: str | None


def _query_text(q: str) -> str:
    return q.strip()[: discovery_service.MAX_QUERY_LENGTH]


async def _people(
    page: PageCtx, users: list[User], reasons: list[str] | None = None
) -> list[Person]:
    """People rows with the viewer's relationship to each (for their follow buttons)."""
    relations: dict[int, Relationship] = {}
    if page.user is not None and users:
        relations = await social_service.relationships(
            page.session, viewer_id=page.user.id, other_ids=[user.id for user in users]
        )
    return [
        Person(
            user=UserSummary.of(user, urls=page.urls),
            is_private=user.is_private,
            relationship=relations.get(user.id),
            reason=reasons[index] if reasons else "",
        )
        for index, user in enumerate(users)
    ]


async def _search(page: PageCtx, text: str, tab: Tab, cursor: str | None) -> Results:
    """A page of one tab's list, as GET /api/v1/search?type= finds it."""
    query = discovery_service.Query.parse(text)
    viewer = page.user
    viewer_id = viewer.id if viewer is not None else None
    limit = PAGE_SIZES[tab]
    if tab == "people":
        found = await discovery_service.find_people(
            page.session,
            cache=page.runtime.cache,
            query=query,
            viewer_id=viewer_id,
            cursor=cursor,
            limit=limit,
        )
        return Results(await _people(page, list(found.rows)), [], [], found.next_cursor)
    if tab == "tags":
        found = await discovery_service.find_hashtags(
            page.session, query=query, cursor=cursor, limit=limit
        )
        tags = [HashtagSummary(name=tag, post_count=count) for tag, count in found.rows]
        return Results([], tags, [], found.next_cursor)
    found = await discovery_service.find_posts(
        page.session, query=query, viewer_id=viewer_id, cursor=cursor, limit=limit
    )
    posts = await discovery_service.posts_in_order(
        page.session, cache=page.runtime.cache, urls=page.urls, ids=found.rows, viewer=viewer
    )
    return Results([], [], posts, found.next_cursor)


def _search_urls(text: str, tab: Tab, cursor: str | None) -> tuple[str | None, str | None]:
    """(fragment URL, full-page URL) of the tab's next page, or (None, None) at its end."""
    if cursor is None:
        return None, None
    query = urlencode({"q": text, "tab": tab, "cursor": cursor})
    return f"/search/page?{query}", f"/search?{query}"


def _results_context(text: str, tab: Tab, results: Results) -> dict[str, Any]:
    fragment_url, page_url = _search_urls(text, tab, results.next_cursor)
    return {
        "q": text,
        "tab": tab,
        "people": results.people,
        "tags": results.tags,
        "posts": results.posts,
        "fragment_url": fragment_url,
        "page_url": page_url,
    }


@router.get("/search")
async def search(
    page: PageDep, q: SearchText = "", tab: Tab = "people", cursor: Cursor = None
) -> Response:
    """Search results: people, hashtags or posts (one tab at a time), paging as you scroll."""
    text = _query_text(q)
    results = await _search(page, text, tab, cursor)
    context = _results_context(text, tab, results)
    context["too_short"] = discovery_service.Query.parse(text).empty
    context["tab_urls"] = {
        name: "/search?" + urlencode({"q": text, "tab": name}) for name in PAGE_SIZES
    }
    return await page.render("search.html", context)


@router.get("/search/page")
async def search_fragment(
    page: PageDep, q: SearchText = "", tab: Tab = "people", cursor: Cursor = None
) -> Response:
    """More results of one tab (infinite scroll)."""
    text = _query_text(q)
    results = await _search(page, text, tab, cursor)
    return page.fragment("search_page.html", _results_context(text, tab, results))


# --- hashtag pages --------------------------------------------------------------------------


def _tag_url(tag: str) -> str:
    return "/explore/tags/" + quote(tag, safe="")


async def _tag_posts(
    page: PageCtx, tag: str, sort: HashtagSort, cursor: str | None
) -> tuple[list[PostOut], str | None, str | None]:
    """A page of the hashtag's posts the viewer may see, and the next page's two URLs."""
    viewer = page.user
    ids, next_cursor = await hashtags.posts_page(
        page.session,
        cache=page.runtime.cache,
        name=tag,
        sort=sort,
        viewer_id=viewer.id if viewer is not None else None,
        cursor=cursor,
        limit=HASHTAG_PAGE,
    )
    posts = await discovery_service.posts_in_order(
        page.session, cache=page.runtime.cache, urls=page.urls, ids=ids, viewer=viewer
    )
    if next_cursor is None:
        return posts, None, None
    query = urlencode({"sort": sort, "cursor": next_cursor})
    base = _tag_url(tag)
    return posts, f"{base}/page?{query}", f"{base}?{query}"


@router.get("/explore/tags/{tag}")
async def hashtag(
    page: PageDep, tag: TagPath, sort: HashtagSort = "recent", cursor: Cursor = None
) -> Response:
    """A hashtag: how many posts carry it, a follow button, and its posts (recent or top)."""
    info = await hashtags.get_hashtag(
        page.session, name=tag, viewer_id=page.user.id if page.user else None
    )
    posts, fragment_url, page_url = await _tag_posts(page, info.tag, sort, cursor)
    base = _tag_url(info.tag)
    context = {
        "tag": info.tag,
        "post_count": info.post_count,
        "following": info.following,
        "sort": sort,
        "sort_urls": {"recent": base, "top": f"{base}?sort=top"},
        "posts": posts,
        "fragment_url": fragment_url,
        "page_url": page_url,
        "login_url": "/login?next=" + quote(base, safe="/"),
    }
    return await page.render("hashtag.html", context)


@router.get("/explore/tags/{tag}/page")
async def hashtag_fragment(
    page: PageDep, tag: TagPath, sort: HashtagSort = "recent", cursor: Cursor = None
) -> Response:
    """More tiles of a hashtag's grid (infinite scroll)."""
    info = await hashtags.get_hashtag(page.session, name=tag, viewer_id=None)
    posts, fragment_url, page_url = await _tag_posts(page, info.tag, sort, cursor)
    return page.fragment(
        "grid_page.html", {"posts": posts, "fragment_url": fragment_url, "page_url": page_url}
    )


# --- suggestions ----------------------------------------------------------------------------


async def suggested_people(page: PageCtx, *, limit: int) -> list[Person]:
    """Accounts to suggest to the (signed-in) viewer, with the reason for each."""
    found = await suggestions_service.suggest_users(
        page.session, cache=page.runtime.cache, viewer_id=page.me.id, limit=limit
    )
    return await _people(
        page, [item.user for item in found], reasons=[item.reason for item in found]
    )


@router.get("/explore/people")
async def people(page: MemberPageDep) -> Response:
    """Every suggestion at once ("See all" of the side column)."""
    found = await suggested_people(page, limit=ALL_SUGGESTIONS)
    return await page.render("suggestions.html", {"suggestions": found})


@router.get("/explore/people/aside")
async def people_aside(page: MemberPageDep) -> Response:
    """The home feed's side column (wide screens fetch it after the page is shown)."""
    found = await suggested_people(page, limit=ASIDE_SUGGESTIONS)
    return page.fragment("suggestions_aside.html", {"suggestions": found})
