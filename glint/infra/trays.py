"""Story trays: per viewer, the authors with live stories. SQL embedded, Redis at scale.

Each entry is (author ID, score), the score being the expiry time (epoch milliseconds) of the
author's newest story the viewer may see; an entry whose score has passed is gone. Like a home
timeline, a tray is a cache of fan-out, never the source of truth: the reader re-checks every
author against the database, and a tray is *fresh* only for a while after it was built or read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

import redis.asyncio as aioredis
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from glint.infra import redis_client
from glint.infra.breaker import CircuitBreaker
from glint.infra.db import Base, Database, UTCDateTime, utcnow

# Above the most accounts one user may follow (7,500): a full tray loses nobody in practice.
DEFAULT_CAP = 10_000
# Reads push freshness forward at most this often, so that most reads stay reads.
EXTEND_EVERY = dt.timedelta(days=1)


class TrayUnavailable(Exception):
    """The tray store did not answer (or its breaker is open); read from the database."""


class TrayStore(Protocol):
    """Capped sets of (author ID, expiry in epoch ms), one per viewer, latest expiry first."""

    cap: int

    async def read(
        self, user_id: int, *, now_ms: int, generation: int
    ) -> list[tuple[int, int]] | None:
        """(author_id, score) with score > now_ms, highest first; None when not fresh (rebuild).

        Reading a fresh tray keeps it fresh (sliding). A tray built under another generation
        is not fresh: bumping the generation invalidates every tray at once.
        """
        ...

    async def rebuild(
        self, user_id: int, entries: Sequence[tuple[int, int]], *, generation: int
    ) -> None:
        """Replace the tray atomically (capped to the highest scores) and mark it fresh."""
        ...

    async def push(self, author_id: int, score: int, user_ids: Sequence[int]) -> None:
        """Put one author into many trays (a story published); a higher score already there wins."""
        ...

    async def remove(self, author_id: int, user_ids: Sequence[int]) -> None:
        """Take one author out of these trays (unfollow, block, last story deleted)."""
        ...

    async def forget(self, user_id: int) -> None:
        """Drop the tray (entries too): the next read rebuilds it."""
        ...

    async def trim(self, *, now_ms: int) -> int:
        """Drop entries whose score <= now_ms; how many (Redis drops them at read and by TTL)."""
        ...


class TrayState(Base):
    """Embedded: when each viewer's tray stops being fresh, and under which generation."""

    __tablename__ = "tray_states"

    user_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    fresh_until: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    generation: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class TrayEntry(Base):
    """Embedded: one author in one viewer's tray, scored by the expiry of their newest story."""

    __tablename__ = "tray_entries"

    user_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    author_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    score: Mapped[int] = mapped_column(sa.BigInteger)

    # The periodic trim finds expired entries of every tray by this index.
    __table_args__ = (sa.Index("ix_tray_entries_score", "score"),)


def _highest(entries: Sequence[tuple[int, int]], cap: int) -> list[tuple[int, int]]:
    """One entry per author (its highest score), the `cap` highest, highest first."""
    best: dict[int, int] = {}
    for author_id, score in entries:
        if author_id not in best or score > best[author_id]:
            best[author_id] = score
    ranked = sorted(best.items(), key=lambda entry: (entry[1], entry[0]), reverse=True)
    return ranked[:cap]


