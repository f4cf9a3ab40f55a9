"""HTTP routes of feeds: the home feed, the ranked feed and explore."""

from __future__ import annotations

from fastapi import APIRouter

from glint.feeds import service as feeds_service
from glint.feeds.schemas import FeedPage
from glint.http.deps import CurrentUser, MediaUrlsDep, PageParamsDep, RuntimeDep, SessionDep

router = APIRouter(tags=["feeds"])


@router.get("/feed")
async def home_feed(
    user: CurrentUser,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
    params: PageParamsDep,
) -> FeedPage:
    """Posts of the accounts you follow and your own, newest first."""
    return await feeds_service.home_feed(
        session, runtime=runtime, urls=urls, viewer=user, params=params
    )


@router.get("/feed/ranked")
async def ranked_feed(
    user: CurrentUser,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
    params: PageParamsDep,
) -> FeedPage:
    """The same candidates from the last days, best first (the order holds while you page)."""
    return await feeds_service.ranked_feed(
        session, runtime=runtime, urls=urls, viewer=user, params=params
    )


@router.get("/explore")
async def explore(
    user: CurrentUser,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
    params: PageParamsDep,
) -> FeedPage:
    """Popular public posts of accounts you do not follow."""
    return await feeds_service.explore(
        session, runtime=runtime, urls=urls, viewer=user, params=params
    )
