"""Crash recovery of the job table on both databases: heartbeat leases, take-overs of lapsed
leases, poison jobs, re-queueing a dead process's jobs at start, periodic leases.

A worker "dies" here by being abandoned: its claim is never run and its lease is moved into
the past (what a kill -9 leaves behind). Real kills of real processes are in
tests/posts/test_crash_recovery.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from glint.config import Settings
from glint.infra import leases, queue
from glint.infra import runtime as runtime_mod
from glint.infra.db import utcnow
from glint.infra.periodic import PeriodicLease
from glint.infra.queue import Job, JobContext, PeriodicTask, registry
from glint.infra.queue_workers import PeriodicRunner, TableJobQueue
from glint.infra.runtime import Runtime
from tests.factories import images
from tests.factories.accounts import register
from tests.infra.test_queue import RUNS, _enqueue, _job, paused  # noqa: F401 (a fixture)
from tests.live import ROOT


@dataclasses.dataclass
class SlowJob:
    """What the slow test job did: it runs until its gate opens."""

    gate: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    started: list[int] = dataclasses.field(default_factory=list)
    finished: list[int] = dataclasses.field(default_factory=list)
    cancelled: list[int] = dataclasses.field(default_factory=list)

    def reset(self) -> None:
        """Forget the last test's runs; a closed gate."""
        self.gate = asyncio.Event()
        for runs in (self.started, self.finished, self.cancelled):
            runs.clear()


SLOW = SlowJob()
POISON_DEAD: list[str] = []


@registry.job("test.slow", max_attempts=3)
async def _slow(ctx: JobContext) -> None:
    SLOW.started.append(ctx.attempt)
    try:
        await SLOW.gate.wait()
    except asyncio.CancelledError:
        SLOW.cancelled.append(ctx.attempt)
        raise
    SLOW.finished.append(ctx.attempt)


async def _record_poison(ctx: JobContext, error: str) -> None:
    POISON_DEAD.append(error)


@registry.job("test.poison", max_attempts=3, on_dead=_record_poison)
async def _poison(ctx: JobContext) -> None:
    RUNS.append(("poison", ctx.attempt, ctx.payload))


@pytest.fixture
def slow() -> Iterator[SlowJob]:
    """A fresh record of the slow job; its gate opens at the end so nothing is left waiting."""
    SLOW.reset()
    yield SLOW
    SLOW.gate.set()


