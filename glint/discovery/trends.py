"""Trending hashtags: distinct posters in the last 24 hours against each hashtag's usual rate.

Kept by events (each published post records its authors' uses as it is indexed), read from
small tables of recent activity: no request or job ever scans the posts. The list is computed
at most once a minute for everyone (the cache), and old rows are pruned hourly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User, active_accounts
from glint.discovery.models import HashtagDay, HashtagPost, HashtagPoster
from glint.discovery.schemas import TrendingHashtag, TrendsOut
from glint.infra import cache as cache_mod
from glint.infra import db as db_mod
from glint.infra import ids as ids_mod
from glint.infra.cache import Cache
from glint.infra.runtime import Runtime

HOURS_PER_DAY = 24
SECONDS_PER_HOUR = 3600
MIN_POSTERS = 2  # one account using a hashtag over and over never makes it trend
USUAL_DAYS = 7  # the usual rate: mean distinct posters a day over the days before today
SMOOTHING = 1.0  # added to the usual rate: a brand-new hashtag scores its posters, not ∞
KEEP_DAYS = 8  # posters and days older than this are pruned (the usual rate needs 7)
MAX_TRENDS = 50
CACHE_KEY = "discovery:trends:hashtags:v1"
CACHE_SECONDS = 60.0


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


@dataclass(frozen=True, slots=True)
class _Window:
    """The hours and days a trend is read over, as of one moment."""

    hour: int  # hours since the epoch, now
    day: int  # days since the epoch, today (UTC)
    first_post_id: int  # the smallest post ID of the last 24 hours

    @classmethod
    def at(cls, now: dt.datetime) -> _Window:
        hour = int(now.timestamp()) // SECONDS_PER_HOUR
        return cls(hour, hour // HOURS_PER_DAY, ids_mod.min_id_at(now - dt.timedelta(days=1)))


async def trending(session: AsyncSession, *, now: dt.datetime, limit: int) -> list[TrendingHashtag]:
    """Hashtags whose distinct active posters of the last 24 h most exceed their usual rate."""
    window = _Window.at(now)
    ranked = await _rank(session, window=window, limit=2 * limit)
    counts = await _recent_post_counts(session, window=window, tags=[tag for tag, _ in ranked])
    # A hashtag whose recent posts are all gone (deleted, or their authors banned) stays out.
    found = [
        TrendingHashtag(name=tag, post_count_24h=counts[tag], posters_24h=posters)
        for tag, posters in ranked
        if counts.get(tag)
    ]
    return found[:limit]


async def _rank(session: AsyncSession, *, window: _Window, limit: int) -> list[tuple[str, int]]:
    """(hashtag, distinct active posters in the last 24 h), by posters against the usual
    daily posters of the previous USUAL_DAYS days; reads only rows of recent activity."""
    recent = (
        sa.select(HashtagPoster.tag, sa.func.count().label("posters"))
        .join(User, User.id == HashtagPoster.author_id)
        .where(HashtagPoster.last_hour > window.hour - HOURS_PER_DAY, active_accounts())
        .group_by(HashtagPoster.tag)
        .having(sa.func.count() >= MIN_POSTERS)
        .cte("recent")
    )
    history = (
        sa.select(HashtagDay.tag, sa.func.sum(HashtagDay.posters).label("total"))
        .where(
            HashtagDay.day >= window.day - USUAL_DAYS,
            HashtagDay.day < window.day,
            HashtagDay.tag.in_(sa.select(recent.c.tag)),
        )
        .group_by(HashtagDay.tag)
        .subquery("history")
    )
    usual = sa.cast(sa.func.coalesce(history.c.total, 0), sa.Float) / USUAL_DAYS
    score = sa.cast(recent.c.posters, sa.Float) / (usual + SMOOTHING)
    rows = await session.execute(
        sa.select(recent.c.tag, recent.c.posters)
        .outerjoin(history, history.c.tag == recent.c.tag)
        .order_by(score.desc(), recent.c.posters.desc(), recent.c.tag)
        .limit(limit)
    )
    return [(tag, int(posters)) for tag, posters in rows]


async def _recent_post_counts(
    session: AsyncSession, *, window: _Window, tags: Sequence[str]
) -> dict[str, int]:
    """Posts of active accounts in the last 24 hours carrying each hashtag (an ID range)."""
    if not tags:
        return {}
    rows = await session.execute(
        sa.select(HashtagPost.tag, sa.func.count())
        .join(User, User.id == HashtagPost.author_id)
        .where(
            HashtagPost.tag.in_(tags),
            HashtagPost.post_id >= window.first_post_id,
            active_accounts(),
        )
        .group_by(HashtagPost.tag)
    )
    return {tag: int(count) for tag, count in rows}


async def current_trends(
    session: AsyncSession, *, cache: Cache, now: dt.datetime, limit: int
) -> TrendsOut:
    """The trending hashtags, computed at most once a CACHE_SECONDS for every reader."""
    items = await _cached(cache, now=now)
    if items is None:
        items = await trending(session, now=now, limit=MAX_TRENDS)
        value = {"at": now.timestamp(), "items": [item.model_dump() for item in items]}
        await cache_mod.store_json(cache, CACHE_KEY, value, ttl=CACHE_SECONDS)  # down: recompute
    return TrendsOut(items=items[:limit])


async def _cached(cache: Cache, *, now: dt.datetime) -> list[TrendingHashtag] | None:
    """The list computed less than CACHE_SECONDS ago by the runtime's clock, if any."""
    value = await cache_mod.load_json(cache, CACHE_KEY)
    if value is None:
        return None
    try:
        age = now.timestamp() - float(value["at"])
        items = [TrendingHashtag.model_validate(item) for item in value["items"]]
    except (KeyError, TypeError, ValueError):
        return None  # not what this version writes: compute afresh
    # The age by the clock decides, not only the TTL: tests move the clock, and instances'
    # clocks differ a little (either way).
    return items if abs(age) < CACHE_SECONDS else None


async def forget_old(session: AsyncSession, *, now: dt.datetime) -> None:
    """Delete the posters and days older than KEEP_DAYS (trends read only the last week)."""
    window = _Window.at(now)
    await session.execute(
        sa.delete(HashtagPoster).where(
            HashtagPoster.last_hour < window.hour - KEEP_DAYS * HOURS_PER_DAY
        )
    )
    await session.execute(sa.delete(HashtagDay).where(HashtagDay.day < window.day - KEEP_DAYS))


async def forget_poster(session: AsyncSession, *, author_id: int) -> None:
    """An account going away: the trend rows of its hashtag uses are forgotten (its posts'
    own hashtag rows are counted out by their deletion's job)."""
    await session.execute(sa.delete(HashtagPoster).where(HashtagPoster.author_id == author_id))


async def prune(runtime: Runtime) -> None:
    """Periodic: forget trend rows too old to matter."""
    async with runtime.db.session() as session:
        await forget_old(session, now=runtime.clock.now())
        await session.commit()
