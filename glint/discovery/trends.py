"""Trending hashtags: distinct posters in the last 24 hours against each hashtag's usual rate.

Kept by events (each published post records its authors' uses as it is indexed), read from
small tables of recent activity: no request or job ever scans the posts.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.discovery.models import HashtagDay, HashtagPoster
from glint.infra import db as db_mod

HOURS_PER_DAY = 24


async def record_uses(
    session: AsyncSession, *, tags: Sequence[str], author_id: int, hour: int
) -> None:
    """An account posted with these hashtags in this hour (hours since the epoch)."""
    if not tags:
        return
    previous = dict(
        (
            await session.execute(
                sa.select(HashtagPoster.tag, HashtagPoster.last_hour).where(
                    HashtagPoster.author_id == author_id, HashtagPoster.tag.in_(tags)
                )
            )
        ).all()
    )
    day = hour // HOURS_PER_DAY
    for tag in tags:
        last = previous.get(tag)
        if last is None:
            await db_mod.insert_ignore(
                session, HashtagPoster, {"tag": tag, "author_id": author_id, "last_hour": hour}
            )
        elif last < hour:
            await session.execute(
                sa.update(HashtagPoster)
                .where(HashtagPoster.tag == tag, HashtagPoster.author_id == author_id)
                .values(last_hour=hour)
            )
        if last is None or last // HOURS_PER_DAY < day:
            # A poster new to this hashtag today: the day's distinct posters grow by one.
            await db_mod.insert_ignore(session, HashtagDay, {"tag": tag, "day": day, "posters": 0})
            await session.execute(
                sa.update(HashtagDay)
                .where(HashtagDay.tag == tag, HashtagDay.day == day)
                .values(posters=HashtagDay.posters + 1)
            )
