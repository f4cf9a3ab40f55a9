"""HTTP routes of discovery: search, hashtag pages, following hashtags."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from glint.discovery import hashtags
from glint.discovery import service as discovery_service
from glint.discovery.schemas import HashtagOut, HashtagSort, SearchOut, SearchType
from glint.discovery.service import MAX_QUERY_LENGTH
from glint.http.deps import (
    CurrentUser,
    MediaUrlsDep,
    PageParamsDep,
    RuntimeDep,
    SessionDep,
    ViewerDep,
)
from glint.paging import Page
from glint.posts.schemas import PostOut

router = APIRouter(tags=["discovery"])

TagName = Annotated[str, Path(max_length=101, description="The hashtag, without '#'.")]


@router.get("/search")
async def search(
    viewer: ViewerDep,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
    params: PageParamsDep,
    q: Annotated[str, Query(max_length=MAX_QUERY_LENGTH, description="What to look for.")] = "",
    type: Annotated[
        list[SearchType] | None,
        Query(description="The lists to search (repeatable); all three when absent."),
    ] = None,
) -> SearchOut:
    """People by name prefix, hashtags by prefix, posts by caption words."""
    return await discovery_service.search_all(
        session,
        cache=runtime.cache,
        urls=urls,
        text=q,
        kinds=type or (),
        viewer=viewer.user if viewer else None,
        cursor=params.cursor,
        limit=params.limit,
    )


@router.get("/hashtags/{name}")
async def hashtag(name: TagName, viewer: ViewerDep, session: SessionDep) -> HashtagOut:
    """A hashtag: how many posts carry it, and whether you follow it."""
    info = await hashtags.get_hashtag(
        session, name=name, viewer_id=viewer.user.id if viewer else None
    )
    return HashtagOut(name=info.tag, post_count=info.post_count, following=info.following)


@router.get("/hashtags/{name}/posts")
async def hashtag_posts(
    name: TagName,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
    params: PageParamsDep,
    sort: HashtagSort = "recent",
) -> Page[PostOut]:
    """Posts carrying the hashtag that you may see: newest first, or the most engaging."""
    user = viewer.user if viewer else None
    ids, cursor = await hashtags.posts_page(
        session,
        cache=runtime.cache,
        name=name,
        sort=sort,
        viewer_id=user.id if user else None,
        cursor=params.cursor,
        limit=params.limit,
    )
    posts = await discovery_service.posts_in_order(
        session, cache=runtime.cache, urls=urls, ids=ids, viewer=user
    )
    return Page[PostOut](items=posts, next_cursor=cursor)


@router.post("/hashtags/{name}/follow", status_code=status.HTTP_204_NO_CONTENT)
async def follow_hashtag(
    name: TagName, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> None:
    """Follow a hashtag: its posts join your home feed."""
    await hashtags.follow(session, ids=runtime.ids, viewer=user, name=name)
    await runtime.commit(session)


@router.delete("/hashtags/{name}/follow", status_code=status.HTTP_204_NO_CONTENT)
async def unfollow_hashtag(
    name: TagName, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> None:
    """Stop following a hashtag."""
    await hashtags.unfollow(session, viewer=user, name=name)
    await runtime.commit(session)