class SqlTrayStore:
    """Embedded: two tables in the application database."""

    def __init__(self, db: Database, *, fresh_for: dt.timedelta, cap: int = DEFAULT_CAP) -> None:
        self._db = db
        self._fresh_for = fresh_for
        # A short window (tests) still slides: extend once half of it has gone by.
        self._extend_below = fresh_for - min(EXTEND_EVERY, fresh_for / 2)
        self.cap = cap

    async def _upsert(self, session: AsyncSession, rows: list[dict[str, int]]) -> None:
        # executemany with one small statement (as timelines do). The conditional update keeps
        # the higher score and leaves the row untouched otherwise; rows must not repeat a key
        # (PostgreSQL refuses to update one row twice in one statement).
        statement: sa.Executable
        if self._db.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            lite = sqlite_insert(TrayEntry)
            statement = lite.on_conflict_do_update(
                index_elements=[TrayEntry.user_id, TrayEntry.author_id],
                set_={"score": lite.excluded.score},
                where=TrayEntry.score < lite.excluded.score,
            )
        else:
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            pg = pg_insert(TrayEntry)
            statement = pg.on_conflict_do_update(
                index_elements=[TrayEntry.user_id, TrayEntry.author_id],
                set_={"score": pg.excluded.score},
                where=TrayEntry.score < pg.excluded.score,
            )
        await session.execute(statement, rows)

    async def read(
        self, user_id: int, *, now_ms: int, generation: int
    ) -> list[tuple[int, int]] | None:
        """Live entries of a fresh tray; freshness is extended at most daily (reads stay reads)."""
        now = utcnow()
        async with self._db.session() as session:
            state = (
                await session.execute(
                    sa.select(TrayState.fresh_until, TrayState.generation).where(
                        TrayState.user_id == user_id
                    )
                )
            ).first()
            if state is None or state.fresh_until <= now or state.generation != generation:
                return None
            fresh_until = state.fresh_until
            rows = await session.execute(
                sa.select(TrayEntry.author_id, TrayEntry.score)
                .where(TrayEntry.user_id == user_id, TrayEntry.score > now_ms)
                .order_by(TrayEntry.score.desc(), TrayEntry.author_id.desc())
                # Pushes do not trim (trim() does): the cap holds at read time all the same.
                .limit(self.cap)
            )
            entries = [(int(author_id), int(score)) for author_id, score in rows]
            if fresh_until - now < self._extend_below:
                await session.execute(
                    sa.update(TrayState)
                    .where(TrayState.user_id == user_id)
                    .values(fresh_until=now + self._fresh_for)
                )
                await session.commit()
            return entries

    async def rebuild(
        self, user_id: int, entries: Sequence[tuple[int, int]], *, generation: int
    ) -> None:
        """Replace the entries and mark fresh, in one transaction."""
        keep = _highest(entries, self.cap)
        async with self._db.session() as session:
            await session.execute(sa.delete(TrayEntry).where(TrayEntry.user_id == user_id))
            if keep:
                await session.execute(
                    sa.insert(TrayEntry),
                    [{"user_id": user_id, "author_id": a, "score": s} for a, s in keep],
                )
            await session.execute(sa.delete(TrayState).where(TrayState.user_id == user_id))
            session.add(
                TrayState(
                    user_id=user_id, fresh_until=utcnow() + self._fresh_for, generation=generation
                )
            )
            await session.commit()

    async def push(self, author_id: int, score: int, user_ids: Sequence[int]) -> None:
        """One upsert per call (callers batch); the cap is enforced by read and trim."""
        if user_ids:
            rows = [{"user_id": u, "author_id": author_id, "score": score} for u in set(user_ids)]
            async with self._db.session() as session:
                await self._upsert(session, rows)
                await session.commit()

    async def remove(self, author_id: int, user_ids: Sequence[int]) -> None:
        """Delete the author's entry from each of these trays."""
        if user_ids:
            async with self._db.session() as session:
                await session.execute(
                    sa.delete(TrayEntry).where(
                        TrayEntry.author_id == author_id, TrayEntry.user_id.in_(set(user_ids))
                    )
                )
                await session.commit()

    async def forget(self, user_id: int) -> None:
        """Drop the whole thing: its freshness mark and its entries."""
        async with self._db.session() as session:
            await session.execute(sa.delete(TrayState).where(TrayState.user_id == user_id))
            await session.execute(sa.delete(TrayEntry).where(TrayEntry.user_id == user_id))
            await session.commit()

    async def trim(self, *, now_ms: int) -> int:
        """Delete expired entries, then any ranked beyond the cap in their tray."""
        ranked = sa.select(
            TrayEntry.user_id,
            TrayEntry.author_id,
            sa.func.row_number()
            .over(
                partition_by=TrayEntry.user_id,
                order_by=(TrayEntry.score.desc(), TrayEntry.author_id.desc()),
            )
            .label("rank"),
        ).subquery()
        beyond = sa.select(ranked.c.user_id, ranked.c.author_id).where(ranked.c.rank > self.cap)
        async with self._db.session() as session:
            expired = await session.execute(sa.delete(TrayEntry).where(TrayEntry.score <= now_ms))
            over = await session.execute(
                sa.delete(TrayEntry).where(
                    sa.tuple_(TrayEntry.user_id, TrayEntry.author_id).in_(beyond)
                )
            )
            await session.commit()
        return int(getattr(expired, "rowcount", 0) or 0) + int(getattr(over, "rowcount", 0) or 0)


