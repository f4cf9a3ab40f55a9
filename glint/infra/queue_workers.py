"""Who works the job table: a task inside `glint serve` (embedded), or `glint worker` processes
fed by Dramatiq over RabbitMQ (scale-out). Either way the table decides who runs what.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.infra import queue
from glint.infra.ids import IdGenerator
from glint.infra.logging import get_logger

if TYPE_CHECKING:
    import dramatiq

    from glint.config import Settings
    from glint.infra.runtime import Runtime

log = get_logger(__name__)
ACTOR_NAME = "glint_run_job"


class _TableQueueBase:
    """What both queues share: writing jobs into the caller's transaction."""

    def __init__(self, *, ids: IdGenerator) -> None:
        self._ids = ids
        self.runtime: Runtime | None = None

    def bind(self, runtime: Runtime) -> None:
        """Give the queue the runtime its handlers receive."""
        self.runtime = runtime

    async def enqueue(
        self,
        session: AsyncSession,
        *,
        name: str,
        payload: dict[str, Any],
        delay: float = 0.0,
        dedupe_key: str | None = None,
    ) -> int:
        """Add a job in the caller's transaction."""
        return await queue.add_job(
            session, ids=self._ids, name=name, payload=payload, delay=delay, dedupe_key=dedupe_key
        )


class TableJobQueue(_TableQueueBase):
    """Embedded: a worker task in this process claims due jobs and runs the periodic tasks."""

    def __init__(self, *, ids: IdGenerator, concurrency: int = 2) -> None:
        super().__init__(ids=ids)
        self._concurrency = concurrency
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[str]] = set()
        self._stopping = False

    async def dispatch(self, job_ids: Sequence[int]) -> None:
        """Wake the worker."""
        if job_ids:
            self._wake.set()

    async def ping(self) -> None:
        """The worker lives in this process; the database check covers its table."""

    async def start(self) -> None:
        """Start the worker task."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._loop(), name="glint-job-worker")

    async def stop(self) -> None:
        """Stop claiming; let running jobs finish (their leases cover a hard kill)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _loop(self) -> None:
        runtime = self.runtime
        assert runtime is not None, "bind() the queue to its runtime before start()"
        settings = runtime.settings
        last_run: dict[str, float] = {}
        while not self._stopping:
            try:
                await run_due_periodic(runtime, last_run)
                while len(self._running) < self._concurrency and not self._stopping:
                    job = await queue.claim(runtime.db, lease_seconds=settings.job_lease_seconds)
                    if job is None:
                        break
                    task = asyncio.create_task(queue.run_claimed(runtime, job))
                    self._running.add(task)
                    task.add_done_callback(self._finished)
            except Exception:  # the worker must outlive a database hiccup
                log.exception("job_worker_error")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=settings.job_poll_seconds)

    def _finished(self, task: asyncio.Task[str]) -> None:
        self._running.discard(task)
        self._wake.set()  # a slot is free: look for more work at once


async def run_due_periodic(runtime: Runtime, last_run: dict[str, float]) -> None:
    """Run every periodic task whose interval has passed (the sweep among them)."""
    now = time.monotonic()
    for task in queue.registry.periodic_tasks.values():
        if now - last_run.get(task.name, 0.0) >= task.every_seconds:
            last_run[task.name] = now
            try:
                await task.handler(runtime)
            except Exception:
                log.exception("periodic_task_failed", task=task.name)


@queue.registry.periodic("jobs.sweep", every_seconds=5.0)
async def sweep_jobs(runtime: Runtime) -> None:
    """Re-queue jobs of dead workers and make sure every due job is being delivered."""
    due = await queue.sweep(runtime.db)
    if due:
        await runtime.jobs.dispatch(due)


