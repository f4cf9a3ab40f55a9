"""Durable background jobs. A `jobs` table is the source of truth in both run modes (an outbox):
a job commits with the rows that caused it, workers claim it with a lease, and failures retry
with exponential backoff until it is `dead` (the dead-letter place an admin lists and retries).
How workers hear of new jobs is the only thing the modes change (see queue_workers.py).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from glint.infra.db import Base, Database, UTCDateTime, insert_ignore, utcnow
from glint.infra.ids import IdGenerator
from glint.infra.logging import get_logger

if TYPE_CHECKING:
    from glint.infra.runtime import Runtime

log = get_logger(__name__)
JOB_STATUSES = ("queued", "running", "done", "dead")
MAX_BACKOFF_SECONDS = 300.0


class Job(Base):
    """A unit of background work: queued → running → done | queued (retry) | dead."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(10), default="queued")
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(sa.Integer, default=5)
    run_after: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(sa.Text, default=None)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'dead')", name="status"),
        sa.Index("ix_jobs_status_run_after", "status", "run_after"),
    )


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a handler gets: its job's identity and payload, and the process's adapters."""

    job_id: int
    name: str
    attempt: int
    payload: dict[str, Any]
    runtime: Runtime


Handler = Callable[[JobContext], Awaitable[None]]
DeadHook = Callable[[JobContext, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A kind of job: its handler, how often it may be tried, what to do when it dies."""

    name: str
    handler: Handler
    max_attempts: int
    on_dead: DeadHook | None


@dataclass(frozen=True, slots=True)
class PeriodicTask:
    """Work run every few seconds by the scheduler (inside `glint serve` when embedded)."""

    name: str
    every_seconds: float
    handler: Callable[[Runtime], Awaitable[None]]


class JobRegistry:
    """Every job kind and periodic task, registered in one place by decorators."""

    def __init__(self) -> None:
        self.jobs: dict[str, JobSpec] = {}
        self.periodic_tasks: dict[str, PeriodicTask] = {}

    def job(
        self, name: str, *, max_attempts: int = 5, on_dead: DeadHook | None = None
    ) -> Callable[[Handler], Handler]:
        """Register an async handler for jobs of this name."""

        def register(handler: Handler) -> Handler:
            if name in self.jobs and self.jobs[name].handler is not handler:
                raise ValueError(f"job {name!r} registered twice")
            self.jobs[name] = JobSpec(name, handler, max_attempts, on_dead)
            return handler

        return register

    def periodic(
        self, name: str, *, every_seconds: float
    ) -> Callable[[Callable[[Runtime], Awaitable[None]]], Callable[[Runtime], Awaitable[None]]]:
        """Register a task the scheduler runs every so many seconds."""

        def register(
            handler: Callable[[Runtime], Awaitable[None]],
        ) -> Callable[[Runtime], Awaitable[None]]:
            self.periodic_tasks[name] = PeriodicTask(name, every_seconds, handler)
            return handler

        return register


registry = JobRegistry()


class JobQueue(Protocol):
    """Where domain code puts background work; the two run modes differ only in delivery."""

    async def enqueue(
        self,
        session: AsyncSession,
        *,
        name: str,
        payload: dict[str, Any],
        delay: float = 0.0,
        dedupe_key: str | None = None,
    ) -> int:
        """Add a job in the caller's transaction; it runs once that commits and is dispatched."""
        ...

    async def dispatch(self, job_ids: Sequence[int]) -> None:
        """Wake workers for committed jobs (the sweep finds any this misses)."""
        ...

    async def start(self) -> None:
        """Begin working (embedded) or connect (scale-out)."""
        ...

    async def stop(self) -> None:
        """Stop working and release connections."""
        ...

    async def ping(self) -> None:
        """Raise unless the transport answers."""
        ...


async def add_job(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    name: str,
    payload: dict[str, Any],
    delay: float = 0.0,
    dedupe_key: str | None = None,
) -> int:
    """Write a job row in the caller's transaction; the existing job's ID for a known dedupe key."""
    spec = registry.jobs.get(name)
    if spec is None:
        raise ValueError(f"unknown job {name!r}: register it with @registry.job")
    now = utcnow()
    job_id = ids.next_id()
    values = {
        "id": job_id,
        "name": name,
        "payload": payload,
        "status": "queued",
        "attempts": 0,
        "max_attempts": spec.max_attempts,
        "run_after": now + dt.timedelta(seconds=delay),
        "created_at": now,
        "dedupe_key": dedupe_key,
    }
    if dedupe_key is None:
        session.add(Job(**values))  # written with the caller's other rows at its commit
        return job_id
    if await insert_ignore(session, Job, values):
        return job_id
    existing = await session.scalar(sa.select(Job.id).where(Job.dedupe_key == dedupe_key))
    assert existing is not None
    return existing


async def claim(db: Database, *, lease_seconds: float, job_id: int | None = None) -> Job | None:
    """Take one due job (or the given one) for this worker, exclusively until its lease ends."""
    # Losing a race to another claimer is normal: try the next candidate a few times.
    for _ in range(5):
        outcome = await _try_claim(db, lease_seconds=lease_seconds, job_id=job_id)
        if outcome is None or isinstance(outcome, Job):
            return outcome
    return None


