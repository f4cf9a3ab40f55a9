"""Home timelines: per user, the newest post IDs pushed to them. SQL embedded, Redis at scale.

A timeline is a cache of fan-out, never the source of truth: the feed is always rebuildable from
follows and posts. So each timeline is *fresh* only for a while after it was built or read; a
user who comes back after that has it rebuilt from the database before the first read.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from typing import Protocol

import redis.asyncio as aioredis
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from glint.infra import redis_client
from glint.infra.breaker import CircuitBreaker
from glint.infra.db import Base, Database, UTCDateTime, utcnow

DEFAULT_CAP = 800
# Each process re-reads the generation this often: a bump reaches every reader within it.
GENERATION_REFRESH_SECONDS = 2.0


class TimelineUnavailable(Exception):
    """The timeline store did not answer (or its breaker is open); read from the database."""


class TimelineStore(Protocol):
    """Capped, newest-first sets of post IDs, one per user."""

    cap: int

    async def read(
        self, user_id: int, *, before_id: int | None, limit: int, generation: int
    ) -> list[int] | None:
        """Up to `limit` IDs below before_id, newest first; None when not fresh (rebuild it).

        A timeline built under another generation is not fresh: bumping the generation
        invalidates every timeline at once (after writes were lost to an outage).
        """
        ...

    async def rebuild(self, user_id: int, post_ids: Sequence[int], *, generation: int) -> None:
        """Replace the timeline with these IDs (capped) and mark it fresh for this generation."""
        ...

    async def push(self, post_id: int, user_ids: Sequence[int]) -> None:
        """Add one post to many timelines (fan-out), trimming each to the cap."""
        ...

    async def add(self, user_id: int, post_ids: Sequence[int]) -> None:
        """Merge posts into one timeline (a new follow)."""
        ...

    async def remove(self, user_id: int, post_ids: Sequence[int]) -> None:
        """Take posts out of one timeline (unfollow, block, mute)."""
        ...

    async def retract(self, post_id: int, user_ids: Sequence[int]) -> None:
        """Take one post out of many timelines (a deleted post)."""
        ...

    async def forget(self, user_id: int) -> None:
        """Drop the timeline (entries too): the next read rebuilds it."""
        ...

    async def trim(self) -> int:
        """Cut every timeline to the cap; entries removed (Redis trims on every push)."""
        ...


class FeedGeneration(Base):
    """One row: the generation every fresh timeline must carry.

    Bumped when a timeline write was lost (the timeline store was down), which makes every
    stored timeline stale at once; each is rebuilt from the database at its owner's next read.
    It lives in the database, not the store, because it must outlive the store's outage.
    """

    __tablename__ = "feed_generation"

    id: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    bumped_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Generations:
    """This process's view of the timeline generation (read at most every 2 s)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._known: tuple[int, float] | None = None

    async def current(self) -> int:
        """The generation fresh timelines carry now."""
        now = time.monotonic()
        if self._known is not None and now - self._known[1] < GENERATION_REFRESH_SECONDS:
            return self._known[0]
        async with self._db.session() as session:
            value = await session.scalar(
                sa.select(FeedGeneration.generation).where(FeedGeneration.id == 1)
            )
        self._known = (int(value or 0), now)
        return self._known[0]

    async def bump(self) -> None:
        """Make every stored timeline stale (a timeline write was lost)."""
        async with self._db.session() as session:
            updated = await session.execute(
                sa.update(FeedGeneration)
                .where(FeedGeneration.id == 1)
                .values(generation=FeedGeneration.generation + 1, bumped_at=utcnow())
            )
            if not getattr(updated, "rowcount", 0):
                session.add(FeedGeneration(id=1, generation=1, bumped_at=utcnow()))
            await session.commit()
        self._known = None


class TimelineState(Base):
    """Embedded: when each user's timeline stops being fresh."""

    __tablename__ = "timelines"

    user_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    fresh_until: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    generation: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class TimelineEntry(Base):
    """Embedded: one post in one user's timeline."""

    __tablename__ = "timeline_entries"

    user_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    post_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)

    # A deleted post leaves every timeline by this index.
    __table_args__ = (sa.Index("ix_timeline_entries_post_id", "post_id"),)


