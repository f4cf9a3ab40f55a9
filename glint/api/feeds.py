"""HTTP routes of feeds: the home feed, the ranked feed and explore."""

from __future__ import annotations

from fastapi import APIRouter, Response

from glint.feeds import service as feeds_service
from glint.feeds.schemas import FeedPage
from glint.http import responses
from glint.http.deps import (
    CurrentUser,
    MediaUrlsDep,
    PageParamsDep,
    RuntimeDep,
    SessionDep,
    SignedInSession,
)

router = APIRouter(tags=["feeds"])


@router.get("/feed", response_model=FeedPage)
async def home_feed(
    signed: SignedInSession,
    runtime: RuntimeDep,
    urls: MediaUrlsDep,
    session: SessionDep,
    params: PageParamsDep,
) -> Response:
    """Posts of the accounts you follow and your own, newest first."""
    page = await feeds_service.home_feed_docs(
        session, runtime=runtime, urls=urls, viewer_id=signed.user_id, params=params
    )
    return responses.ready_json({"items": page.items, "next_cursor": page.next_cursor})


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