async def _try_claim(
    db: Database, *, lease_seconds: float, job_id: int | None
) -> Job | bool | None:
    """The claimed job, None when nothing is due, False when another claimer won the race."""
    now = utcnow()
    async with db.session() as session:
        candidate = sa.select(Job.id).where(Job.status == "queued", Job.run_after <= now)
        if job_id is not None:
            candidate = candidate.where(Job.id == job_id)
        candidate = candidate.order_by(Job.run_after, Job.id).limit(1)
        if not db.is_sqlite:
            candidate = candidate.with_for_update(skip_locked=True)
        chosen = await session.scalar(candidate)
        if chosen is None:
            return None
        # The status check in the UPDATE makes the claim atomic even where SKIP LOCKED is absent.
        result = await session.execute(
            sa.update(Job)
            .where(Job.id == chosen, Job.status == "queued")
            .values(
                status="running",
                attempts=Job.attempts + 1,
                locked_until=now + dt.timedelta(seconds=lease_seconds),
            )
        )
        if not getattr(result, "rowcount", 0):
            await session.rollback()
            return False
        await session.commit()
        return await session.get(Job, chosen, populate_existing=True)


def backoff_seconds(attempt: int, *, base: float) -> float:
    """Delay before the next try: base·2^(attempt-1), capped, with ±20 % jitter."""
    delay: float = min(MAX_BACKOFF_SECONDS, base * 2.0 ** max(0, attempt - 1))
    jitter: float = random.uniform(0.8, 1.2)  # noqa: S311 (jitter, not cryptography)
    return delay * jitter


async def run_claimed(runtime: Runtime, job: Job) -> str:
    """Run a claimed job's handler and record the outcome: done, retry or dead."""
    spec = registry.jobs.get(job.name)
    context = JobContext(job.id, job.name, job.attempts, dict(job.payload), runtime)
    error: str | None = None
    if spec is None:
        error = f"no handler registered for job {job.name!r}"
        outcome = "dead"
    else:
        try:
            await spec.handler(context)
            outcome = "done"
        except Exception as exc:  # any failure is retried; the error text is kept
            error = f"{type(exc).__name__}: {exc}"[:2000]
            outcome = "dead" if job.attempts >= job.max_attempts else "retry"
            log.warning(
                "job_failed", job=job.name, job_id=job.id, attempt=job.attempts, error=error
            )
    now = utcnow()
    values: dict[str, Any] = {"locked_until": None, "last_error": error}
    if outcome == "done":
        values.update(status="done", finished_at=now)
    elif outcome == "retry":
        delay = backoff_seconds(job.attempts, base=runtime.settings.job_backoff_seconds)
        values.update(status="queued", run_after=now + dt.timedelta(seconds=delay))
    else:
        values.update(status="dead", finished_at=now)
    async with runtime.db.session() as session:
        await session.execute(
            sa.update(Job).where(Job.id == job.id, Job.status == "running").values(**values)
        )
        await session.commit()
    if outcome == "dead" and spec is not None and spec.on_dead is not None:
        await spec.on_dead(context, error or "unknown error")
    runtime.metrics.jobs.labels(job.name, outcome).inc()
    return outcome


async def sweep(db: Database) -> list[int]:
    """Re-queue jobs whose worker died (lease expired); the IDs of every job now due."""
    now = utcnow()
    async with db.session() as session:
        await session.execute(
            sa.update(Job)
            .where(Job.status == "running", Job.locked_until < now)
            .values(status="queued", locked_until=None, run_after=now)
        )
        await session.commit()
        due = await session.scalars(
            sa.select(Job.id)
            .where(Job.status == "queued", Job.run_after <= now)
            .order_by(Job.run_after)
            .limit(1000)
        )
        return list(due)


async def list_jobs(
    session: AsyncSession, *, status: str, before_id: int | None, limit: int
) -> list[Job]:
    """Jobs in one state, newest first, limit+1 (the dead-letter list is status='dead')."""
    query = sa.select(Job).where(Job.status == status)
    if before_id is not None:
        query = query.where(Job.id < before_id)
    return list(await session.scalars(query.order_by(Job.id.desc()).limit(limit + 1)))


async def retry_job(session: AsyncSession, *, job_id: int) -> Job | None:
    """Give a dead job a fresh set of attempts; None when there is no such dead job."""
    result = await session.execute(
        sa.update(Job)
        .where(Job.id == job_id, Job.status == "dead")
        .values(status="queued", attempts=0, run_after=utcnow(), finished_at=None)
    )
    if not getattr(result, "rowcount", 0):
        return None
    return await session.get(Job, job_id, populate_existing=True)


async def counts_by_status(session: AsyncSession) -> dict[str, int]:
    """How many jobs are in each state (queue depth, failures)."""
    rows = await session.execute(sa.select(Job.status, sa.func.count()).group_by(Job.status))
    counts = dict.fromkeys(JOB_STATUSES, 0)
    counts.update({status: int(count) for status, count in rows})
    return counts
