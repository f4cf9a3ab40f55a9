"""An account that is going away leaves the graph: its follows both ways (the counters of
everyone on the other end recounted from the edges), requests, blocks and mutes.

Works one batch of follows at a time and says whether more may remain, so the purge can
commit between batches and a second run after a crash simply finds less to do.
"""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User
from glint.infra.events import bus
from glint.infra.ids import IdGenerator
from glint.social import events
from glint.social.models import Block, Follow, FollowRequest, Mute


def counted_followers() -> sa.ScalarSelect[int]:
    """SQL: an account's followers counted from the edges (what follower_count must say)."""
    return sa.select(sa.func.count()).where(Follow.followee_id == User.id).scalar_subquery()


def counted_following() -> sa.ScalarSelect[int]:
    """SQL: the accounts one follows, counted from the edges."""
    return sa.select(sa.func.count()).where(Follow.follower_id == User.id).scalar_subquery()


async def recount_follows(session: AsyncSession, *, user_ids: Collection[int]) -> None:
    """Set these accounts' follower and following counts from the edges."""
    if user_ids:
        await session.execute(
            sa.update(User)
            .where(User.id.in_(set(user_ids)))
            .values(follower_count=counted_followers(), following_count=counted_following())
            .execution_options(synchronize_session=False)
        )


async def leave_graph(session: AsyncSession, *, ids: IdGenerator, user_id: int, limit: int) -> bool:
    """Remove a batch of the account's follows (both ways; timelines and notifications follow
    by FollowRemoved) and all its requests, blocks and mutes; True when more may remain."""
    edges = (
        await session.execute(
            sa.select(Follow.follower_id, Follow.followee_id)
            .where(sa.or_(Follow.follower_id == user_id, Follow.followee_id == user_id))
            .limit(limit)
        )
    ).all()
    others = {followee if follower == user_id else follower for follower, followee in edges}
    for follower, followee in edges:
        await session.execute(
            sa.delete(Follow).where(Follow.follower_id == follower, Follow.followee_id == followee)
        )
        ended = events.FollowRemoved(follower, followee, by_follower=follower == user_id)
        await bus.emit(session, ids=ids, event=ended)
    await recount_follows(session, user_ids=others)
    for table, one, other in (
        (FollowRequest, FollowRequest.requester_id, FollowRequest.target_id),
        (Block, Block.blocker_id, Block.blocked_id),
        (Mute, Mute.muter_id, Mute.muted_id),
    ):
        await session.execute(sa.delete(table).where(sa.or_(one == user_id, other == user_id)))
    await session.flush()
    return len(edges) == limit