class RedisTrayStore:
    """Scale-out: one sorted set per viewer (member the author ID) and a freshness key.

    Every call goes through a circuit breaker: while Redis is down, callers get
    TrayUnavailable at once and serve from the database.
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
        self._prefix = prefix + "tray:"
        self._ttl = max(1, int(fresh_for.total_seconds()))
        self._breaker = breaker
        self.cap = cap

    def _key(self, user_id: int) -> str:
        return f"{self._prefix}{user_id}"

    def _fresh_key(self, user_id: int) -> str:
        return f"{self._prefix}{user_id}:fresh"

    async def _run(self, pipe: aioredis.client.Pipeline) -> list[object]:
        return list(
            await redis_client.guarded(self._breaker, pipe.execute, unavailable=TrayUnavailable)
        )

    async def read(
        self, user_id: int, *, now_ms: int, generation: int
    ) -> list[tuple[int, int]] | None:
        """One round trip: freshness, expired entries out, the live ones, the sliding expiry."""
        key, fresh = self._key(user_id), self._fresh_key(user_id)
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.get(fresh)
            pipe.zremrangebyscore(key, "-inf", now_ms)
            pipe.zrevrangebyscore(key, "+inf", f"({now_ms}", start=0, num=self.cap, withscores=True)
            pipe.expire(fresh, self._ttl)
            pipe.expire(key, self._ttl)
            results = await self._run(pipe)
        if results[0] != str(generation).encode():
            return None
        members = results[2]
        assert isinstance(members, list)
        entries = [(int(member), int(score)) for member, score in members]
        # Equal scores come back in byte order of the member; order them as SQL does.
        entries.sort(key=lambda entry: (entry[1], entry[0]), reverse=True)
        return entries

    async def rebuild(
        self, user_id: int, entries: Sequence[tuple[int, int]], *, generation: int
    ) -> None:
        """Replace atomically (MULTI), so a reader sees the old or the new tray."""
        key, fresh = self._key(user_id), self._fresh_key(user_id)
        keep = _highest(entries, self.cap)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            if keep:
                pipe.zadd(key, {str(author_id): score for author_id, score in keep})
                pipe.expire(key, self._ttl)
            pipe.set(fresh, str(generation).encode(), ex=self._ttl)
            await self._run(pipe)

    async def push(self, author_id: int, score: int, user_ids: Sequence[int]) -> None:
        """Pipelined: ZADD GT, a trim to the cap and a TTL per tray, one round trip in all."""
        if not user_ids:
            return
        member = {str(author_id): score}
        async with self._client.pipeline(transaction=False) as pipe:
            for user_id in set(user_ids):
                key = self._key(user_id)
                pipe.zadd(key, member, gt=True)
                pipe.zremrangebyrank(key, 0, -self.cap - 1)
                # A push may create the key: without a TTL it would outlive its reader.
                pipe.expire(key, self._ttl)
            await self._run(pipe)

    async def remove(self, author_id: int, user_ids: Sequence[int]) -> None:
        """ZREM the author from each tray, pipelined."""
        if not user_ids:
            return
        async with self._client.pipeline(transaction=False) as pipe:
            for user_id in set(user_ids):
                pipe.zrem(self._key(user_id), str(author_id))
            await self._run(pipe)

    async def forget(self, user_id: int) -> None:
        """Delete the freshness key and the entries."""
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.delete(self._fresh_key(user_id), self._key(user_id))
            await self._run(pipe)

    async def trim(self, *, now_ms: int) -> int:
        """Nothing to do: reads drop expired entries, pushes cut to the cap, keys carry TTLs."""
        return 0
