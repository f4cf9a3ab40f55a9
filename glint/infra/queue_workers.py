"""Who works the job table: a task inside `glint serve` (embedded), or `glint worker` processes
fed by Dramatiq over RabbitMQ (scale-out). Either way the table decides who runs what, and
periodic tasks run once per interval per deployment, whichever processes try.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from glint.infra import leases, periodic, queue
from glint.infra.db import utcnow
from glint.infra.ids import IdGenerator
from glint.infra.logging import get_logger

if TYPE_CHECKING:
    import dramatiq

    from glint.config import Settings
    from glint.infra.runtime import Runtime

log = get_logger(__name__)
ACTOR_NAME = "glint_run_job"
WEEK_MS = 7 * 24 * 3600 * 1000
# A redelivered message for a job still leased comes back just after the lease ends.
LEASE_MARGIN_SECONDS = 0.5
# A claim that failed (database unreachable) is tried again this much later.
CLAIM_RETRY_SECONDS = 5.0
# How often a periodic loop looks for newly registered tasks, at the least.
PERIODIC_TICK_SECONDS = 1.0


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
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._running: set[asyncio.Task[str]] = set()

    async def dispatch(self, job_ids: Sequence[int]) -> None:
        """Wake the worker."""
        if job_ids:
            self._wake.set()

    async def ping(self) -> None:
        """The worker lives in this process; the database check covers its table."""

    async def start(self) -> None:
        """Re-queue what dead processes of this host held, then start working."""
        if self._tasks:
            return
        runtime = self.runtime
        assert runtime is not None, "bind() the queue to its runtime before start()"
        try:
            await queue.requeue_orphans(runtime.db)
        except Exception:  # a database hiccup at start: the leases still run out
            log.exception("requeue_orphans_failed")
        self._stop = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._work(runtime), name="glint-job-worker"),
            asyncio.create_task(
                PeriodicRunner(runtime).run_forever(self._stop), name="glint-periodic"
            ),
        ]

    async def stop(self) -> None:
        """Stop claiming; let running jobs finish (their leases cover a hard kill)."""
        self._stop.set()
        self._wake.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks = []
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _work(self, runtime: Runtime) -> None:
        settings = runtime.settings
        while not self._stop.is_set():
            try:
                while len(self._running) < self._concurrency and not self._stop.is_set():
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


class PeriodicRunner:
    """Runs this process's share of the periodic tasks: each, when due, if its lease is won.

    Every process (each `glint serve` embedded, `glint scheduler` at scale) may run one; the
    `periodic_leases` row of a task lets one of them start it per interval and keeps a second
    copy from starting while it runs. This object only remembers when to ask again.
    """

    def __init__(
        self, runtime: Runtime, tasks: Mapping[str, queue.PeriodicTask] | None = None
    ) -> None:
        self._runtime = runtime
        # None: the registry's tasks, read afresh (the wiring may register more later).
        self._tasks = tasks
        self._next_try: dict[str, float] = {}

    @property
    def tasks(self) -> Mapping[str, queue.PeriodicTask]:
        """The tasks this runner runs."""
        return self._tasks if self._tasks is not None else queue.registry.periodic_tasks

    async def run_due(self) -> list[str]:
        """Run every task that is due and whose lease this process wins; their names."""
        due = [task for task in self.tasks.values() if self._is_due(task.name)]
        ran = await asyncio.gather(*(self.run_if_due(task) for task in due))
        return [task.name for task, did in zip(due, ran, strict=True) if did]

    def _is_due(self, name: str) -> bool:
        return time.time() >= self._next_try.get(name, 0.0)

    async def run_if_due(self, task: queue.PeriodicTask) -> bool:
        """Run one task if it is due anywhere and this process wins it; True if it ran."""
        if not self._is_due(task.name):
            return False
        db = self._runtime.db
        lease = self._runtime.settings.job_lease_seconds
        try:
            turn = await periodic.acquire_periodic(
                db, name=task.name, every_seconds=task.every_seconds, lease_seconds=lease
            )
        except Exception:  # the database is away: ask again soon
            log.exception("periodic_lease_failed", task=task.name)
            self._next_try[task.name] = time.time() + min(task.every_seconds, CLAIM_RETRY_SECONDS)
            return False
        self._next_try[task.name] = turn.next_due.timestamp()
        if turn.holder is None:
            return False
        holder = turn.holder

        async def renew() -> bool:
            return await periodic.renew_periodic(
                db, name=task.name, holder=holder, lease_seconds=lease
            )

        try:
            await leases.run_leased(task.handler(self._runtime), renew=renew, every=lease / 3)
        except leases.LeaseLost:
            log.warning("periodic_lease_lost", task=task.name)
        except Exception:
            log.exception("periodic_task_failed", task=task.name)
        finally:
            with contextlib.suppress(Exception):  # unreleased, the lease simply runs out
                await periodic.release_periodic(db, name=task.name, holder=holder)
        return True

    async def run_forever(self, stop: asyncio.Event) -> None:
        """One loop per task until stopped, so a long task never delays the others."""
        loops: dict[str, asyncio.Task[None]] = {}
        try:
            while not stop.is_set():
                for task in self.tasks.values():
                    if task.name not in loops:
                        loops[task.name] = asyncio.create_task(self._loop(task.name, stop))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=PERIODIC_TICK_SECONDS)
        finally:
            stop.set()
            await asyncio.gather(*loops.values(), return_exceptions=True)

    async def _loop(self, name: str, stop: asyncio.Event) -> None:
        while not stop.is_set():
            task = self.tasks.get(name)
            if task is None:
                return
            await self.run_if_due(task)
            wait = self._next_try.get(name, 0.0) - time.time()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=min(max(wait, 0.0), 60.0))


async def sweep_jobs(runtime: Runtime) -> None:
    """Re-queue jobs of dead workers and make sure every due job is being delivered."""
    due = await queue.sweep(runtime.db)
    if due:
        await runtime.jobs.dispatch(due)


async def purge_done_jobs(runtime: Runtime) -> None:
    """Delete finished jobs past their retention: the table keeps only what may matter."""
    deleted = await queue.purge_done(
        runtime.db, older_than=runtime.settings.job_done_retention_seconds
    )
    if deleted:
        log.info("done_jobs_purged", jobs=deleted)


# After a failed announcement, this process tries again after these pauses (seconds).
DISPATCH_RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0)


class RabbitJobQueue(_TableQueueBase):
    """Scale-out: each committed job is announced on RabbitMQ; `glint worker`s consume it."""

    def __init__(self, *, ids: IdGenerator, settings: Settings) -> None:
        super().__init__(ids=ids)
        self._broker, self._actor = build_broker(settings)
        self._retries: set[asyncio.Task[None]] = set()

    async def _publish(self, job_ids: Sequence[int]) -> bool:
        """Publish one message per job (pika blocks, so in a thread); False if the broker
        could not be reached."""

        def publish() -> None:
            for job_id in job_ids:
                self._actor.send(job_id)

        try:
            await anyio.to_thread.run_sync(publish)
        except Exception:  # pika raises many kinds; the rows are safe either way
            return False
        return True

    async def dispatch(self, job_ids: Sequence[int]) -> None:
        """Announce committed jobs. A broker that does not answer does not fail the caller:
        this process tries again a few times in the background (a blip, a handshake timing
        out under load), and the scheduler's sweep re-sends whatever is still queued."""
        if not job_ids or await self._publish(job_ids):
            return
        log.warning("broker_unreachable_dispatch_deferred", jobs=len(job_ids))
        retry = asyncio.create_task(self._publish_later(list(job_ids)))
        self._retries.add(retry)
        retry.add_done_callback(self._retries.discard)

    async def _publish_later(self, job_ids: list[int]) -> None:
        for delay in DISPATCH_RETRY_DELAYS:
            await asyncio.sleep(delay)
            if await self._publish(job_ids):
                log.info("deferred_dispatch_sent", jobs=len(job_ids))
                return

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
        """Give up pending re-sends (the sweep has them) and close the broker's connections."""
        for retry in list(self._retries):
            retry.cancel()
        await anyio.to_thread.run_sync(self._broker.close)


