"""The job table's contract on both databases: outbox, claims, retries, dead letters, sweeps.

Delivery itself (the in-process worker, Dramatiq over RabbitMQ with a real `glint worker`) is
exercised by every posts and notifications test and by the SIGKILL tests; leases, heartbeats,
poison jobs and periodic leases by test_queue_recovery.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from glint.infra import leases, queue
from glint.infra.db import utcnow
from glint.infra.queue import Job, JobContext, registry
from glint.infra.runtime import Runtime
from tests.accounts.test_auth_api import assert_error
from tests.conftest import base_settings

RUNS: list[tuple[str, int, dict[str, Any]]] = []
DEAD: list[str] = []


@registry.job("test.ok", max_attempts=3)
async def _ok(ctx: JobContext) -> None:
    RUNS.append(("ok", ctx.attempt, ctx.payload))


@registry.job("test.flaky", max_attempts=3)
async def _flaky(ctx: JobContext) -> None:
    RUNS.append(("flaky", ctx.attempt, ctx.payload))
    if ctx.attempt < int(ctx.payload["succeed_on"]):
        raise RuntimeError(f"attempt {ctx.attempt} fails")


async def _record_dead(ctx: JobContext, error: str) -> None:
    DEAD.append(error)


@registry.job("test.broken", max_attempts=2, on_dead=_record_dead)
async def _broken(ctx: JobContext) -> None:
    raise ValueError("always broken")


@pytest.fixture
async def paused(clean_runtime: Runtime) -> AsyncIterator[Runtime]:
    """The runtime with its in-process worker stopped, so the test alone claims jobs."""
    await clean_runtime.jobs.stop()
    RUNS.clear()
    DEAD.clear()
    yield clean_runtime
    # Leftover test jobs are nobody's to run: clear them before the worker comes back.
    async with clean_runtime.db.session() as session:
        await session.execute(sa.delete(Job))
        await session.commit()
    await clean_runtime.jobs.start()


async def _enqueue(rt: Runtime, name: str, payload: dict[str, Any], **kwargs: Any) -> int:
    async with rt.db.session() as session:
        job_id = await rt.jobs.enqueue(session, name=name, payload=payload, **kwargs)
        await session.commit()
    return job_id


async def _job(rt: Runtime, job_id: int) -> Job:
    async with rt.db.session() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    return job


async def _make_due(rt: Runtime, job_id: int) -> None:
    async with rt.db.session() as session:
        await session.execute(sa.update(Job).where(Job.id == job_id).values(run_after=utcnow()))
        await session.commit()


async def test_a_job_runs_once_and_is_done(paused: Runtime) -> None:
    job_id = await _enqueue(paused, "test.ok", {"n": 1})
    job = await queue.claim(paused.db, lease_seconds=30)
    assert job is not None and job.id == job_id and job.attempts == 1
    assert await queue.claim(paused.db, lease_seconds=30) is None  # leased: nobody else
    assert await queue.run_claimed(paused, job) == "done"
    assert RUNS == [("ok", 1, {"n": 1})]
    assert (await _job(paused, job_id)).status == "done"
    assert await queue.claim(paused.db, lease_seconds=30, job_id=job_id) is None  # never again


async def test_a_rolled_back_transaction_leaves_no_job(paused: Runtime) -> None:
    async with paused.db.session() as session:
        await paused.jobs.enqueue(session, name="test.ok", payload={})
        await session.rollback()
    assert await queue.claim(paused.db, lease_seconds=30) is None


async def test_dedupe_key_gives_one_job(paused: Runtime) -> None:
    first = await _enqueue(paused, "test.ok", {}, dedupe_key="same")
    second = await _enqueue(paused, "test.ok", {}, dedupe_key="same")
    assert first == second
    async with paused.db.session() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Job)) == 1


async def test_failures_retry_with_growing_delays_then_succeed(paused: Runtime) -> None:
    job_id = await _enqueue(paused, "test.flaky", {"succeed_on": 3})
    delays = []
    for expected in ("retry", "retry", "done"):
        job = await queue.claim(paused.db, lease_seconds=30)
        assert job is not None
        before = utcnow()
        assert await queue.run_claimed(paused, job) == expected
        stored = await _job(paused, job_id)
        if expected == "retry":
            assert stored.status == "queued" and "attempt" in (stored.last_error or "")
            delays.append((stored.run_after - before).total_seconds())
            assert await queue.claim(paused.db, lease_seconds=30) is None  # not due yet
            await _make_due(paused, job_id)
    assert delays[1] > delays[0] > 0
    assert [attempt for _, attempt, _ in RUNS] == [1, 2, 3]


async def test_the_last_failure_is_dead_and_retry_revives_it(
    paused: Runtime, client: httpx.AsyncClient
) -> None:
    job_id = await _enqueue(paused, "test.broken", {})
    for expected in ("retry", "dead"):
        job = await queue.claim(paused.db, lease_seconds=30)
        assert job is not None
        assert await queue.run_claimed(paused, job) == expected
        await _make_due(paused, job_id)
    stored = await _job(paused, job_id)
    assert stored.status == "dead"
    assert stored.last_error == "ValueError: always broken"
    assert DEAD == ["ValueError: always broken"]
    async with paused.db.session() as session:
        revived = await queue.retry_job(session, job_id=job_id)
        await session.commit()
    assert revived is not None and revived.status == "queued" and revived.attempts == 0
    assert await queue.claim(paused.db, lease_seconds=30) is not None


async def test_a_lost_worker_is_swept(paused: Runtime) -> None:
    job_id = await _enqueue(paused, "test.ok", {})
    job = await queue.claim(paused.db, lease_seconds=30)
    assert job is not None
    # The worker dies here. Until the lease runs out, nothing happens...
    assert job_id not in await queue.sweep(paused.db)
    async with paused.db.session() as session:
        await session.execute(
            sa.update(Job)
            .where(Job.id == job_id)
            .values(locked_until=utcnow() - dt.timedelta(seconds=1))
        )
        await session.commit()
    # ...then the sweep hands it out again, counting the loss, and it runs to completion.
    assert job_id in await queue.sweep(paused.db)
    swept = await _job(paused, job_id)
    assert (swept.status, swept.lost_leases, swept.locked_by) == ("queued", 1, None)
    assert swept.last_error == queue.LEASE_LAPSED
    again = await queue.claim(paused.db, lease_seconds=30)
    assert again is not None and again.attempts == 2 and again.locked_by != job.locked_by
    assert await queue.run_claimed(paused, again) == "done"
    assert (await _job(paused, job_id)).locked_by is None


async def test_concurrent_claimers_never_share_a_job(paused: Runtime) -> None:
    ids = {await _enqueue(paused, "test.ok", {"i": i}) for i in range(40)}
    claimed: list[int] = []

    async def claimer() -> None:
        while (job := await queue.claim(paused.db, lease_seconds=30)) is not None:
            claimed.append(job.id)
            await queue.run_claimed(paused, job)

    await asyncio.gather(*(claimer() for _ in range(4)))
    assert sorted(claimed) == sorted(ids)
    assert len(RUNS) == 40


async def test_a_claim_records_its_holder(paused: Runtime) -> None:
    await _enqueue(paused, "test.ok", {})
    first = await queue.claim(paused.db, lease_seconds=30)
    await _enqueue(paused, "test.ok", {})
    second = await queue.claim(paused.db, lease_seconds=30)
    assert first is not None and second is not None
    me = leases.process_identity()
    for job in (first, second):
        assert job.locked_by is not None and job.locked_by.startswith(f"{me.holder}:")
        assert not leases.holder_is_dead(job.locked_by)
    assert first.locked_by != second.locked_by  # each claim is told apart, even in one process


async def test_an_early_claim_takes_a_job_before_its_time(paused: Runtime) -> None:
    job_id = await _enqueue(paused, "test.ok", {}, delay=60)
    assert await queue.claim(paused.db, lease_seconds=30) is None
    assert await queue.claim(paused.db, lease_seconds=30, job_id=job_id) is None
    when = await queue.next_claimable_at(paused.db, job_id)
    assert when is not None and when > utcnow() + dt.timedelta(seconds=50)
    job = await queue.claim(paused.db, lease_seconds=30, job_id=job_id, early=True)
    assert job is not None and job.id == job_id and job.status == "running"
    assert await queue.claim(paused.db, lease_seconds=30, job_id=job_id, early=True) is None
    assert await queue.run_claimed(paused, job) == "done"
    assert await queue.next_claimable_at(paused.db, job_id) is None  # done: nothing to wait for
    with pytest.raises(ValueError, match="name their job"):
        await queue.claim(paused.db, lease_seconds=30, early=True)


async def test_old_done_jobs_are_purged(paused: Runtime) -> None:
    old, recent, waiting = [await _enqueue(paused, "test.ok", {"i": i}) for i in range(3)]
    for job_id in (old, recent):
        job = await queue.claim(paused.db, lease_seconds=30, job_id=job_id)
        assert job is not None and await queue.run_claimed(paused, job) == "done"
    two_days_ago = utcnow() - dt.timedelta(days=2)
    async with paused.db.session() as session:
        await session.execute(
            sa.update(Job)
            .where(Job.id == old)
            .values(run_after=two_days_ago, finished_at=two_days_ago)
        )
        await session.commit()
    assert await queue.purge_done(paused.db, older_than=86400, batch=1) == 1
    async with paused.db.session() as session:
        left = set(await session.scalars(sa.select(Job.id)))
    assert left == {recent, waiting}


def test_job_settings_refuse_bad_values(tmp_path: Path) -> None:
    for field, value in [
        ("job_lease_seconds", 0),
        ("job_lease_seconds", 0.5),
        ("job_lease_seconds", 7200),
        ("job_done_retention_seconds", 10),
        ("job_concurrency", 0),
        ("job_backoff_seconds", -1),
    ]:
        with pytest.raises(ValidationError, match=field):
            base_settings(tmp_path, **{field: value})
    assert base_settings(tmp_path).job_lease_seconds == 30


async def test_unknown_jobs_cannot_be_enqueued(paused: Runtime) -> None:
    async with paused.db.session() as session:
        with pytest.raises(ValueError, match="unknown job"):
            await paused.jobs.enqueue(session, name="no.such.job", payload={})


async def test_admins_list_and_retry_dead_jobs(paused: Runtime, client: httpx.AsyncClient) -> None:
    from glint.accounts.models import User
    from tests.factories.accounts import register

    admin, user = await register(client), await register(client)
    async with paused.db.session() as session:
        await session.execute(sa.update(User).where(User.id == int(admin.id)).values(role="admin"))
        # The sign-ups' own jobs (verification mails) are not this test's: claim sees one job.
        await session.execute(sa.delete(Job))
        await session.commit()
    job_id = await _enqueue(paused, "test.broken", {"x": 1})
    for _ in range(2):
        job = await queue.claim(paused.db, lease_seconds=30)
        assert job is not None
        await queue.run_claimed(paused, job)
        await _make_due(paused, job_id)
    assert_error(await client.get("/admin/jobs", headers=user.auth), 403, "forbidden")
    dead = (await client.get("/admin/jobs", headers=admin.auth)).json()["items"]
    assert [(j["id"], j["status"], j["last_error"]) for j in dead] == [
        (str(job_id), "dead", "ValueError: always broken")
    ]
    counts = (await client.get("/admin/jobs/counts", headers=admin.auth)).json()
    assert counts["dead"] == 1
    retried = await client.post(f"/admin/jobs/{job_id}/retry", headers=admin.auth)
    assert retried.status_code == 200 and retried.json()["status"] == "queued"
    again = await client.post(f"/admin/jobs/{job_id}/retry", headers=admin.auth)
    assert_error(again, 404, "not_found")
