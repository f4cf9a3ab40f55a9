"""One contract for the story-tray store: SQL (SQLite embedded, PostgreSQL scale-out) and Redis.

Scores are expiry times in epoch milliseconds; the tests pass `now_ms` themselves, so small
numbers stand in for them and no clock is involved.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio as aioredis
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from glint import models_registry
from glint.infra.breaker import CircuitBreaker
from glint.infra.runtime import Runtime
from glint.infra.trays import (
    DEFAULT_CAP,
    RedisTrayStore,
    SqlTrayStore,
    TrayStore,
    TrayUnavailable,
)

CAP = 5
DAY = dt.timedelta(days=1)
StoreFactory = Callable[..., TrayStore]


@pytest.fixture(params=["sql", "redis"])
def make_store(request: pytest.FixtureRequest, clean_runtime: Runtime) -> StoreFactory:
    """Builds stores of one kind on the runtime's clean database or Redis (a small cap)."""
    if request.param == "sql":

        def build_sql(*, fresh_for: dt.timedelta = DAY, cap: int = CAP) -> TrayStore:
            return SqlTrayStore(clean_runtime.db, fresh_for=fresh_for, cap=cap)

        return build_sql
    client = clean_runtime.redis
    if client is None:
        pytest.skip("embedded run has no Redis (the Redis store runs in the scale-out half)")

    def build_redis(*, fresh_for: dt.timedelta = DAY, cap: int = CAP) -> TrayStore:
        return RedisTrayStore(
            client,
            prefix=clean_runtime.settings.redis_prefix,
            fresh_for=fresh_for,
            breaker=CircuitBreaker("redis", reset_after=60),
            cap=cap,
        )

    return build_redis


@pytest.fixture
def store(make_store: StoreFactory) -> TrayStore:
    """A store with the default freshness and a cap of 5."""
    return make_store()


async def test_runtime_picks_the_store_of_its_mode(clean_runtime: Runtime) -> None:
    expected = RedisTrayStore if clean_runtime.redis is not None else SqlTrayStore
    assert isinstance(clean_runtime.trays, expected)
    assert clean_runtime.trays.cap == DEFAULT_CAP == 10_000


async def test_unbuilt_tray_is_not_fresh(store: TrayStore) -> None:
    assert await store.read(1, now_ms=0, generation=0) is None
    await store.push(100, 5000, [1])  # a push alone does not make a tray fresh
    assert await store.read(1, now_ms=0, generation=0) is None


async def test_rebuild_then_read_highest_score_first(store: TrayStore) -> None:
    await store.rebuild(7, [(1, 3000), (2, 5000), (3, 4000), (2, 1000)], generation=0)
    assert await store.read(7, now_ms=0, generation=0) == [(2, 5000), (3, 4000), (1, 3000)]
    assert await store.read(8, now_ms=0, generation=0) is None
    await store.rebuild(7, [(9, 2000)], generation=0)  # replaces, never merges
    assert await store.read(7, now_ms=0, generation=0) == [(9, 2000)]
    await store.rebuild(7, [], generation=0)  # an empty tray is fresh, not missing
    assert await store.read(7, now_ms=0, generation=0) == []


async def test_expired_entries_are_never_returned(store: TrayStore) -> None:
    await store.rebuild(1, [(1, 1000), (2, 2000), (3, 3000)], generation=0)
    assert await store.read(1, now_ms=999, generation=0) == [(3, 3000), (2, 2000), (1, 1000)]
    assert await store.read(1, now_ms=2000, generation=0) == [(3, 3000)]  # score == now: gone
    assert await store.read(1, now_ms=3000, generation=0) == []
    await store.push(4, 2500, [1])  # pushed already expired: still not shown
    assert await store.read(1, now_ms=3000, generation=0) == []


async def test_push_keeps_the_higher_score(store: TrayStore) -> None:
    await store.rebuild(1, [(5, 3000), (6, 2500)], generation=0)
    await store.push(5, 2000, [1])  # an older story never lowers the score
    assert await store.read(1, now_ms=0, generation=0) == [(5, 3000), (6, 2500)]
    await store.push(6, 4000, [1])  # a newer one raises it
    await store.push(6, 4000, [1])  # idempotent
    assert await store.read(1, now_ms=0, generation=0) == [(6, 4000), (5, 3000)]


async def test_push_to_many_trays_in_one_call(store: TrayStore) -> None:
    readers = (1, 500, 1000)
    for user in readers:
        await store.rebuild(user, [(7, 1000)], generation=0)
    # A fan-out batch, with a repeated viewer (one upsert must not touch a row twice).
    await store.push(9, 5000, [*range(1, 1001), 500])
    await store.push(7, 6000, [1, 1000])
    assert await store.read(1, now_ms=0, generation=0) == [(7, 6000), (9, 5000)]
    assert await store.read(500, now_ms=0, generation=0) == [(9, 5000), (7, 1000)]
    assert await store.read(1000, now_ms=0, generation=0) == [(7, 6000), (9, 5000)]