class SqlTimelineStore:
    """Embedded: two tables in the application database."""

    def __init__(self, db: Database, *, fresh_for: dt.timedelta, cap: int = DEFAULT_CAP) -> None:
        self._db = db
        self._fresh_for = fresh_for
        self.cap = cap

    async def _insert(self, session: AsyncSession, rows: list[dict[str, int]]) -> None:
        # executemany with one small statement: compiling a many-row VALUES clause costs more
        # than the insert itself.
        statement: sa.Executable
        if self._db.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            statement = sqlite_insert(TimelineEntry).on_conflict_do_nothing()
        else:
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            statement = pg_insert(TimelineEntry).on_conflict_do_nothing()
        await session.execute(statement, rows)

    async def read(
        self, user_id: int, *, before_id: int | None, limit: int, generation: int
    ) -> list[int] | None:
        """IDs of a fresh timeline; freshness is extended at most daily (reads stay reads)."""
        now = utcnow()
        async with self._db.session() as session:
            state = (
                await session.execute(
                    sa.select(TimelineState.fresh_until, TimelineState.generation).where(
                        TimelineState.user_id == user_id
                    )
                )
            ).first()
            if state is None or state.fresh_until <= now or state.generation != generation:
                return None
            fresh_until = state.fresh_until
            query = sa.select(TimelineEntry.post_id).where(TimelineEntry.user_id == user_id)
            if before_id is not None:
                query = query.where(TimelineEntry.post_id < before_id)
            ids = list(
                await session.scalars(query.order_by(TimelineEntry.post_id.desc()).limit(limit))
            )
            if fresh_until - now < self._fresh_for - dt.timedelta(days=1):
                await session.execute(
                    sa.update(TimelineState)
                    .where(TimelineState.user_id == user_id)
                    .values(fresh_until=now + self._fresh_for)
                )
                await session.commit()
            return ids

    async def rebuild(self, user_id: int, post_ids: Sequence[int], *, generation: int) -> None:
        """Replace the entries and mark fresh, in one transaction."""
        keep = sorted(set(post_ids), reverse=True)[: self.cap]
        async with self._db.session() as session:
            await session.execute(sa.delete(TimelineEntry).where(TimelineEntry.user_id == user_id))
            if keep:
                await self._insert(session, [{"user_id": user_id, "post_id": pid} for pid in keep])
            await session.execute(sa.delete(TimelineState).where(TimelineState.user_id == user_id))
            session.add(
                TimelineState(
                    user_id=user_id,
                    fresh_until=utcnow() + self._fresh_for,
                    generation=generation,
                )
            )
            await session.commit()

    async def push(self, post_id: int, user_ids: Sequence[int]) -> None:
        """One multi-row insert per call (callers batch)."""
        if user_ids:
            async with self._db.session() as session:
                await self._insert(
                    session, [{"user_id": uid, "post_id": post_id} for uid in set(user_ids)]
                )
                await session.commit()

    async def add(self, user_id: int, post_ids: Sequence[int]) -> None:
        """Insert, ignoring IDs already there."""
        if post_ids:
            async with self._db.session() as session:
                await self._insert(
                    session, [{"user_id": user_id, "post_id": pid} for pid in set(post_ids)]
                )
                await session.commit()

    async def remove(self, user_id: int, post_ids: Sequence[int]) -> None:
        """Delete these entries of one user."""
        if post_ids:
            async with self._db.session() as session:
                await session.execute(
                    sa.delete(TimelineEntry).where(
                        TimelineEntry.user_id == user_id, TimelineEntry.post_id.in_(post_ids)
                    )
                )
                await session.commit()

    async def retract(self, post_id: int, user_ids: Sequence[int]) -> None:
        """Delete the post from every timeline (the key makes the user list unnecessary)."""
        async with self._db.session() as session:
            await session.execute(sa.delete(TimelineEntry).where(TimelineEntry.post_id == post_id))
            await session.commit()

    async def forget(self, user_id: int) -> None:
        """Drop the whole thing: its freshness mark and its entries."""
        async with self._db.session() as session:
            await session.execute(sa.delete(TimelineState).where(TimelineState.user_id == user_id))
            await session.execute(sa.delete(TimelineEntry).where(TimelineEntry.user_id == user_id))
            await session.commit()

    async def trim(self) -> int:
        """Delete entries ranked beyond the cap in their timeline."""
        ranked = sa.select(
            TimelineEntry.user_id,
            TimelineEntry.post_id,
            sa.func.row_number()
            .over(partition_by=TimelineEntry.user_id, order_by=TimelineEntry.post_id.desc())
            .label("rank"),
        ).subquery()
        beyond = sa.select(ranked.c.user_id, ranked.c.post_id).where(ranked.c.rank > self.cap)
        async with self._db.session() as session:
            result = await session.execute(
                sa.delete(TimelineEntry).where(
                    sa.tuple_(TimelineEntry.user_id, TimelineEntry.post_id).in_(beyond)
                )
            )
            await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)


