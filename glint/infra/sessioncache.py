"""A short-lived, per-process map of session-token hash → resolved session.

Authentication is on every request; asking the database who a token belongs to each time
costs more than many requests do otherwise. Entries live `ttl` seconds at most. Revocation
stays immediate: whatever ends a session (sign-out, revoke, password change, ban) evicts it
here and, over pub/sub, in every other process (the stream hub's control channel). Embedded
processes share no pub/sub but share the data folder: there an eviction also rewrites a stamp
file, and a process that finds the stamp changed forgets everything it kept (one `stat` per
lookup).
"""

from __future__ import annotations

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

    @property
    def enabled(self) -> bool:
        """Whether anything is ever kept."""
        return self._ttl > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token_hash: str) -> V | None:
        """The value stored for this token, unless it is older than the TTL."""
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

    def put(self, token_hash: str, value: V, *, session_id: int, user_id: int) -> None:
        """Keep a resolved session (the oldest entry goes when full)."""
        if not self.enabled:
            return
        self._entries[token_hash] = _Entry(value, session_id, user_id, self._clock())
        self._entries.move_to_end(token_hash)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def evict(self, *, session_ids: Iterable[int] = (), user_ids: Iterable[int] = ()) -> int:
        """Forget every entry of these sessions and users; how many went."""
        sessions, users = set(session_ids), set(user_ids)
        if not (sessions or users) or not self._entries:
            return 0
        doomed = [
            key
            for key, entry in self._entries.items()
            if entry.session_id in sessions or entry.user_id in users
        ]
        for key in doomed:
            del self._entries[key]
        self._touch_stamp()
        return len(doomed)

    def _read_stamp(self) -> int:
        if self._stamp is None:
            return 0
        try:
            return self._stamp.stat().st_mtime_ns
        except OSError:
            return 0

    def _touch_stamp(self) -> None:
        if self._stamp is None:
            return
        try:
            self._stamp.write_text(str(time.time_ns()))
        except OSError:
            return  # the data folder is gone or read-only: this process evicted anyway
        self._stamp_seen = self._read_stamp()