async def test_cap_keeps_the_highest_scores(store: TrayStore) -> None:
    assert store.cap == CAP
    await store.rebuild(1, [(author, 1000 * author) for author in range(1, 9)], generation=0)
    top = [(author, 1000 * author) for author in range(8, 3, -1)]
    assert await store.read(1, now_ms=0, generation=0) == top
    await store.push(20, 20_000, [1])  # in at the top, the lowest falls out
    await store.push(21, 500, [1])  # below every kept score: not kept
    expected = [(20, 20_000), *top[:-1]]
    assert await store.read(1, now_ms=0, generation=0) == expected
    await store.trim(now_ms=0)  # whatever trim cuts, the same five remain
    assert await store.read(1, now_ms=0, generation=0) == expected


async def test_remove_takes_the_author_out_of_these_trays(store: TrayStore) -> None:
    for user in (1, 2, 3):
        await store.rebuild(user, [(5, 3000), (6, 2000)], generation=0)
    await store.remove(5, [1, 2, 4])
    await store.remove(99, [1])  # an author not there: nothing happens
    assert await store.read(1, now_ms=0, generation=0) == [(6, 2000)]
    assert await store.read(2, now_ms=0, generation=0) == [(6, 2000)]
    assert await store.read(3, now_ms=0, generation=0) == [(5, 3000), (6, 2000)]


async def test_generation_and_forget_make_it_stale(store: TrayStore) -> None:
    await store.rebuild(1, [(5, 3000)], generation=3)
    await store.rebuild(2, [(5, 3000)], generation=3)
    assert await store.read(1, now_ms=0, generation=3) == [(5, 3000)]
    assert await store.read(1, now_ms=0, generation=4) is None
    await store.forget(1)
    assert await store.read(1, now_ms=0, generation=3) is None
    assert await store.read(2, now_ms=0, generation=3) == [(5, 3000)]  # only that one


async def test_trim_drops_expired_entries(store: TrayStore) -> None:
    for user in (1, 2):
        await store.rebuild(user, [(1, 1000), (2, 2000), (3, 3000)], generation=0)
    removed = await store.trim(now_ms=2000)
    assert await store.read(1, now_ms=2000, generation=0) == [(3, 3000)]
    if isinstance(store, SqlTrayStore):
        assert removed == 4
        # Gone from the table, not only filtered out: an earlier now_ms no longer sees them.
        assert await store.read(2, now_ms=0, generation=0) == [(3, 3000)]
    else:
        assert removed == 0  # Redis drops them at read time and lets keys expire


async def test_freshness_slides_with_reads_then_lapses(make_store: StoreFactory) -> None:
    store = make_store(fresh_for=dt.timedelta(seconds=2))
    await store.rebuild(1, [(5, 3000)], generation=0)
    await asyncio.sleep(1.3)
    assert await store.read(1, now_ms=0, generation=0) == [(5, 3000)]
    await asyncio.sleep(1.3)  # past the first two seconds: fresh only because it was read
    assert await store.read(1, now_ms=0, generation=0) == [(5, 3000)]
    await asyncio.sleep(2.3)  # unread for longer than the window
    assert await store.read(1, now_ms=0, generation=0) is None


async def test_migration_matches_the_models(clean_runtime: Runtime) -> None:
    def differences(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})  # type: ignore[arg-type]
        return list(compare_metadata(context, models_registry.metadata()))

    async with clean_runtime.db.engine.connect() as conn:
        found = await conn.run_sync(differences)
    assert [diff for diff in found if "tray_" in repr(diff)] == []


async def test_redis_down_fails_fast_through_the_breaker() -> None:
    client = aioredis.Redis.from_url(
        "redis://127.0.0.1:1/0", socket_connect_timeout=0.5, socket_timeout=0.5
    )
    breaker = CircuitBreaker("redis", reset_after=60)
    store = RedisTrayStore(client, prefix="t:", fresh_for=DAY, breaker=breaker)
    try:
        with pytest.raises(TrayUnavailable):
            await store.read(1, now_ms=0, generation=0)
        assert breaker.is_open
        failures = breaker.failures
        calls: list[Callable[[], Awaitable[object]]] = [
            lambda: store.push(1, 5000, [1, 2]),
            lambda: store.rebuild(1, [(1, 5000)], generation=0),
            lambda: store.remove(1, [1]),
            lambda: store.forget(1),
        ]
        for call in calls:
            with pytest.raises(TrayUnavailable):
                await call()
        assert breaker.failures == failures  # refused without trying the connection
    finally:
        await client.aclose()