# KEYS: (timeline, its freshness marker) per follower; ARGV: post ID, cap, TTL in seconds.
PUSH_SCRIPT = """
local pushed = 0
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i + 1]) == 1 then
    redis.call('ZADD', KEYS[i], ARGV[1], ARGV[1])
    redis.call('ZREMRANGEBYRANK', KEYS[i], 0, -tonumber(ARGV[2]) - 1)
    if redis.call('TTL', KEYS[i]) < 0 then redis.call('EXPIRE', KEYS[i], ARGV[3]) end
    pushed = pushed + 1
  end
end
return pushed
"""


class RedisTimelineStore:
    """Scale-out: one sorted set per user (member and score the post ID) and a freshness key.

    Every call goes through a circuit breaker: while Redis is down, callers get
    TimelineUnavailable at once and serve from the database.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str,
        fresh_for: dt.timedelta,
        breaker: CircuitBreaker,
        cap: int = DEFAULT_CAP,
    ) -> None:
        self._client = client
        self._prefix = prefix + "tl:"
        self._ttl = int(fresh_for.total_seconds())
        self._breaker = breaker
        self.cap = cap
        self._push_script = client.register_script(PUSH_SCRIPT)

    def _key(self, user_id: int) -> str:
        return f"{self._prefix}{user_id}"

    def _fresh_key(self, user_id: int) -> str:
        return f"{self._prefix}{user_id}:fresh"

    async def _run(self, pipe: aioredis.client.Pipeline) -> list[object]:
        return list(
            await redis_client.guarded(self._breaker, pipe.execute, unavailable=TimelineUnavailable)
        )

    async def read(
        self, user_id: int, *, before_id: int | None, limit: int, generation: int
    ) -> list[int] | None:
        """One round trip: freshness, the IDs, and the sliding expiry."""
        key, fresh = self._key(user_id), self._fresh_key(user_id)
        top = f"({before_id}" if before_id is not None else "+inf"
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.get(fresh)
            pipe.zrevrangebyscore(key, top, "-inf", start=0, num=limit)
            pipe.expire(fresh, self._ttl)
            pipe.expire(key, self._ttl)
            results = await self._run(pipe)
        if results[0] != str(generation).encode():
            return None
        members = results[1]
        assert isinstance(members, list)
        return [int(member) for member in members]

    async def rebuild(self, user_id: int, post_ids: Sequence[int], *, generation: int) -> None:
        """Replace atomically (MULTI), so a reader sees the old or the new timeline."""
        key, fresh = self._key(user_id), self._fresh_key(user_id)
        keep = sorted(set(post_ids), reverse=True)[: self.cap]
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            if keep:
                pipe.zadd(key, {str(pid): pid for pid in keep})
                pipe.expire(key, self._ttl)
            pipe.set(fresh, str(generation).encode(), ex=self._ttl)
            await self._run(pipe)

    async def push(self, post_id: int, user_ids: Sequence[int]) -> None:
        """One script call for the whole batch: ZADD and a trim in each built timeline.

        Timelines never built (or expired) are skipped: their next read rebuilds them from
        the database anyway, and a key written here would have no expiry. One command with
        a key per follower, where a pipeline of two commands per follower cost the Python
        client more than Redis spent running them.
        """
        if not user_ids:
            return
        keys: list[str] = []
        for user_id in user_ids:
            keys += (self._key(user_id), self._fresh_key(user_id))
        args = (post_id, self.cap, self._ttl)
        await redis_client.guarded(
            self._breaker,
            lambda: self._push_script(keys=keys, args=args),
            unavailable=TimelineUnavailable,
        )

    async def add(self, user_id: int, post_ids: Sequence[int]) -> None:
        """Merge and trim."""
        if not post_ids:
            return
        key = self._key(user_id)
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.zadd(key, {str(pid): pid for pid in post_ids})
            pipe.zremrangebyrank(key, 0, -self.cap - 1)
            await self._run(pipe)

    async def remove(self, user_id: int, post_ids: Sequence[int]) -> None:
        """ZREM the IDs."""
        if not post_ids:
            return
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.zrem(self._key(user_id), *[str(pid) for pid in post_ids])
            await self._run(pipe)

    async def retract(self, post_id: int, user_ids: Sequence[int]) -> None:
        """ZREM from each timeline that may hold the post, pipelined."""
        if not user_ids:
            return
        async with self._client.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.zrem(self._key(user_id), str(post_id))
            await self._run(pipe)

    async def forget(self, user_id: int) -> None:
        """Delete the freshness key and the entries."""
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.delete(self._fresh_key(user_id), self._key(user_id))
            await self._run(pipe)

    async def trim(self) -> int:
        """Nothing to do: every push trims."""
        return 0
