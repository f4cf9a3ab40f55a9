"""IDs: unique, increasing, time-decodable, and never shared between shards."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from glint.infra import ids
from glint.infra.runtime import Runtime


def test_ids_increase_and_decode_to_now() -> None:
    generator = ids.IdGenerator(shard=7)
    before = dt.datetime.now(dt.UTC)
    values = [generator.next_id() for _ in range(5000)]
    after = dt.datetime.now(dt.UTC)
    assert values == sorted(values)
    assert len(set(values)) == len(values)
    assert all(0 < value < 2**63 for value in values)
    for value in (values[0], values[-1]):
        assert ids.shard_of(value) == 7
        stamp = ids.created_at(value)
        assert (
            before - dt.timedelta(milliseconds=2) <= stamp <= after + dt.timedelta(milliseconds=2)
        )


def test_sequence_overflow_waits_for_the_next_millisecond() -> None:
    generator = ids.IdGenerator(shard=0)
    values = [generator.next_id() for _ in range(ids.MAX_SEQUENCE * 3)]
    assert len(set(values)) == len(values)
    assert values == sorted(values)


def test_threads_never_share_an_id() -> None:
    generator = ids.IdGenerator(shard=1)
    results: list[list[int]] = [[] for _ in range(4)]

    def work(slot: int) -> None:
        results[slot].extend(generator.next_id() for _ in range(3000))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    merged = [value for chunk in results for value in chunk]
    assert len(set(merged)) == len(merged) == 12000


def test_two_shards_in_the_same_millisecond_differ() -> None:
    first, second = ids.IdGenerator(shard=1), ids.IdGenerator(shard=2)
    assert {first.next_id() for _ in range(2000)}.isdisjoint(
        {second.next_id() for _ in range(2000)}
    )


def test_min_id_at_bounds_ids_by_time() -> None:
    generator = ids.IdGenerator(shard=3)
    cut = dt.datetime.now(dt.UTC)
    later = generator.next_id()
    assert later >= ids.min_id_at(cut - dt.timedelta(milliseconds=1))
    assert ids.min_id_at(cut + dt.timedelta(days=1)) > later


@pytest.mark.parametrize("shard", [-1, ids.MAX_SHARD + 1])
def test_out_of_range_shards_are_refused(shard: int) -> None:
    with pytest.raises(ValueError, match="shard"):
        ids.IdGenerator(shard=shard)


async def test_runtime_allocates_a_valid_shard(runtime: Runtime) -> None:
    # Embedded: from the process; scale-out: a PostgreSQL sequence, so processes differ.
    assert 0 <= runtime.ids.shard <= ids.MAX_SHARD
    assert ids.shard_of(runtime.ids.next_id()) == runtime.ids.shard


async def test_each_process_start_gets_a_new_shard_from_the_database(
    clean_runtime: Runtime,
) -> None:
    if clean_runtime.db.is_sqlite:
        pytest.skip("SQLite: shards come from the process ID (one machine)")
    # Wiping every table and every Redis key (as each test does) never hands out a shard again.
    allocator = ids.SequenceShardAllocator(clean_runtime.db)
    starts = [await allocator.allocate() for _ in range(4)]
    assert len({*starts, clean_runtime.ids.shard}) == 5
