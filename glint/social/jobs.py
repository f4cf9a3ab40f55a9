"""Periodic work of the social graph: follower and following counts recounted from the edges."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from glint.accounts.models import User
from glint.social import forgetting

if TYPE_CHECKING:
    from glint.infra.runtime import Runtime


async def reconcile_follow_counts(runtime: Runtime) -> int:
    """Set every user's follower/following counts to the number of edges; rows fixed."""
    followers, following = forgetting.counted_followers(), forgetting.counted_following()
    async with runtime.db.session() as session:
        result = await session.execute(
            sa.update(User)
            .where(sa.or_(User.follower_count != followers, User.following_count != following))
            .values(follower_count=followers, following_count=following)
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
