"""Each user's recent stream events, kept a short while so a reconnecting device misses nothing.

SQL embedded (two tables), a capped Redis stream per user at scale. Event IDs are opaque
strings to clients; within one user they increase in the order events were appended, so
"everything after the last ID I saw" is one range read. When events after an ID may have been
dropped (aged out, over the cap, or the ID is not one we gave), `read` says `gap`: the client
is sent `resync` and refetches instead of silently missing something.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import redis.asyncio as aioredis
import sqlalchemy as sa
from redis.exceptions import ResponseError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from glint.infra import redis_client
from glint.infra.breaker import CircuitBreaker
from glint.infra.db import Base, Database, UTCDateTime, utcnow
from glint.infra.ids import IdGenerator, min_id_at

DEFAULT_LIMIT = 100
MAX_ID_LENGTH = 64  # longer `after` values are garbage, never parsed


class EventLogUnavailable(Exception):
    """The event log did not answer (or its breaker is open)."""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event of one user's stream."""

    id: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class LogRead:
    """Events after a point, oldest first; `gap` when some after it may be gone (resync)."""

    events: tuple[StoredEvent, ...] = ()
    gap: bool = False


GAP = LogRead(gap=True)


class EventLog(Protocol):
    """Per-user append-only windows of stream events."""

    async def append(self, user_id: int, payload: bytes) -> str:
        """Store one event for a user; its ID, greater than every earlier one of that user."""
        ...

    async def append_many(self, user_ids: Sequence[int], payload: bytes) -> dict[int, str]:
        """Store the same event for several users at once; each user's new ID."""
        ...

    async def read(self, user_id: int, after: str | None, *, limit: int = DEFAULT_LIMIT) -> LogRead:
        """Up to `limit` events after `after` (every kept one when None), in order.

        A gap (events after `after` dropped, or an `after` we never gave out) comes with no
        events: the caller starts again from `latest_id`.
        """
        ...

    async def latest_id(self, user_id: int) -> str:
        """Where a new reader starts: reading after it returns only events appended later."""
        ...

    async def latest_ids(self, user_ids: Sequence[int]) -> dict[int, str]:
        """latest_id of several users in one round trip."""
        ...

    async def forget(self, user_id: int) -> None:
        """Drop a user's whole log (an account that is gone)."""
        ...

    async def trim(self) -> int:
        """Drop events older than the window; how many went (Redis expires them itself)."""
        ...


class StreamEvent(Base):
    """Embedded: one stored stream event of one user."""

    __tablename__ = "stream_events"

    user_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    # The periodic trim deletes by ID (IDs are time-ordered) across every user.
    __table_args__ = (sa.Index("ix_stream_events_id", "id"),)


class StreamHead(Base):
    """Embedded: per user, the last ID handed out and the highest ID dropped since.

    The row serializes appends of one user (each holds its lock until commit), which is what
    makes IDs commit in increasing order; `trimmed_through` is what makes `gap` exact.
    """

    __tablename__ = "stream_heads"

    user_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(sa.BigInteger)
    trimmed_through: Mapped[int] = mapped_column(sa.BigInteger, default=0)


_SQL_ID = re.compile(r"[0-9]{1,19}")
_MAX_SQL_ID = (1 << 63) - 1


def _parse_sql_id(value: str) -> int | None:
    if len(value) > MAX_ID_LENGTH or not _SQL_ID.fullmatch(value):
        return None
    number = int(value)
    return number if number <= _MAX_SQL_ID else None


