"""A short-lived, per-process map of session-token hash → resolved session.

Authentication is on every request; asking the database who a token belongs to each time
costs more than many requests do otherwise. Entries live `ttl` seconds at most. Revocation
stays immediate: whatever ends a session (sign-out, revoke, password change, ban) evicts it
here and, over pub/sub, in every other process (the stream hub's control channel).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, _Entry[V]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        """Whether anything is ever kept."""
        return self._ttl > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token_hash: str) -> V | None:
        """The value stored for this token, unless it is older than the TTL."""
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
        return len(doomed)
