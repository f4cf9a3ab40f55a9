"""Durable background jobs. A `jobs` table is the source of truth in both run modes (an outbox):
a job commits with the rows that caused it, workers claim it with a short lease that a heartbeat
renews while it runs, and failures retry with exponential backoff until it is `dead` (the
dead-letter place an admin lists and retries). A worker that dies mid-job loses its lease and the
job is handed out again; a job whose workers keep dying is dead-lettered with that reason.
Leases are glint/infra/leases.py; periodic tasks take lease rows of their own (periodic.py).
How workers hear of new jobs is the only thing the modes change (see queue_workers.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from glint.infra.db import Base, Database, UTCDateTime, insert_ignore, utcnow
from glint.infra.ids import IdGenerator
from glint.infra.leases import LeaseLost, holder_is_dead, new_holder, process_identity, run_leased
from glint.infra.logging import get_logger

if TYPE_CHECKING:
    from glint.infra.runtime import Runtime

log = get_logger(__name__)
JOB_STATUSES = ("queued", "running", "done", "dead")
MAX_BACKOFF_SECONDS = 300.0
LEASE_LAPSED = "the worker running this job stopped renewing its lease (it died or hung)"
T = TypeVar("T")


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
    # Who holds the running job: "host:pid:process-start:claim-nonce" (see glint.infra.leases).
    locked_by: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    # How many times a worker died (or hung) while running it: the poison-job count.
    lost_leases: Mapped[int] = mapped_column(sa.Integer, default=0)
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
PeriodicHandler = Callable[["Runtime"], Awaitable[None]]


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
    handler: PeriodicHandler


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
    ) -> Callable[[PeriodicHandler], PeriodicHandler]:
        """Register a task the scheduler runs every so many seconds."""

        def register(handler: PeriodicHandler) -> PeriodicHandler:
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


async def _renew_job(db: Database, job_id: int, holder: str, lease_seconds: float) -> bool:
    async with db.session() as session:
        result = await session.execute(
            sa.update(Job)
            .where(Job.id == job_id, Job.status == "running", Job.locked_by == holder)
            .values(locked_until=utcnow() + dt.timedelta(seconds=lease_seconds))
        )
        await session.commit()
    return bool(getattr(result, "rowcount", 0))


# --- writing and claiming jobs ------------------------------------------------------------------


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
        "lost_leases": 0,
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


async def claim(
    db: Database, *, lease_seconds: float, job_id: int | None = None, early: bool = False
) -> Job | None:
    """Take one due job (or the given one) for this worker, exclusively while its lease lives.

    By ID it also takes a running job whose lease ran out (its worker died), and with
    `early` a queued job before its run_after. Attempts are counted here, at the claim, so a
    job whose every worker dies still reaches its last attempt.
    """
    if early and job_id is None:
        raise ValueError("early claims name their job")
    # Losing a race to another claimer is normal: try the next candidate a few times.
    for _ in range(5):
        if job_id is None:
            outcome = await _claim_next(db, lease_seconds=lease_seconds)
        else:
            outcome = await _claim_by_id(db, job_id, lease_seconds=lease_seconds, early=early)
        if outcome is None or isinstance(outcome, Job):
            return outcome
    return None


def _claimed_values(lease_seconds: float, now: dt.datetime) -> dict[str, Any]:
    return {
        "status": "running",
        "attempts": Job.attempts + 1,
        "locked_by": new_holder(),
        "locked_until": now + dt.timedelta(seconds=lease_seconds),
    }


async def _claim_next(db: Database, *, lease_seconds: float) -> Job | bool | None:
    """The claimed job, None when nothing is due, False when another claimer won the race."""
    now = utcnow()
    async with db.session() as session:
        candidate = (
            sa.select(Job.id)
            .where(Job.status == "queued", Job.run_after <= now)
            .order_by(Job.run_after, Job.id)
            .limit(1)
        )
        if not db.is_sqlite:
            candidate = candidate.with_for_update(skip_locked=True)
        chosen = await session.scalar(candidate)
        if chosen is None:
            return None
        # The status check in the UPDATE makes the claim atomic even where SKIP LOCKED is absent.
        condition = [Job.id == chosen, Job.status == "queued", Job.run_after <= now]
        return await _take(session, chosen, condition, _claimed_values(lease_seconds, now))


async def _claim_by_id(
    db: Database, job_id: int, *, lease_seconds: float, early: bool
) -> Job | bool | None:
    """Like _claim_next for one job, which may also be a running job whose lease ran out."""
    now = utcnow()
    async with db.session() as session:
        row = (
            await session.execute(
                sa.select(Job.status, Job.run_after, Job.locked_until, Job.locked_by).where(
                    Job.id == job_id
                )
            )
        ).one_or_none()
        if row is None:
            return None
        status, run_after, locked_until, locked_by = row
        values = _claimed_values(lease_seconds, now)
        condition: list[sa.ColumnElement[bool]] = [Job.id == job_id, Job.status == status]
        if status == "queued" and (early or run_after <= now):
            if not early:  # it may have been retried meanwhile, to run later
                condition.append(Job.run_after <= now)
        elif status == "running" and locked_until is not None and locked_until < now:
            # Its worker died or hung: take it over, unless that worker renews first.
            condition += [_held_by(locked_by), Job.locked_until < now]
            values.update(lost_leases=Job.lost_leases + 1, last_error=LEASE_LAPSED)
        else:
            return None
        return await _take(session, job_id, condition, values)


def _held_by(locked_by: str | None) -> sa.ColumnElement[bool]:
    return Job.locked_by.is_(None) if locked_by is None else Job.locked_by == locked_by


async def _take(
    session: AsyncSession,
    job_id: int,
    condition: Sequence[sa.ColumnElement[bool]],
    values: dict[str, Any],
) -> Job | bool:
    result = await session.execute(sa.update(Job).where(*condition).values(**values))
    if not getattr(result, "rowcount", 0):
        await session.rollback()
        return False
    await session.commit()
    job = await session.get(Job, job_id, populate_existing=True)
    return job if job is not None else False


async def next_claimable_at(db: Database, job_id: int) -> dt.datetime | None:
    """When a job that could not be claimed now may be: its lease's end, or its run_after.

    None when it never will be by this message (done, dead, gone) or could be right now.
    """
    now = utcnow()
    async with db.session() as session:
        row = (
            await session.execute(
                sa.select(Job.status, Job.run_after, Job.locked_until).where(Job.id == job_id)
            )
        ).one_or_none()
    if row is None:
        return None
    status, run_after, locked_until = row
    if status == "running" and locked_until is not None and locked_until > now:
        return locked_until
    if status == "queued" and run_after > now:
        return run_after
    return None


# --- running a claimed job ----------------------------------------------------------------------


def backoff_seconds(attempt: int, *, base: float) -> float:
    """Delay before the next try: base·2^(attempt-1), capped, with ±20 % jitter."""
    delay: float = min(MAX_BACKOFF_SECONDS, base * 2.0 ** max(0, attempt - 1))
    jitter: float = random.uniform(0.8, 1.2)  # noqa: S311 (jitter, not cryptography)
    return delay * jitter


def poison_reason(job: Job) -> str:
    """Why a job whose workers kept dying is dead-lettered."""
    times = "once" if job.lost_leases == 1 else f"{job.lost_leases} times"
    return f"worker died {times} while running this job ({job.attempts - 1} attempts)"


async def run_claimed(runtime: Runtime, job: Job) -> str:
    """Run a claimed job under a renewed lease and record the outcome.

    The outcome is done, retry, dead, or lost (another worker took the job over: record
    nothing). A job claimed beyond its last attempt had its workers die every time: it is
    dead-lettered without running again.
    """
    spec = registry.jobs.get(job.name)
    context = JobContext(job.id, job.name, job.attempts, dict(job.payload), runtime)
    lease = runtime.settings.job_lease_seconds
    renew = functools.partial(_renew_job, runtime.db, job.id, job.locked_by or "", lease)
    error: str | None = None
    if job.attempts > job.max_attempts:
        error, outcome = poison_reason(job), "dead"
    elif spec is None:
        error, outcome = f"no handler registered for job {job.name!r}", "dead"
    else:
        try:
            await run_leased(spec.handler(context), renew=renew, every=lease / 3)
            outcome = "done"
        except LeaseLost:
            outcome = "lost"
        except Exception as exc:  # any failure is retried; the error text is kept
            error = f"{type(exc).__name__}: {exc}"[:2000]
            outcome = "dead" if job.attempts >= job.max_attempts else "retry"
            log.warning(
                "job_failed", job=job.name, job_id=job.id, attempt=job.attempts, error=error
            )
    if outcome == "dead":
        log.warning("job_dead", job=job.name, job_id=job.id, error=error)
        # Before the row says dead: a crash in between runs the hook again, never skips it.
        outcome = await _run_dead_hook(spec, context, error or "unknown error", renew, lease)
    if outcome != "lost" and not await _record_outcome(runtime, job, outcome, error):
        outcome = "lost"
    if outcome == "lost":
        log.warning("job_lease_lost", job=job.name, job_id=job.id, attempt=job.attempts)
    runtime.metrics.jobs.labels(job.name, outcome).inc()
    return outcome


async def _run_dead_hook(
    spec: JobSpec | None,
    context: JobContext,
    error: str,
    renew: Callable[[], Awaitable[bool]],
    lease: float,
) -> str:
    if spec is None or spec.on_dead is None:
        return "dead"
    try:
        await run_leased(spec.on_dead(context, error), renew=renew, every=lease / 3)
    except LeaseLost:
        return "lost"
    except Exception:  # the job is dead either way; an admin retry runs the hook again
        log.exception("job_dead_hook_failed", job=context.name, job_id=context.job_id)
    return "dead"


async def _record_outcome(runtime: Runtime, job: Job, outcome: str, error: str | None) -> bool:
    """Write the outcome, if the job is still this claim's; False when it was taken over."""
    now = utcnow()
    values: dict[str, Any] = {"locked_until": None, "locked_by": None, "last_error": error}
    if outcome == "done":
        values.update(status="done", finished_at=now)
    elif outcome == "retry":
        delay = backoff_seconds(job.attempts, base=runtime.settings.job_backoff_seconds)
        values.update(status="queued", run_after=now + dt.timedelta(seconds=delay))
    else:
        values.update(status="dead", finished_at=now)
    async with runtime.db.session() as session:
        result = await session.execute(
            sa.update(Job)
            .where(Job.id == job.id, Job.status == "running", _held_by(job.locked_by))
            .values(**values)
        )
        await session.commit()
    return bool(getattr(result, "rowcount", 0))