class SqlEventLog:
    """Embedded: rows in the application database, trimmed by age (periodic) and per-user cap."""

    def __init__(self, db: Database, *, ids: IdGenerator, window: float, cap: int) -> None:
        self._db = db
        self._ids = ids
        self.window = window
        self.cap = cap

    def _upsert_head(self, user_id: int, candidate: int) -> sa.Executable:
        # A new ID is the generator's, or one above the user's last when that is already higher
        # (another process's clock or shard): per user, IDs only ever increase.
        insert: Any
        if self._db.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        statement = insert(StreamHead).values(user_id=user_id, last_id=candidate, trimmed_through=0)
        bumped = sa.case(
            (StreamHead.last_id >= statement.excluded.last_id, StreamHead.last_id + 1),
            else_=statement.excluded.last_id,
        )
        upsert: sa.Executable = statement.on_conflict_do_update(
            index_elements=[StreamHead.user_id], set_={"last_id": bumped}
        ).returning(StreamHead.last_id)
        return upsert

    async def _append_one(self, session: AsyncSession, user_id: int, payload: bytes) -> int:
        head = await session.execute(self._upsert_head(user_id, self._ids.next_id()))
        event_id = int(head.scalar_one())
        session.add(StreamEvent(user_id=user_id, id=event_id, payload=payload, created_at=utcnow()))
        await session.flush()
        # Keep the newest `cap`: everything at or below the (cap+1)-th newest goes.
        boundary = await session.scalar(
            sa.select(StreamEvent.id)
            .where(StreamEvent.user_id == user_id)
            .order_by(StreamEvent.id.desc())
            .offset(self.cap)
            .limit(1)
        )
        if boundary is not None:
            await session.execute(
                sa.delete(StreamEvent).where(
                    StreamEvent.user_id == user_id, StreamEvent.id <= boundary
                )
            )
            await session.execute(
                sa.update(StreamHead)
                .where(StreamHead.user_id == user_id, StreamHead.trimmed_through < boundary)
                .values(trimmed_through=boundary)
            )
        return event_id

    async def append(self, user_id: int, payload: bytes) -> str:
        """Insert the event and enforce the cap, in one transaction."""
        return (await self.append_many([user_id], payload))[user_id]

    async def append_many(self, user_ids: Sequence[int], payload: bytes) -> dict[int, str]:
        """One transaction for every user, heads locked in user order (no deadlock)."""
        result: dict[int, str] = {}
        if not user_ids:
            return result
        async with self._db.session() as session:
            for user_id in sorted(set(user_ids)):
                result[user_id] = str(await self._append_one(session, user_id, payload))
            await session.commit()
        return result

    async def read(self, user_id: int, after: str | None, *, limit: int = DEFAULT_LIMIT) -> LogRead:
        """Rows first, then the head: a trim between the two shows up as a gap, never a hole."""
        start = 0 if after is None else _parse_sql_id(after)
        if start is None:
            return GAP
        async with self._db.session() as session:
            rows = (
                await session.execute(
                    sa.select(StreamEvent.id, StreamEvent.payload)
                    .where(StreamEvent.user_id == user_id, StreamEvent.id > start)
                    .order_by(StreamEvent.id)
                    .limit(limit)
                )
            ).all()
            head = (
                await session.execute(
                    sa.select(StreamHead.last_id, StreamHead.trimmed_through).where(
                        StreamHead.user_id == user_id
                    )
                )
            ).first()
        last_id, trimmed = (head.last_id, head.trimmed_through) if head else (0, 0)
        # An ID above the last one given out is not ours (garbage, or another deployment's).
        if after is not None and (start > last_id or start < trimmed):
            return GAP
        return LogRead(
            events=tuple(StoredEvent(id=str(row.id), payload=row.payload) for row in rows)
        )

    async def latest_id(self, user_id: int) -> str:
        """The user's last ID, or "0" before their first event."""
        return (await self.latest_ids([user_id]))[user_id]

    async def latest_ids(self, user_ids: Sequence[int]) -> dict[int, str]:
        """One query over the heads."""
        result = dict.fromkeys(user_ids, "0")
        if not result:
            return result
        async with self._db.session() as session:
            rows = await session.execute(
                sa.select(StreamHead.user_id, StreamHead.last_id).where(
                    StreamHead.user_id.in_(list(result))
                )
            )
            for row in rows:
                result[row.user_id] = str(row.last_id)
        return result

    async def forget(self, user_id: int) -> None:
        """Delete the user's events and head."""
        async with self._db.session() as session:
            await session.execute(sa.delete(StreamEvent).where(StreamEvent.user_id == user_id))
            await session.execute(sa.delete(StreamHead).where(StreamHead.user_id == user_id))
            await session.commit()

    async def trim(self) -> int:
        """Delete events older than the window, recording per user the highest ID dropped."""
        cutoff = min_id_at(utcnow() - dt.timedelta(seconds=self.window))
        async with self._db.session() as session:
            dropped = (
                await session.execute(
                    sa.select(StreamEvent.user_id, sa.func.max(StreamEvent.id).label("top"))
                    .where(StreamEvent.id < cutoff)
                    .group_by(StreamEvent.user_id)
                    .order_by(StreamEvent.user_id)
                )
            ).all()
            if not dropped:
                return 0
            for row in dropped:
                await session.execute(
                    sa.update(StreamHead)
                    .where(StreamHead.user_id == row.user_id, StreamHead.trimmed_through < row.top)
                    .values(trimmed_through=row.top)
                )
            deleted = await session.execute(sa.delete(StreamEvent).where(StreamEvent.id < cutoff))
            await session.commit()
        return int(getattr(deleted, "rowcount", 0) or 0)


