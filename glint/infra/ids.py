"""64-bit time-ordered IDs in Instagram's layout: ms since our epoch | shard | sequence.

41 bits of milliseconds (to 2095), 13 bits of shard (8192 generators), 10 bits of sequence
(1024 IDs per millisecond per generator). Sorting by ID sorts by creation time.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from typing import Protocol

import sqlalchemy as sa

from glint.infra.db import Database

EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
EPOCH_MS = int(EPOCH.timestamp() * 1000)
SHARD_BITS = 13
SEQUENCE_BITS = 10
MAX_SHARD = (1 << SHARD_BITS) - 1
MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1
TIME_SHIFT = SHARD_BITS + SEQUENCE_BITS


class IdGenerator:
    """Hands out unique, increasing IDs for one shard; safe across threads."""

    def __init__(self, shard: int) -> None:
        if not 0 <= shard <= MAX_SHARD:
            raise ValueError(f"shard must be within 0..{MAX_SHARD}")
        self.shard = shard
        self._lock = threading.Lock()
        self._last_ms = 0
        self._sequence = 0

    def next_id(self) -> int:
        """A new ID, greater than every ID this generator gave before."""
        with self._lock:
            now_ms = _now_ms()
            # A clock that steps back must not reorder IDs: stay on the last millisecond.
            now_ms = max(now_ms, self._last_ms)
            if now_ms == self._last_ms:
                self._sequence += 1
                if self._sequence > MAX_SEQUENCE:
                    while now_ms <= self._last_ms:
                        time.sleep(0.0001)
                        now_ms = _now_ms()
                    self._sequence = 0
            else:
                self._sequence = 0
            self._last_ms = now_ms
            return (
                ((now_ms - EPOCH_MS) << TIME_SHIFT) | (self.shard << SEQUENCE_BITS) | self._sequence
            )


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def created_at(id_: int) -> dt.datetime:
    """The creation time encoded in an ID."""
    return EPOCH + dt.timedelta(milliseconds=id_ >> TIME_SHIFT)


def shard_of(id_: int) -> int:
    """The shard that generated an ID."""
    return (id_ >> SEQUENCE_BITS) & MAX_SHARD


def min_id_at(when: dt.datetime) -> int:
    """The smallest ID that can have been generated at or after a time (for range scans)."""
    ms = int((when - EPOCH).total_seconds() * 1000)
    return max(ms, 0) << TIME_SHIFT


class ShardAllocator(Protocol):
    """Gives each process a shard number so concurrent generators never collide."""

    async def allocate(self) -> int:
        """A shard number for this process."""
        ...


class ProcessShardAllocator:
    """Embedded: one machine, so the process ID tells processes apart."""

    async def allocate(self) -> int:
        """A shard from the process ID."""
        return os.getpid() & MAX_SHARD


SHARD_SEQUENCE = "id_shards"


class SequenceShardAllocator:
    """Scale-out: a PostgreSQL sequence numbers every process that starts.

    The database is durable where a cache is not: a Redis restart (or flush) would start a
    counter over and hand a running process's shard to the next one, and their IDs could
    collide. A sequence never goes back (8,192 starts wrap around, long after the first
    process of that number is gone).
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    async def allocate(self) -> int:
        """The next number of the sequence, within the shard space."""
        async with self._db.session() as session:
            value = await session.scalar(sa.text(f"SELECT nextval('{SHARD_SEQUENCE}')"))
        return int(value or 0) & MAX_SHARD