@pytest.fixture
def undelivered(paused: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:  # noqa: F811
    """The paused runtime, its deliveries dropped: no worker anywhere takes the test's jobs."""

    async def dispatch(job_ids: Sequence[int]) -> None:
        return None

    monkeypatch.setattr(paused.jobs, "dispatch", dispatch)
    return paused


@pytest.fixture
async def second_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """Another process's runtime on the same database (another `glint serve` or scheduler)."""
    other = await runtime_mod.start(settings)
    yield other
    await other.close()


def _with_lease(rt: Runtime, seconds: float) -> Runtime:
    """The runtime with another lease length (run_claimed renews by the runtime's setting)."""
    return dataclasses.replace(
        rt, settings=rt.settings.model_copy(update={"job_lease_seconds": seconds})
    )


async def _until(check: Callable[[], Any], *, within: float = 30.0) -> None:
    """Poll until check() is truthy (awaiting it if it is a coroutine), or fail."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def _abandon(rt: Runtime, job_id: int) -> None:
    """What a killed worker leaves: a running job whose lease nobody renews any more."""
    async with rt.db.session() as session:
        await session.execute(
            sa.update(Job)
            .where(Job.id == job_id)
            .values(locked_until=utcnow() - dt.timedelta(seconds=1))
        )
        await session.commit()


def _holder_of_a_process(*, keep_alive: bool) -> tuple[str, subprocess.Popen[str]]:
    """The `locked_by` a fresh Python process would write; alive until its stdin closes."""
    code = (
        "import sys\nfrom glint.infra.leases import new_holder\n"
        "print(new_holder(), flush=True)\n" + ("sys.stdin.read()\n" if keep_alive else "")
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    holder = process.stdout.readline().strip()
    if not keep_alive:
        process.wait(timeout=30)
    return holder, process


async def _running_job(rt: Runtime, *, locked_by: str, name: str = "test.ok") -> int:
    """A job some process claimed: running, its lease still minutes long."""
    now = utcnow()
    job_id = rt.ids.next_id()
    async with rt.db.session() as session:
        session.add(
            Job(
                id=job_id,
                name=name,
                payload={},
                status="running",
                attempts=1,
                max_attempts=3,
                lost_leases=0,
                run_after=now,
                locked_until=now + dt.timedelta(seconds=300),
                locked_by=locked_by,
                created_at=now,
            )
        )
        await session.commit()
    return job_id


# --- heartbeats --------------------------------------------------------------------------------


async def test_a_renewed_lease_keeps_a_long_job_from_being_handed_out_twice(
    paused: Runtime,  # noqa: F811
    slow: SlowJob,
) -> None:
    rt = _with_lease(paused, 1.0)
    job_id = await _enqueue(rt, "test.slow", {})
    job = await queue.claim(rt.db, lease_seconds=1.0)
    assert job is not None and job.locked_until is not None
    first_lease_end = job.locked_until
    running = asyncio.create_task(queue.run_claimed(rt, job))
    await _until(lambda: slow.started)
    # Outlive the first lease three times over: every way of finding work finds it held.
    while utcnow() < first_lease_end + dt.timedelta(seconds=3):
        assert await queue.claim(rt.db, lease_seconds=1.0) is None
        assert await queue.claim(rt.db, lease_seconds=1.0, job_id=job_id) is None
        assert job_id not in await queue.sweep(rt.db)
        stored = await _job(rt, job_id)
        assert (stored.status, stored.locked_by) == ("running", job.locked_by)
        await asyncio.sleep(0.1)
    stored = await _job(rt, job_id)
    assert stored.locked_until is not None and stored.locked_until > first_lease_end
    slow.gate.set()
    assert await asyncio.wait_for(running, 30) == "done"
    assert slow.started == [1] and slow.finished == [1]
    assert (await _job(rt, job_id)).lost_leases == 0


async def test_a_lapsed_lease_is_taken_over_by_id_and_the_old_run_stops(
    paused: Runtime,  # noqa: F811
    slow: SlowJob,
) -> None:
    rt = _with_lease(paused, 3.0)
    job_id = await _enqueue(rt, "test.slow", {})
    old = await queue.claim(rt.db, lease_seconds=3.0)
    assert old is not None
    running = asyncio.create_task(queue.run_claimed(rt, old))
    await _until(lambda: slow.started)
    # The old worker hangs past its lease; a redelivered message reaches another worker.
    taken = None
    while taken is None:  # the old worker may renew between the two: then try again
        await _abandon(rt, job_id)
        taken = await queue.claim(rt.db, lease_seconds=30, job_id=job_id)
    assert (taken.attempts, taken.lost_leases) == (2, 1)
    assert taken.locked_by != old.locked_by and taken.last_error == queue.LEASE_LAPSED
    # The old run's next heartbeat finds the job someone else's: it stops and writes nothing.
    assert await asyncio.wait_for(running, 30) == "lost"
    assert slow.cancelled == [1] and slow.finished == []
    stored = await _job(rt, job_id)
    assert (stored.status, stored.locked_by) == ("running", taken.locked_by)
    slow.gate.set()
    assert await queue.run_claimed(rt, taken) == "done"
    assert slow.finished == [2]


async def test_a_live_lease_says_when_it_ends(paused: Runtime) -> None:  # noqa: F811
    job_id = await _enqueue(paused, "test.ok", {})
    job = await queue.claim(paused.db, lease_seconds=30)
    assert job is not None
    # A redelivered message comes back when the lease would end, not never.
    assert await queue.next_claimable_at(paused.db, job_id) == job.locked_until
    await _abandon(paused, job_id)
    assert await queue.next_claimable_at(paused.db, job_id) is None  # claimable right now
    again = await queue.claim(paused.db, lease_seconds=30, job_id=job_id)
    assert again is not None and again.attempts == 2


# --- poison jobs -------------------------------------------------------------------------------


async def test_a_job_that_kills_its_worker_every_time_is_dead_lettered(
    paused: Runtime,  # noqa: F811
) -> None:
    POISON_DEAD.clear()
    job_id = await _enqueue(paused, "test.poison", {})
    dead_holder, _ = _holder_of_a_process(keep_alive=False)
    # Attempt 1 dies; the sweep finds it.
    assert await queue.claim(paused.db, lease_seconds=30) is not None
    await _abandon(paused, job_id)
    assert job_id in await queue.sweep(paused.db)
    # Attempt 2's process dies; the restarted server finds it as it starts.
    assert await queue.claim(paused.db, lease_seconds=30, job_id=job_id) is not None
    async with paused.db.session() as session:
        await session.execute(sa.update(Job).where(Job.id == job_id).values(locked_by=dead_holder))
        await session.commit()
    assert await queue.requeue_orphans(paused.db) == [job_id]
    # Attempt 3 dies; its redelivered message finds the lapsed lease.
    third = await queue.claim(paused.db, lease_seconds=30, job_id=job_id)
    assert third is not None and (third.attempts, third.lost_leases) == (3, 2)
    await _abandon(paused, job_id)
    last = await queue.claim(paused.db, lease_seconds=30, job_id=job_id)
    assert last is not None and (last.attempts, last.lost_leases) == (4, 3)
    # Past its last attempt: dead-lettered with the reason, its hook run, the handler never.
    assert await queue.run_claimed(paused, last) == "dead"
    stored = await _job(paused, job_id)
    reason = "worker died 3 times while running this job (3 attempts)"
    assert (stored.status, stored.last_error, stored.locked_by) == ("dead", reason, None)
    assert stored.finished_at is not None
    assert [reason] == POISON_DEAD
    assert not RUNS
    assert await queue.claim(paused.db, lease_seconds=30, job_id=job_id) is None
    assert job_id not in await queue.sweep(paused.db)


async def test_a_post_whose_processing_keeps_killing_workers_fails_with_the_reason(
    undelivered: Runtime, client: httpx.AsyncClient
) -> None:
    user = await register(client)
    photo = images.jpeg(64, 48)
    response = await client.post(
        "/posts", files=[("image", ("p.jpg", photo, "image/jpeg"))], headers=user.auth
    )
    assert response.status_code == 202, response.text
    post_id = response.json()["id"]
    async with undelivered.db.session() as session:
        # The processing job ("posts.process", subscribed to post.created in glint.wiring).
        processing = Job.name.like("%posts.process")
        jobs = (await session.scalars(sa.select(Job).where(processing))).all()
    [job_id] = [job.id for job in jobs if str(job.payload.get("post_id")) == post_id]
    # Every worker that takes the photo dies (a decoder crash, the OOM killer, ...).
    job = await queue.claim(undelivered.db, lease_seconds=30, job_id=job_id, early=True)
    while job is not None and job.attempts <= job.max_attempts:
        await _abandon(undelivered, job_id)
        job = await queue.claim(undelivered.db, lease_seconds=30, job_id=job_id)
    assert job is not None and job.attempts == 6
    assert await queue.run_claimed(undelivered, job) == "dead"
    post = (await client.get(f"/posts/{post_id}", headers=user.auth)).json()
    assert post["status"] == "failed"
    assert "worker died 5 times while running this job" in post["failure_reason"]


# --- a restarted embedded server -----------------------------------------------------------------


async def test_requeue_on_start_takes_dead_holders_and_skips_live_ones(
    paused: Runtime,  # noqa: F811
) -> None:
    me = leases.process_identity()
    dead_holder, _ = _holder_of_a_process(keep_alive=False)
    live_holder, live = _holder_of_a_process(keep_alive=True)
    try:
        holders = {
            "dead": dead_holder,
            "live": live_holder,
            "mine": leases.new_holder(),
            "elsewhere": "other-host.example:4242:1.2.3:abcd",
        }
        if not me.token.startswith("r"):  # Linux: a reused pid is told apart by its start time
            namespace, boot, _ = me.token.split(".")
            holders["reused"] = f"{me.host}:{me.pid}:{namespace}.{boot}.1:abcd"
        ids = {kind: await _running_job(paused, locked_by=h) for kind, h in holders.items()}
        expected = {ids["dead"]} | ({ids["reused"]} if "reused" in ids else set())
        assert set(await queue.requeue_orphans(paused.db)) == expected
        for kind, job_id in ids.items():
            stored = await _job(paused, job_id)
            if job_id in expected:
                assert (stored.status, stored.locked_by, stored.lost_leases) == ("queued", None, 1)
                assert stored.last_error and "died" in stored.last_error
            else:
                assert (stored.status, stored.locked_by) == ("running", holders[kind]), kind
        assert await queue.requeue_orphans(paused.db) == []
    finally:
        live.communicate()


async def test_an_embedded_worker_starting_runs_what_a_dead_process_held(
    undelivered: Runtime,
) -> None:
    dead_holder, _ = _holder_of_a_process(keep_alive=False)
    live_holder, live = _holder_of_a_process(keep_alive=True)
    worker = TableJobQueue(ids=undelivered.ids, concurrency=2)
    worker.bind(undelivered)
    try:
        orphan = await _running_job(undelivered, locked_by=dead_holder)
        held = await _running_job(undelivered, locked_by=live_holder)
        await worker.start()

        async def orphan_done() -> bool:
            return (await _job(undelivered, orphan)).status == "done"

        await _until(orphan_done)  # at once, not after its five-minute lease
        assert RUNS == [("ok", 2, {})]
        stored = await _job(undelivered, held)
        assert (stored.status, stored.locked_by) == ("running", live_holder)
    finally:
        await worker.stop()
        live.communicate()


# --- periodic tasks ------------------------------------------------------------------------------


@dataclasses.dataclass
class Ticks:
    """What a periodic test task saw: each run's start as the database recorded it."""

    name: str
    starts: list[tuple[int, dt.datetime]] = dataclasses.field(default_factory=list)
    active: int = 0
    most_at_once: int = 0
    gate: asyncio.Event | None = None

    async def __call__(self, rt: Runtime) -> None:
        self.active += 1
        self.most_at_once = max(self.most_at_once, self.active)
        try:
            async with rt.db.session() as session:
                started = await session.scalar(
                    sa.select(PeriodicLease.last_run_at).where(PeriodicLease.name == self.name)
                )
            assert started is not None
            self.starts.append((id(rt), started))
            if self.gate is not None:
                await self.gate.wait()
        finally:
            self.active -= 1


async def test_two_processes_run_a_periodic_task_once_per_interval(
    paused: Runtime,  # noqa: F811
    second_runtime: Runtime,
) -> None:
    ticks = Ticks("test.hourly")
    tasks = {ticks.name: PeriodicTask(ticks.name, 3600.0, ticks)}

    async def both_try() -> list[str]:
        runners = (PeriodicRunner(paused, tasks), PeriodicRunner(second_runtime, tasks))
        ran = await asyncio.gather(*(runner.run_due() for runner in runners))
        return [name for names in ran for name in names]

    assert await both_try() == [ticks.name]  # both due, one wins
    assert await both_try() == []  # restarted processes too: the database remembers
    async with paused.db.session() as session:  # an hour passes
        lease = await session.get(PeriodicLease, ticks.name)
        assert lease is not None and lease.last_run_at is not None
        lease.last_run_at -= dt.timedelta(hours=1)
        await session.commit()
    assert await both_try() == [ticks.name]
    assert len(ticks.starts) == 2 and ticks.most_at_once == 1


async def test_a_periodic_run_longer_than_its_lease_is_not_started_twice(
    paused: Runtime,  # noqa: F811
    second_runtime: Runtime,
) -> None:
    gate = asyncio.Event()
    ticks = Ticks("test.long", gate=gate)
    tasks = {ticks.name: PeriodicTask(ticks.name, 0.01, ticks)}
    first = _with_lease(paused, 1.0)
    running = asyncio.create_task(PeriodicRunner(first, tasks).run_due())
    await _until(lambda: ticks.starts)
    lease_end = ticks.starts[0][1] + dt.timedelta(seconds=1)
    # Due again at once, but held: renewed past its first lease, nobody else starts it.
    while utcnow() < lease_end + dt.timedelta(seconds=2):
        # (A second copy would wait at the gate: time out rather than hang.)
        assert await asyncio.wait_for(PeriodicRunner(second_runtime, tasks).run_due(), 10) == []
        await asyncio.sleep(0.1)
    gate.set()
    assert await asyncio.wait_for(running, 30) == [ticks.name]
    assert await PeriodicRunner(second_runtime, tasks).run_due() == [ticks.name]
    assert ticks.most_at_once == 1


async def test_two_periodic_loops_share_the_runs(
    paused: Runtime,  # noqa: F811
    second_runtime: Runtime,
) -> None:
    every = 0.3
    ticks = Ticks("test.often")
    tasks = {ticks.name: PeriodicTask(ticks.name, every, ticks)}
    stop = asyncio.Event()
    loops = [
        asyncio.create_task(PeriodicRunner(rt, tasks).run_forever(stop))
        for rt in (paused, second_runtime)
    ]
    try:
        await _until(lambda: len(ticks.starts) >= 8)
    finally:
        stop.set()
        await asyncio.gather(*loops)
    starts = sorted(started for _, started in ticks.starts)
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(starts)]
    assert min(gaps) >= every  # never twice in one interval, whichever process ran it
    assert ticks.most_at_once == 1