# --- recovery: leases that ran out, processes that died -----------------------------------------


async def sweep(db: Database) -> list[int]:
    """Re-queue jobs whose worker died (lease ran out); the IDs of every job now due.

    A re-queued job counts the loss; claimed past its last attempt it is dead-lettered.
    """
    now = utcnow()
    async with db.session() as session:
        await session.execute(
            sa.update(Job)
            .where(Job.status == "running", Job.locked_until < now)
            .values(
                status="queued",
                locked_until=None,
                locked_by=None,
                run_after=now,
                lost_leases=Job.lost_leases + 1,
                last_error=LEASE_LAPSED,
            )
        )
        await session.commit()
        due = await session.scalars(
            sa.select(Job.id)
            .where(Job.status == "queued", Job.run_after <= now)
            .order_by(Job.run_after)
            .limit(1000)
        )
        return list(due)


async def requeue_orphans(db: Database) -> list[int]:
    """Re-queue the running jobs of processes of this host that no longer run; their IDs.

    Called as an embedded server starts: what a killed server held restarts at once instead
    of after its lease. Live holders (another `--workers` process) are never touched.
    """
    me = process_identity()
    now = utcnow()
    async with db.session() as session:
        rows = await session.execute(
            sa.select(Job.id, Job.locked_by).where(
                Job.status == "running", Job.locked_by.like(f"{me.host}:%")
            )
        )
        orphans = [(job_id, by) for job_id, by in rows if by and holder_is_dead(by, me)]
        requeued = []
        for job_id, holder in orphans:
            result = await session.execute(
                sa.update(Job)
                .where(Job.id == job_id, Job.status == "running", Job.locked_by == holder)
                .values(
                    status="queued",
                    locked_until=None,
                    locked_by=None,
                    run_after=now,
                    lost_leases=Job.lost_leases + 1,
                    last_error=f"the process running this job ({holder}) died",
                )
            )
            if getattr(result, "rowcount", 0):
                requeued.append(job_id)
        await session.commit()
    if requeued:
        log.warning("jobs_of_dead_process_requeued", jobs=len(requeued))
    return requeued


async def purge_done(db: Database, *, older_than: float, batch: int = 5000) -> int:
    """Delete finished jobs older than so many seconds, in batches; how many went."""
    cutoff = utcnow() - dt.timedelta(seconds=older_than)
    total = 0
    while True:
        async with db.session() as session:
            # run_after <= finished_at for all but early claims, and it is indexed with status.
            doomed = (
                sa.select(Job.id)
                .where(Job.status == "done", Job.run_after < cutoff, Job.finished_at < cutoff)
                .limit(batch)
                .scalar_subquery()
            )
            result = await session.execute(sa.delete(Job).where(Job.id.in_(doomed)))
            await session.commit()
        deleted = int(getattr(result, "rowcount", 0) or 0)
        total += deleted
        if deleted < batch:
            return total


# --- the admin's view ---------------------------------------------------------------------------


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
        .values(
            status="queued",
            attempts=0,
            lost_leases=0,
            locked_by=None,
            locked_until=None,
            run_after=utcnow(),
            finished_at=None,
        )
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
