"""HTTP routes of the social graph: follow, requests, followers lists, block, mute.

Each route parses, calls one social service function and commits; what follows from a change
(timelines, notifications) is the service's events, handled where glint.wiring says.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel

from glint.accounts import service as accounts_service
from glint.accounts.models import User
from glint.accounts.schemas import UserSummary
from glint.errors import Forbidden
from glint.http.deps import (
    CurrentUser,
    MediaUrlsDep,
    PageParamsDep,
    RuntimeDep,
    SessionDep,
    ViewerDep,
    rate_limit,
)
from glint.paging import Page, page_by_id
from glint.social import queries as social_queries
from glint.social import service as social_service

router = APIRouter(tags=["social"])


class FollowOut(BaseModel):
    """POST /users/{username}/follow."""

    status: Literal["following", "requested"]


GraphAction = Callable[..., Awaitable[object]]


async def _apply(
    runtime: RuntimeDep, session: SessionDep, user: User, username: str, action: GraphAction
) -> None:
    """Run one block/mute action on the named account and commit it."""
    target = await accounts_service.get_by_username(session, username=username)
    await action(session, ids=runtime.ids, viewer=user, target=target)
    await runtime.commit(session)


async def _target(session: SessionDep, viewer: User | None, username: str) -> User:
    user = await accounts_service.get_by_username(session, username=username)
    await social_service.ensure_visible_profile(session, viewer=viewer, user=user)
    return user


@router.post("/users/{username}/follow", dependencies=[Depends(rate_limit("follows"))])
async def follow(
    username: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> FollowOut:
    """Follow an account, or ask to follow a private one (idempotent)."""
    target = await _target(session, user, username)
    state, _ = await social_service.follow(session, ids=runtime.ids, viewer=user, target=target)
    await runtime.commit(session)
    return FollowOut(status=state)


@router.delete("/users/{username}/follow", status_code=status.HTTP_204_NO_CONTENT)
async def unfollow(
    username: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> None:
    """Stop following, or withdraw a request (idempotent)."""
    await _apply(runtime, session, user, username, social_service.unfollow)


async def _user_list(
    *,
    session: SessionDep,
    urls: MediaUrlsDep,
    viewer: User | None,
    username: str,
    page: PageParamsDep,
    direction: Literal["followers", "following"],
) -> Page[UserSummary]:
    owner = await _target(session, viewer, username)
    if not await social_service.can_view(session, viewer=viewer, author=owner):
        raise Forbidden("This account is private.", code="account_private")
    rows = await social_queries.follow_list(
        session,
        user_id=owner.id,
        direction=direction,
        viewer_id=viewer.id if viewer else None,
        before_id=page.before_id(),
        limit=page.limit,
    )
    items, cursor = page_by_id(rows, limit=page.limit, key=lambda row: row[0])
    return Page[UserSummary](
        items=[UserSummary.of(user, urls=urls) for _, user in items],
        next_cursor=cursor,
    )


@router.get("/users/{username}/followers")
async def followers(
    username: str, page: PageParamsDep, viewer: ViewerDep, urls: MediaUrlsDep, session: SessionDep
) -> Page[UserSummary]:
    """Who follows a user, most recent first."""
    return await _user_list(
        session=session,
        urls=urls,
        viewer=viewer.user if viewer else None,
        username=username,
        page=page,
        direction="followers",
    )


@router.get("/users/{username}/following")
async def following(
    username: str, page: PageParamsDep, viewer: ViewerDep, urls: MediaUrlsDep, session: SessionDep
) -> Page[UserSummary]:
    """Whom a user follows, most recent first."""
    return await _user_list(
        session=session,
        urls=urls,
        viewer=viewer.user if viewer else None,
        username=username,
        page=page,
        direction="following",
    )


@router.get("/follow-requests")
async def follow_requests(
    page: PageParamsDep, user: CurrentUser, urls: MediaUrlsDep, session: SessionDep
) -> Page[UserSummary]:
    """Incoming follow requests, most recent first."""
    rows = await social_queries.incoming_requests(
        session, user_id=user.id, before_id=page.before_id(), limit=page.limit
    )
    items, cursor = page_by_id(rows, limit=page.limit, key=lambda row: row[0])
    return Page[UserSummary](
        items=[UserSummary.of(u, urls=urls) for _, u in items], next_cursor=cursor
    )


@router.post("/follow-requests/{username}/approve", status_code=status.HTTP_204_NO_CONTENT)
async def approve(
    username: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> None:
    """Let a requester follow you."""
    requester = await accounts_service.get_by_username(session, username=username)
    await social_service.approve_request(session, ids=runtime.ids, viewer=user, requester=requester)
    await runtime.commit(session)


@router.post("/follow-requests/{username}/reject", status_code=status.HTTP_204_NO_CONTENT)
async def reject(
    username: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> None:
    """Turn a follow request down."""
    requester = await accounts_service.get_by_username(session, username=username)
    await social_service.reject_request(session, viewer=user, requester=requester)
    await runtime.commit(session)


@router.delete("/users/{username}/follower", status_code=status.HTTP_204_NO_CONTENT)
async def remove_follower(
    username: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> None:
    """Make someone stop following you."""
    follower = await accounts_service.get_by_username(session, username=username)
    await social_service.remove_follower(session, ids=runtime.ids, viewer=user, follower=follower)
    await runtime.commit(session)


@router.post("/users/{username}/block", status_code=status.HTTP_204_NO_CONTENT)
async def block(username: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep) -> None:
    """Block an account: follows both ways end; they see nothing of you."""
    await _apply(runtime, session, user, username, social_service.block)


@router.delete("/users/{username}/block", status_code=status.HTTP_204_NO_CONTENT)
async def unblock(
    username: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> None:
    """Lift a block."""
    target = await accounts_service.get_by_username(session, username=username)
    await social_service.unblock(session, viewer=user, target=target)
    await runtime.commit(session)


@router.post("/users/{username}/mute", status_code=status.HTTP_204_NO_CONTENT)
async def mute(username: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep) -> None:
    """Hide an account from your feeds and story tray."""
    await _apply(runtime, session, user, username, social_service.mute)


@router.delete("/users/{username}/mute", status_code=status.HTTP_204_NO_CONTENT)
async def unmute(
    username: str, user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> None:
    """Show a muted account again."""
    await _apply(runtime, session, user, username, social_service.unmute)
