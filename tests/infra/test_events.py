"""The outbox: an event's subscriber jobs commit with the change, or not at all; prompt
subscribers run before Runtime.commit returns; the bus refuses to emit before it is wired."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from glint.infra import events as events_mod
from glint.infra import queue
from glint.infra.db import utcnow
from glint.infra.events import Event, bus
from glint.infra.queue import Job, JobContext
from glint.infra.runtime import Runtime


@dataclass(frozen=True, slots=True)
class Pinged(Event):
    """A test event with one background and one prompt subscriber."""

    name = "test.pinged"
    target: int
    note: str


@dataclass(frozen=True, slots=True)
class Nudged(Event):
    """A test event with only a prompt subscriber (nothing for a worker to pick up)."""

    name = "test.nudged"
    target: int


SEEN: list[tuple[str, int]] = []


async def _remember(ctx: JobContext, event: Pinged | Nudged) -> None:
    SEEN.append((ctx.name, event.target))


bus.subscribe(Pinged, _remember, name="test.background")
bus.subscribe(Pinged, _remember, name="test.prompt", prompt=True)
bus.subscribe(Nudged, _remember, name="test.prompt", prompt=True)


async def _jobs(rt: Runtime, prefix: str) -> list[Job]:
    async with rt.db.session() as session:
        rows = await session.scalars(
            sa.select(Job).where(Job.name.like(f"{prefix}:%")).order_by(Job.name)
        )
        return list(rows)


async def _forget_test_jobs(rt: Runtime) -> None:
    async with rt.db.session() as session:
        await session.execute(sa.delete(Job).where(Job.name.like("test.%")))
        await session.commit()


async def test_a_rolled_back_change_leaves_no_consequence(clean_runtime: Runtime) -> None:
    async with clean_runtime.db.session() as session:
        await bus.emit(session, ids=clean_runtime.ids, event=Pinged(target=1, note="x"))
        await session.flush()  # the rows are written in the transaction, then rolled back
        await session.rollback()
    assert await _jobs(clean_runtime, Pinged.name) == []


async def test_an_event_writes_one_job_per_subscriber_in_the_same_transaction(
    clean_runtime: Runtime,
) -> None:
    before = utcnow()
    async with clean_runtime.db.session() as session:
        event_id = await bus.emit(
            session, ids=clean_runtime.ids, event=Pinged(target=7, note="hello")
        )
        await session.flush()
        # Nothing is visible to anyone else before the change commits.
        async with clean_runtime.db.session() as other:
            assert await other.scalar(sa.select(sa.func.count()).select_from(Job)) == 0
        await session.commit()  # a plain commit: as if the process died right after it
    try:
        rows = await _jobs(clean_runtime, Pinged.name)
        assert [row.name for row in rows] == [
            "test.pinged:test.background",
            "test.pinged:test.prompt",
        ]
        for row in rows:
            assert row.payload == {"event_id": event_id, "target": 7, "note": "hello"}
        background, prompt = rows
        assert background.run_after <= utcnow()
        # The prompt one waits out the grace period before a worker may take it over.
        grace = dt.timedelta(seconds=events_mod.PROMPT_GRACE_SECONDS - 1)
        assert prompt.run_after >= before + grace
    finally:
        await _forget_test_jobs(clean_runtime)


async def test_commit_runs_prompt_subscribers_before_it_returns(clean_runtime: Runtime) -> None:
    SEEN.clear()
    async with clean_runtime.db.session() as session:
        await bus.emit(session, ids=clean_runtime.ids, event=Nudged(target=42))
        await clean_runtime.commit(session)
    assert SEEN == [("test.nudged:test.prompt", 42)]
    (job,) = await _jobs(clean_runtime, Nudged.name)
    assert job.status == "done"
    assert events_mod.take_pending(session) == ([], [])  # delivered once, not again
    await _forget_test_jobs(clean_runtime)


async def test_a_prompt_job_left_behind_is_taken_over_by_a_worker(clean_runtime: Runtime) -> None:
    SEEN.clear()
    async with clean_runtime.db.session() as session:
        await bus.emit(session, ids=clean_runtime.ids, event=Nudged(target=5))
        await session.commit()  # the committing process dies before running it
    (job,) = await _jobs(clean_runtime, Nudged.name)
    claimed = await queue.claim(clean_runtime.db, lease_seconds=30, job_id=job.id, early=True)
    assert claimed is not None
    assert await queue.run_claimed(clean_runtime, claimed) == "done"
    assert SEEN == [("test.nudged:test.prompt", 5)]
    await _forget_test_jobs(clean_runtime)


async def test_an_unwired_bus_refuses_to_emit(clean_runtime: Runtime) -> None:
    unwired = events_mod.EventBus(queue.registry)
    async with clean_runtime.db.session() as session:
        with pytest.raises(RuntimeError, match="wiring"):
            await unwired.emit(session, ids=clean_runtime.ids, event=Nudged(target=1))


def test_two_event_types_may_not_share_a_name() -> None:
    @dataclass(frozen=True, slots=True)
    class Impostor(Event):
        name = "test.pinged"
        target: int

    with pytest.raises(ValueError, match=r"test\.pinged"):
        bus.subscribe(Impostor, _remember, name="test.other")


def test_an_event_round_trips_through_its_payload() -> None:
    event = Pinged(target=3, note="n")
    assert Pinged.from_payload({"event_id": 99, **event.to_payload()}) == event
