"""One contract for the stream event log, run against SQL (embedded) and Redis streams."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest

from glint.infra.eventlog import (
    EventLog,
    EventLogUnavailable,
    LogRead,
    RedisEventLog,
    SqlEventLog,
)
from glint.infra.ids import IdGenerator
from glint.infra.redis_client import connect
from glint.infra.runtime import Runtime
from tests.live import free_port

MakeLog = Callable[..., EventLog]


@pytest.fixture
def make_log(clean_runtime: Runtime) -> MakeLog:
    """Builds logs of the run mode with a chosen window and cap (and, for SQL, ID shard)."""
    prefix = f"{clean_runtime.settings.redis_prefix}t{uuid.uuid4().hex[:6]}:"

    def make(*, window: float = 600.0, cap: int = 100, shard: int | None = None) -> EventLog:
        if clean_runtime.redis is None:
            ids = clean_runtime.ids if shard is None else IdGenerator(shard)
            return SqlEventLog(clean_runtime.db, ids=ids, window=window, cap=cap)
        return RedisEventLog(clean_runtime.redis, prefix=prefix, window=window, cap=cap)

    return make


def payloads(result: LogRead) -> list[bytes]:
    """The payloads of a read, in order."""
    return [event.payload for event in result.events]


async def wait_until_gone(log: EventLog, user_id: int) -> None:
    """Trim (SQL) until the user's events have aged out; Redis expires them by itself."""
    async with asyncio.timeout(10):
        while (await log.read(user_id, None)).events:
            await log.trim()
            await asyncio.sleep(0.05)


def test_runtime_picks_the_mode_s_log(clean_runtime: Runtime) -> None:
    expected = RedisEventLog if clean_runtime.redis is not None else SqlEventLog
    assert isinstance(clean_runtime.eventlog, expected)


async def test_append_then_read_after_in_order(make_log: MakeLog) -> None:
    log = make_log()
    ids = [await log.append(1, b"e%d" % index) for index in range(5)]
    assert len(set(ids)) == 5
    everything = await log.read(1, None)
    assert [event.id for event in everything.events] == ids
    assert payloads(everything) == [b"e0", b"e1", b"e2", b"e3", b"e4"]
    assert not everything.gap
    assert payloads(await log.read(1, ids[1])) == [b"e2", b"e3", b"e4"]
    assert payloads(await log.read(1, ids[1], limit=2)) == [b"e2", b"e3"]
    assert await log.read(1, ids[4]) == LogRead()
    assert await log.read(2, None) == LogRead()  # users do not see each other's events


async def test_a_new_reader_starts_at_latest_and_misses_nothing(make_log: MakeLog) -> None:
    log = make_log()
    empty_start = await log.latest_id(1)
    assert await log.read(1, empty_start) == LogRead()
    first = await log.append(1, b"first")
    assert await log.latest_id(1) == first
    assert payloads(await log.read(1, empty_start)) == [b"first"]
    second = await log.append(1, b"second")
    assert payloads(await log.read(1, first)) == [b"second"]
    latest = await log.latest_ids([1, 2, 1])
    assert set(latest) == {1, 2}
    assert latest[1] == second
    assert payloads(await log.read(2, latest[2])) == []
    await log.append(2, b"for two")
    assert payloads(await log.read(2, latest[2])) == [b"for two"]
    assert await log.latest_ids([]) == {}


async def test_append_many_gives_each_user_an_id(make_log: MakeLog) -> None:
    log = make_log()
    await log.append(2, b"before")
    ids = await log.append_many([3, 2, 3], b"shared")
    assert set(ids) == {2, 3}
    assert payloads(await log.read(2, None)) == [b"before", b"shared"]
    assert [event.id for event in (await log.read(3, None)).events] == [ids[3]]
    assert await log.append_many([], b"nobody") == {}