def _worker_runtime_middleware(settings: Settings) -> Any:
    """A Dramatiq middleware that builds the worker's runtime on first use, closes it at exit."""
    from dramatiq.asyncio import get_event_loop_thread
    from dramatiq.middleware import Middleware

    class WorkerRuntime(Middleware):
        """The runtime of one `glint worker` process, owned by its broker."""

        def __init__(self) -> None:
            self._runtime: Runtime | None = None
            self._lock: asyncio.Lock | None = None

        async def get(self) -> Runtime:
            """The runtime, started by the first job that needs it."""
            # Made here: the lock belongs to the event loop thread the jobs run on.
            self._lock = self._lock or asyncio.Lock()
            async with self._lock:
                if self._runtime is None:
                    from glint.infra import runtime as runtime_mod

                    self._runtime = await runtime_mod.start(settings)
                return self._runtime

        def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
            # Runs before the AsyncIO middleware stops the loop (Dramatiq calls these in reverse).
            loop_thread = get_event_loop_thread()
            if self._runtime is not None and loop_thread is not None:
                loop_thread.run_coroutine(self._runtime.close())
                self._runtime = None

    return WorkerRuntime()


def build_broker(settings: Settings) -> tuple[Any, dramatiq.Actor[Any, Any]]:
    """A RabbitMQ broker and the one actor that runs table jobs by ID."""
    import dramatiq
    from dramatiq.brokers.rabbitmq import RabbitmqBroker
    from dramatiq.middleware import AsyncIO, Retries

    broker = RabbitmqBroker(url=settings.broker_url)
    # Retries live in our table (the same in both modes), not in Dramatiq.
    broker.middleware[:] = [m for m in broker.middleware if not isinstance(m, Retries)]
    broker.add_middleware(AsyncIO())
    worker_runtime = _worker_runtime_middleware(settings)
    broker.add_middleware(worker_runtime)

    async def send_later(job_id: int, seconds: float) -> None:
        delay = max(0, int(seconds * 1000))
        await anyio.to_thread.run_sync(lambda: actor.send_with_options(args=(job_id,), delay=delay))

    async def run_job(job_id: int) -> None:
        runtime: Runtime = await worker_runtime.get()
        lease = runtime.settings.job_lease_seconds
        try:
            job = await queue.claim(runtime.db, lease_seconds=lease, job_id=job_id)
            later = None if job is not None else await queue.next_claimable_at(runtime.db, job_id)
        except Exception:  # the database is away: keep the message alive, try again soon
            log.warning("job_claim_failed", job_id=job_id, exc_info=True)
            await send_later(job_id, CLAIM_RETRY_SECONDS)
            return
        try:
            if job is not None and await queue.run_claimed(runtime, job) == "retry":
                later = await queue.next_claimable_at(runtime.db, job_id)
        except Exception:  # the outcome went unrecorded: come back once the lease has lapsed
            log.warning("job_outcome_unrecorded", job_id=job_id, exc_info=True)
            await send_later(job_id, lease + LEASE_MARGIN_SECONDS)
            return
        if later is not None:
            # Leased by a worker (perhaps a dead one) or not due yet: come back when it may be
            # claimed, so recovery needs no scheduler. A finished job drops the message then.
            wait = (later - utcnow()).total_seconds() + LEASE_MARGIN_SECONDS
            await send_later(job_id, wait)

    actor: dramatiq.Actor[Any, Any] = dramatiq.actor(
        actor_name=ACTOR_NAME,
        queue_name=settings.job_queue_name,
        broker=broker,
        max_retries=0,
        # Dramatiq's 10-minute default would cut long jobs short: the heartbeat lease decides.
        time_limit=WEEK_MS,
    )(run_job)
    return broker, actor


def run_worker(settings: Settings, *, threads: int = 4) -> None:
    """`glint worker`: consume job messages until SIGTERM/SIGINT (blocking).

    The caller registers the job handlers first (the entry point's wiring).
    """
    import dramatiq

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
    await PeriodicRunner(runtime).run_forever(stop)