_REDIS_ID = re.compile(r"([0-9]{1,20})-([0-9]{1,20})")
_MAX_U64 = (1 << 64) - 1
_ZERO = (0, 0)


def _parse_redis_id(value: str) -> tuple[int, int] | None:
    match = _REDIS_ID.fullmatch(value) if len(value) <= MAX_ID_LENGTH else None
    if match is None:
        return None
    ms, seq = int(match[1]), int(match[2])
    return (ms, seq) if ms <= _MAX_U64 and seq <= _MAX_U64 else None


def _redis_id(value: object) -> tuple[int, int]:
    parsed = _parse_redis_id(_text(value))
    if parsed is None:
        raise ValueError(f"not a stream ID: {value!r}")
    return parsed


class RedisEventLog:
    """Scale-out: one Redis stream per user, capped (exact MAXLEN) and expiring after the window.

    The gap rule: the cap drops the oldest entries, so when some were dropped (Redis 7 counts
    `entries-added`), a reader from before the first kept entry resyncs. A whole stream expires
    `window` after its last append, so when it is gone, or was created again after expiring,
    anything lost is older than `window` before now (or before its first event); a reader whose
    ID is older than that may have missed something and resyncs.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str,
        window: float,
        cap: int,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._client = client
        self._prefix = prefix + "stream:"
        self.window = window
        self.cap = cap
        self._breaker = breaker or CircuitBreaker("redis")

    def _key(self, user_id: int) -> str:
        return f"{self._prefix}{user_id}"

    async def _run(self, pipe: aioredis.client.Pipeline) -> list[Any]:
        results = await redis_client.guarded(
            self._breaker,
            lambda: pipe.execute(raise_on_error=False),
            unavailable=EventLogUnavailable,
        )
        return list(results)

    async def append(self, user_id: int, payload: bytes) -> str:
        """XADD with the cap, and push the expiry out."""
        return (await self.append_many([user_id], payload))[user_id]

    async def append_many(self, user_ids: Sequence[int], payload: bytes) -> dict[int, str]:
        """One pipelined round trip for every user."""
        users = sorted(set(user_ids))
        if not users:
            return {}
        window_ms = max(1, int(self.window * 1000))
        async with self._client.pipeline(transaction=False) as pipe:
            for user_id in users:
                pipe.xadd(self._key(user_id), {"p": payload}, maxlen=self.cap, approximate=False)
                pipe.pexpire(self._key(user_id), window_ms)
            results = await self._run(pipe)
        for result in results:
            if isinstance(result, Exception):
                raise EventLogUnavailable(str(result))
        return {user_id: _text(results[2 * i]) for i, user_id in enumerate(users)}

    async def read(self, user_id: int, after: str | None, *, limit: int = DEFAULT_LIMIT) -> LogRead:
        """XINFO STREAM and XRANGE in one MULTI, then the gap rule."""
        start = _ZERO if after is None else _parse_redis_id(after)
        if start is None:
            return GAP
        key = self._key(user_id)
        low = "-" if after is None else f"({start[0]}-{start[1]}"
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.xinfo_stream(key)
            pipe.xrange(key, min=low, max="+", count=limit)
            info, entries = await self._run(pipe)
        if isinstance(info, ResponseError):  # no such key: the stream expired, or never was
            return GAP if after is not None and self._expired_since(start) else LogRead()
        if isinstance(info, Exception) or isinstance(entries, Exception):
            raise EventLogUnavailable(str(info if isinstance(info, Exception) else entries))
        if after is not None and self._is_gap(start, info):
            return GAP
        events = tuple(
            StoredEvent(id=_text(entry), payload=fields[b"p"]) for entry, fields in entries
        )
        return LogRead(events=events)

    def _expired_since(self, start: tuple[int, int]) -> bool:
        """With no stream: may events after `start` have expired with it?"""
        now_ms = int(time.time() * 1000)
        if start[0] > now_ms + 60_000:
            return True  # from the future: not an ID Redis gave us
        return start[0] < now_ms - int(self.window * 1000)

    def _is_gap(self, start: tuple[int, int], info: dict[Any, Any]) -> bool:
        fields = {_text(name): value for name, value in info.items()}
        if start > _redis_id(fields["last-generated-id"]):
            return True  # never handed out by this stream
        entry = fields.get("first-entry")
        if not entry:
            return True  # a stream emptied by hand: whatever it held is gone
        first = _redis_id(entry[0])
        # The cap only ever drops the oldest entries, so what it dropped lies before the first
        # kept one (Redis 7 counts additions; without the count, assume it dropped some).
        added, length = fields.get("entries-added"), fields.get("length")
        if added is None or length is None or int(added) > int(length):
            return start < first
        # Nothing dropped in this life of the key, but it may have expired and been created
        # again since `start`: the old life ended `window` after its last event.
        return start[0] < first[0] - int(self.window * 1000)

    async def latest_id(self, user_id: int) -> str:
        """The stream's newest ID; before the first event, a point just before Redis's now."""
        return (await self.latest_ids([user_id]))[user_id]

    async def latest_ids(self, user_ids: Sequence[int]) -> dict[int, str]:
        """XREVRANGE COUNT 1 per user and TIME, in one MULTI so nothing slips between them."""
        users = list(dict.fromkeys(user_ids))
        if not users:
            return {}
        async with self._client.pipeline(transaction=True) as pipe:
            for user_id in users:
                pipe.xrevrange(self._key(user_id), max="+", min="-", count=1)
            pipe.time()
            results = await self._run(pipe)
        for result in results:
            if isinstance(result, Exception):
                raise EventLogUnavailable(str(result))
        seconds, micros = results[-1]
        # An event appended after this answer gets an ID of this millisecond or later: one
        # millisecond back is before all of them.
        empty = f"{int(seconds) * 1000 + int(micros) // 1000 - 1}-0"
        return {
            user_id: _text(entries[0][0]) if entries else empty
            for user_id, entries in zip(users, results[:-1], strict=True)
        }

    async def forget(self, user_id: int) -> None:
        """Delete the user's stream."""
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(user_id))
            results = await self._run(pipe)
        if results and isinstance(results[0], Exception):
            raise EventLogUnavailable(str(results[0]))

    async def trim(self) -> int:
        """Nothing to do: every append caps its stream, and idle streams expire."""
        return 0


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