async def test_concurrent_appends_are_read_in_id_order(make_log: MakeLog) -> None:
    log = make_log(cap=500)
    ids = await asyncio.gather(*(log.append(1, b"%d" % index) for index in range(40)))
    read = await log.read(1, None)
    assert sorted(payloads(read)) == sorted(b"%d" % index for index in range(40))
    assert sorted(event.id for event in read.events) == sorted(ids)
    # Reading on from any ID returns exactly the events after it, in the same order.
    middle = read.events[19].id
    assert (await log.read(1, middle)).events == read.events[20:]


async def test_ids_increase_per_user_whichever_process_appends(
    clean_runtime: Runtime, make_log: MakeLog
) -> None:
    # Two processes with their own ID shards (a high shard's IDs sort after a low one's in
    # the same millisecond) take turns: the user's order is still the order of appending.
    first, second = make_log(shard=8000), make_log(shard=1)
    appended = []
    for index in range(20):
        log = first if index % 2 == 0 else second
        appended.append(await log.append(1, b"%d" % index))
    read = await first.read(1, None)
    assert payloads(read) == [b"%d" % index for index in range(20)]
    assert [event.id for event in read.events] == appended


async def test_the_cap_keeps_the_newest_and_older_readers_resync(make_log: MakeLog) -> None:
    log = make_log(cap=10)
    ids = [await log.append(1, b"%d" % index) for index in range(15)]
    kept = await log.read(1, None)
    assert payloads(kept) == [b"%d" % index for index in range(5, 15)]
    assert (await log.read(1, ids[2])).gap  # events 3 and 4 are gone
    assert (await log.read(1, ids[2])).events == ()
    assert payloads(await log.read(1, ids[5])) == [b"%d" % index for index in range(6, 15)]
    assert not (await log.read(1, ids[14])).gap


@pytest.mark.parametrize(
    "after",
    [
        "",
        "abc",
        "-1",
        "1-",
        "1-2-3",
        "0x10",
        " 1",
        "1.5",
        "9" * 30,
        "9" * 30 + "-0",
        "18446744073709551616-0",
        "x" * 10_000,
        "١٢٣",  # digits, but not ASCII ones
    ],
)
async def test_garbage_after_is_a_gap_never_an_error(make_log: MakeLog, after: str) -> None:
    log = make_log()
    await log.append(1, b"x")
    assert await log.read(1, after) == LogRead(gap=True)
    assert await log.read(2, after) == LogRead(gap=True)


async def test_an_id_from_the_future_is_a_gap(make_log: MakeLog) -> None:
    log = make_log()
    latest = await log.append(1, b"x")
    future = str(int(latest) + 10**12) if latest.isdigit() else f"{10**15}-0"
    assert (await log.read(1, future)).gap


async def test_aged_out_events_resync_but_never_leave_a_hole(make_log: MakeLog) -> None:
    log = make_log(window=0.3)
    old = await log.append(1, b"old")
    start_of_old = await log.latest_id(2)
    await wait_until_gone(log, 1)
    assert (await log.read(1, None)).events == ()
    fresh_start = await log.latest_id(1)
    new = await log.append(1, b"new")
    # Reading on from the aged-out event: exactly the new one, or a resync; never nothing.
    after_old = await log.read(1, old)
    assert after_old.gap or payloads(after_old) == [b"new"]
    assert payloads(await log.read(1, fresh_start)) == [b"new"]
    assert payloads(await log.read(1, new)) == []
    assert (await log.read(2, start_of_old)).events == ()


async def test_trim_drops_only_what_is_older_than_the_window(make_log: MakeLog) -> None:
    log = make_log(window=600)
    ids = [await log.append(1, b"%d" % index) for index in range(3)]
    await log.trim()
    assert payloads(await log.read(1, ids[0])) == [b"1", b"2"]


async def test_dead_redis_is_unavailable_fast() -> None:
    client = connect(f"redis://127.0.0.1:{free_port()}/0")
    log = RedisEventLog(client, prefix="x:", window=60, cap=10)
    try:
        async with asyncio.timeout(10):
            with pytest.raises(EventLogUnavailable):
                await log.append(1, b"x")
            with pytest.raises(EventLogUnavailable):
                await log.read(1, None)
            with pytest.raises(EventLogUnavailable):
                await log.latest_id(1)
    finally:
        await client.aclose()