class RabbitJobQueue(_TableQueueBase):
    """Scale-out: each committed job is announced on RabbitMQ; `glint worker`s consume it."""

    def __init__(self, *, ids: IdGenerator, settings: Settings) -> None:
        super().__init__(ids=ids)
        self._broker, self._actor = build_broker(settings)

    async def dispatch(self, job_ids: Sequence[int]) -> None:
        """Publish one message per job (pika blocks, so in a thread)."""
        if not job_ids:
            return

        def publish() -> None:
            for job_id in job_ids:
                self._actor.send(job_id)

        try:
            await anyio.to_thread.run_sync(publish)
        except Exception:  # the broker is down: the rows are safe; the sweep re-sends later
            log.warning("broker_unreachable_dispatch_deferred", jobs=len(job_ids))

    async def ping(self) -> None:
        """Raise unless RabbitMQ accepts a connection."""

        def check() -> None:
            # Opening (or reusing) this thread's connection proves RabbitMQ answers.
            if not self._broker.connection.is_open:
                raise ConnectionError("RabbitMQ connection is closed")

        await anyio.to_thread.run_sync(check)

    async def start(self) -> None:
        """Nothing runs here: workers are separate processes."""

    async def stop(self) -> None:
        """Close the broker's connections."""
        await anyio.to_thread.run_sync(self._broker.close)


_worker_runtime: Runtime | None = None
_worker_runtime_lock = asyncio.Lock()


async def _runtime_for_worker(settings: Settings) -> Runtime:
    global _worker_runtime
    async with _worker_runtime_lock:
        if _worker_runtime is None:
            from glint.infra import runtime as runtime_mod

            _worker_runtime = await runtime_mod.start(settings)
        return _worker_runtime


def build_broker(settings: Settings) -> tuple[Any, dramatiq.Actor[Any, Any]]:
    """A RabbitMQ broker and the one actor that runs table jobs by ID."""
    import dramatiq
    from dramatiq.brokers.rabbitmq import RabbitmqBroker
    from dramatiq.middleware import AsyncIO, Retries

    broker = RabbitmqBroker(url=settings.broker_url)
    # Retries live in our table (the same in both modes), not in Dramatiq.
    broker.middleware[:] = [m for m in broker.middleware if not isinstance(m, Retries)]
    broker.add_middleware(AsyncIO())

    async def run_job(job_id: int) -> None:
        runtime = await _runtime_for_worker(settings)
        job = await queue.claim(
            runtime.db, lease_seconds=runtime.settings.job_lease_seconds, job_id=job_id
        )
        if job is not None:  # already done, or another worker has it: a duplicate delivery
            outcome = await queue.run_claimed(runtime, job)
            if outcome == "retry":
                retry = await _run_after(runtime, job_id)
                actor.send_with_options(args=(job_id,), delay=int(retry * 1000))

    actor: dramatiq.Actor[Any, Any] = dramatiq.actor(
        actor_name=ACTOR_NAME,
        queue_name=settings.job_queue_name,
        broker=broker,
        max_retries=0,
    )(run_job)
    return broker, actor


async def _run_after(runtime: Runtime, job_id: int) -> float:
    async with runtime.db.session() as session:
        when = await session.scalar(sa.select(queue.Job.run_after).where(queue.Job.id == job_id))
    return max(0.0, (when.timestamp() - time.time()) if when else 0.0)


def run_worker(settings: Settings, *, threads: int = 4) -> None:
    """`glint worker`: consume job messages until SIGTERM/SIGINT (blocking)."""
    import dramatiq

    from glint.infra import runtime as runtime_mod

    runtime_mod.import_job_handlers()
    broker, _actor = build_broker(settings)
    dramatiq.set_broker(broker)
    worker = dramatiq.Worker(broker, queues={settings.job_queue_name}, worker_threads=threads)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    worker.start()
    log.info("worker_started", queue=settings.job_queue_name, threads=threads)
    done.wait()
    worker.stop()
    broker.close()


async def run_scheduler(runtime: Runtime, *, stop: asyncio.Event) -> None:
    """`glint scheduler`: run the periodic tasks (sweep, reconciliation, …) until stopped."""
    last_run: dict[str, float] = {}
    while not stop.is_set():
        await run_due_periodic(runtime, last_run)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)
