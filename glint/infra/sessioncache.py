"""A short-lived, per-process map of session-token hash → resolved session.

Authentication is on every request; asking the database who a token belongs to each time
costs more than many requests do otherwise. Entries live `ttl` seconds at most. Revocation
stays immediate: whatever ends a session (sign-out, revoke, password change, ban) evicts it
here and, over pub/sub, in every other process (the stream hub's control channel). Embedded
processes share no pub/sub but share the data folder: there an eviction also rewrites a stamp
file, and a process that finds the stamp changed forgets everything it kept (one small file
read per lookup).
"""

from __future__ import annotations

import os
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass
class _Entry(Generic[V]):
    value: V
    session_id: int
    user_id: int
    stored_at: float


class SessionCache(Generic[V]):
    """token hash → value, for `ttl_seconds`; evictable by session or by user. ttl 0 = off."""

    def __init__(
        self,
        *,
        ttl_seconds: float,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
        stamp: Path | None = None,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, _Entry[V]] = OrderedDict()
        self._stamp = stamp
        self._stamp_seen = self._read_stamp()
        # Bumped by every eviction: a lookup that began before one must not store its answer.
        self.evictions = 0
        # False while evictions from other processes cannot reach this one (not yet
        # subscribed to the control channel): nothing is served from the cache then.
        self.listening = True

    @property
    def enabled(self) -> bool:
        """Whether anything is ever kept."""
        return self._ttl > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token_hash: str) -> V | None:
        """The value stored for this token, unless it is older than the TTL."""
        if not self.listening:
            return None
        if self._stamp is not None and self._entries:
            seen = self._read_stamp()
            if seen != self._stamp_seen:  # another process evicted something
                self._entries.clear()
                self._stamp_seen = seen
                return None
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        if self._clock() - entry.stored_at >= self._ttl:
            del self._entries[token_hash]
            return None
        return entry.value

    def put(
        self,
        token_hash: str,
        value: V,
        *,
        session_id: int,
        user_id: int,
        evictions_seen: int | None = None,
    ) -> None:
        """Keep a resolved session (the oldest entry goes when full); not when an eviction
        happened since `evictions_seen` (the value was read before it, so may be revoked)."""
        if not self.enabled or not self.listening:
            return
        if evictions_seen is not None and evictions_seen != self.evictions:
            return
        self._entries[token_hash] = _Entry(value, session_id, user_id, self._clock())
        self._entries.move_to_end(token_hash)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (evictions may have been missed)."""
        self.evictions += 1
        self._entries.clear()

    def evict(self, *, session_ids: Iterable[int] = (), user_ids: Iterable[int] = ()) -> int:
        """Forget every entry of these sessions and users, here and (embedded) in the other
        processes of the data folder; how many went here."""
        sessions, users = set(session_ids), set(user_ids)
        if not (sessions or users):
            return 0
        self.evictions += 1
        self._touch_stamp()
        doomed = [
            key
            for key, entry in self._entries.items()
            if entry.session_id in sessions or entry.user_id in users
        ]
        for key in doomed:
            del self._entries[key]
        return len(doomed)

    def _read_stamp(self) -> str:
        if self._stamp is None:
            return ""
        try:
            return self._stamp.read_text()
        except OSError:
            return ""

    def _touch_stamp(self) -> None:
        if self._stamp is None:
            return
        # A value no process wrote before, replaced atomically: a reader sees old or new.
        value = f"{os.getpid()}-{time.time_ns()}-{secrets.token_hex(4)}"
        staging = self._stamp.with_name(f"{self._stamp.name}.{os.getpid()}")
        try:
            staging.write_text(value)
            os.replace(staging, self._stamp)
        except OSError:
            return  # the data folder is gone or read-only: this process evicted anyway
        self._stamp_seen = value
