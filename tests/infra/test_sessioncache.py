"""The per-process token cache: lifetime, size, eviction, and eviction seen across processes."""

from __future__ import annotations

from pathlib import Path

from glint.infra.sessioncache import SessionCache


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entries_live_for_the_ttl_only() -> None:
    clock = Clock()
    cache: SessionCache[str] = SessionCache(ttl_seconds=30, clock=clock)
    cache.put("h1", "alice", session_id=1, user_id=10)
    clock.now += 29.9
    assert cache.get("h1") == "alice"
    clock.now += 0.1
    assert cache.get("h1") is None
    assert len(cache) == 0


def test_a_zero_ttl_keeps_nothing() -> None:
    cache: SessionCache[str] = SessionCache(ttl_seconds=0)
    cache.put("h1", "alice", session_id=1, user_id=10)
    assert not cache.enabled
    assert cache.get("h1") is None


def test_the_oldest_entry_goes_when_full() -> None:
    cache: SessionCache[str] = SessionCache(ttl_seconds=30, max_entries=2)
    cache.put("h1", "a", session_id=1, user_id=10)
    cache.put("h2", "b", session_id=2, user_id=20)
    cache.put("h3", "c", session_id=3, user_id=30)
    assert [cache.get(key) for key in ("h1", "h2", "h3")] == [None, "b", "c"]


def test_evict_by_session_and_by_user() -> None:
    cache: SessionCache[str] = SessionCache(ttl_seconds=30)
    cache.put("h1", "phone", session_id=1, user_id=10)
    cache.put("h2", "laptop", session_id=2, user_id=10)
    cache.put("h3", "other", session_id=3, user_id=20)
    assert cache.evict(session_ids=[1]) == 1
    assert cache.get("h1") is None and cache.get("h2") == "laptop"
    assert cache.evict(user_ids=[10]) == 1
    assert cache.get("h2") is None and cache.get("h3") == "other"
    assert cache.evict() == 0


def test_an_eviction_in_one_process_empties_the_others_through_the_stamp(
    tmp_path: Path,
) -> None:
    stamp = tmp_path / "sessions.stamp"
    here: SessionCache[str] = SessionCache(ttl_seconds=30, stamp=stamp)
    there: SessionCache[str] = SessionCache(ttl_seconds=30, stamp=stamp)
    here.put("h1", "alice", session_id=1, user_id=10)
    there.put("h1", "alice", session_id=1, user_id=10)
    there.put("h2", "bob", session_id=2, user_id=20)
    here.evict(session_ids=[1])
    # The other process cannot know which entry went: it forgets all and asks again.
    assert there.get("h2") is None
    assert len(there) == 0
    there.put("h2", "bob", session_id=2, user_id=20)
    assert there.get("h2") == "bob"  # until the next eviction anywhere


def test_a_lookup_that_began_before_an_eviction_does_not_store_its_answer() -> None:
    cache: SessionCache[str] = SessionCache(ttl_seconds=30)
    seen = cache.evictions  # a request starts reading the session from the database...
    cache.evict(session_ids=[1])  # ...while a sign-out elsewhere lands
    cache.put("h1", "alice", session_id=1, user_id=10, evictions_seen=seen)
    assert cache.get("h1") is None
    cache.put("h1", "alice", session_id=1, user_id=10, evictions_seen=cache.evictions)
    assert cache.get("h1") == "alice"


def test_nothing_is_served_while_evictions_cannot_arrive() -> None:
    cache: SessionCache[str] = SessionCache(ttl_seconds=30)
    cache.put("h1", "alice", session_id=1, user_id=10)
    cache.listening = False  # e.g. not yet subscribed to the control channel
    assert cache.get("h1") is None
    cache.put("h2", "bob", session_id=2, user_id=20)
    cache.listening = True
    assert cache.get("h2") is None and cache.get("h1") == "alice"
    cache.clear()  # pub/sub reconnected: evictions may have been missed
    assert cache.get("h1") is None


def test_an_eviction_reaches_the_stamp_even_from_a_process_with_nothing_cached(
    tmp_path: Path,
) -> None:
    stamp = tmp_path / "sessions.stamp"
    job_process: SessionCache[str] = SessionCache(ttl_seconds=30, stamp=stamp)
    server: SessionCache[str] = SessionCache(ttl_seconds=30, stamp=stamp)
    server.put("h1", "alice", session_id=1, user_id=10)
    job_process.evict(user_ids=[10])  # a password change handled where no token is cached
    assert server.get("h1") is None
    server.put("h1", "alice", session_id=1, user_id=10)
    job_process.evict(user_ids=[10])  # twice in a row: every eviction writes a new stamp
    assert server.get("h1") is None
