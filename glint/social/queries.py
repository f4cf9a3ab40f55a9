"""Read-side queries of the social graph: follower, following and request lists."""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from glint.accounts.models import User, active_accounts
from glint.social.models import Block, Follow, FollowRequest


def not_blocked_with(
    viewer_id: int | None, column: sa.ColumnElement[int] | InstrumentedAttribute[int]
) -> sa.ColumnElement[bool]:
    """SQL: no block either way between the viewer and the user in `column`."""
    if viewer_id is None:
        return sa.true()
    return ~sa.exists().where(
        sa.or_(
            sa.and_(Block.blocker_id == viewer_id, Block.blocked_id == column),
            sa.and_(Block.blocker_id == column, Block.blocked_id == viewer_id),
        )
    )


async def follow_list(
    session: AsyncSession,
    *,
    user_id: int,
    direction: Literal["followers", "following"],
    viewer_id: int | None,
    before_id: int | None,
    limit: int,
) -> list[tuple[int, User]]:
    """(edge id, user) rows of a followers or following list, newest edge first, limit+1."""
    if direction == "followers":
        anchor, other = Follow.followee_id, Follow.follower_id
    else:
        anchor, other = Follow.follower_id, Follow.followee_id
    query = (
        sa.select(Follow.id, User)
        .join(User, User.id == other)
        .where(
            anchor == user_id,
            active_accounts(),
            not_blocked_with(viewer_id, other),
        )
    )
    if before_id is not None:
        query = query.where(Follow.id < before_id)
    rows = await session.execute(query.order_by(Follow.id.desc()).limit(limit + 1))
    return [(edge_id, user) for edge_id, user in rows]


async def incoming_requests(
    session: AsyncSession, *, user_id: int, before_id: int | None, limit: int
) -> list[tuple[int, User]]:
    """(request id, requester) rows of pending requests to a user, newest first, limit+1."""
    query = (
        sa.select(FollowRequest.id, User)
        .join(User, User.id == FollowRequest.requester_id)
        .where(FollowRequest.target_id == user_id, active_accounts())
    )
    if before_id is not None:
        query = query.where(FollowRequest.id < before_id)
    rows = await session.execute(query.order_by(FollowRequest.id.desc()).limit(limit + 1))
    return [(request_id, user) for request_id, user in rows]


def posts_visible_to(viewer_id: int | None) -> sa.ColumnElement[bool]:
    """SQL, with the author joined as `User`: the viewer may see this account's posts (active,
    no block either way, and public, followed or the viewer's own)."""
    if viewer_id is None:
        return sa.and_(active_accounts(), User.is_private.is_(False))
    followed = sa.exists().where(Follow.follower_id == viewer_id, Follow.followee_id == User.id)
    return sa.and_(
        active_accounts(),
        not_blocked_with(viewer_id, User.id),
        sa.or_(User.id == viewer_id, User.is_private.is_(False), followed),
    )
