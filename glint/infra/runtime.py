"""The runtime: every adapter of one process, chosen from the settings and started together.

It holds adapters by their Protocols and knows no domain: which jobs exist is declared at the
top (`glint.wiring`) into the queue's registry before a runtime starts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from glint.config import Settings
from glint.infra import cache as cache_mod
from glint.infra import db as db_mod
from glint.infra import eventlog as eventlog_mod
from glint.infra import events, queue, queue_workers, redis_client
from glint.infra import hub as hub_mod
from glint.infra import ids as ids_mod
from glint.infra import mail as mail_mod
from glint.infra import pubsub as pubsub_mod
from glint.infra import ratelimit as ratelimit_mod
from glint.infra import timelines as timelines_mod
from glint.infra import trays as trays_mod
from glint.infra.breaker import CircuitBreaker
from glint.infra.clock import Clock, SystemClock
from glint.infra.cpu import CpuPool
from glint.infra.logging import get_logger
from glint.infra.metrics import Metrics
from glint.infra.sessioncache import SessionCache
from glint.infra.storage import ObjectStore, open_object_store

log = get_logger(__name__)


@dataclass
class Runtime:
    """What the app and the workers share: database, cache, rate limits, IDs, real time, metrics."""

    settings: Settings
    db: db_mod.Database
    cache: cache_mod.Cache
    limiter: ratelimit_mod.RateLimiter
    ids: ids_mod.IdGenerator
    cpu: CpuPool
    storage: ObjectStore
    jobs: queue.JobQueue
    timelines: timelines_mod.TimelineStore
    trays: trays_mod.TrayStore
    generations: timelines_mod.Generations
    pubsub: pubsub_mod.PubSub
    eventlog: eventlog_mod.EventLog
    hub: hub_mod.Hub
    # token hash → resolved session, per process (evicted everywhere by the hub's control channel)
    session_cache: SessionCache[Any]
    # E-mail: the data folder's outbox embedded, SMTP once a host is configured
    mailer: mail_mod.Mailer
    metrics: Metrics = field(default_factory=Metrics)
    # Time rules (story expiry, …) read this clock; tests swap in one they can move.
    clock: Clock = field(default_factory=SystemClock)
    redis: aioredis.Redis | None = None

    @property
    def secret_key(self) -> str:
        """The deployment's signing secret."""
        return self.settings.effective_secret_key

    async def commit(self, session: AsyncSession) -> None:
        """Commit a transaction, then deliver the outbox jobs it wrote.

        Workers are woken for the background subscribers; prompt subscribers run here and now,
        so their effect is visible to whoever caused them. Should this process die first, the
        rows are there and a worker runs them (prompt ones after a short grace).
        """
        await session.commit()
        background, prompt = events.take_pending(session)
        if background or prompt:
            # Prompt jobs are announced too: a worker holds on to them until their grace period
            # ends, and runs them then only if this process did not (it may die first).
            await self.jobs.dispatch(background + prompt)
        for job_id in prompt:
            await self._run_now(job_id)

    async def _run_now(self, job_id: int) -> None:
        try:
            job = await queue.claim(
                self.db, lease_seconds=self.settings.job_lease_seconds, job_id=job_id, early=True
            )
        except Exception:  # the row is committed: a worker runs it after the grace period
            log.exception("prompt_job_not_claimed", job_id=job_id)
            return
        if job is None:  # a worker already has it
            return
        try:
            await queue.run_claimed(self, job)
        except Exception:  # the change is committed: never fail its response; the lease lapses
            log.exception("prompt_job_not_recorded", job_id=job_id)

    async def dependency_status(self) -> dict[str, str]:
        """Each configured dependency and whether it answers ('ok' or the error)."""
        checks: dict[str, str] = {}
        try:
            await self.db.ping()
            checks["database"] = "ok"
        except Exception as exc:  # any failure means not ready; say which
            checks["database"] = f"error: {type(exc).__name__}"
        if self.redis is not None:
            try:
                await self.cache.ping()
                checks["redis"] = "ok"
            except Exception as exc:
                checks["redis"] = f"error: {type(exc).__name__}"
        try:
            await self.storage.ping()
            checks["storage"] = "ok"
        except Exception as exc:
            checks["storage"] = f"error: {type(exc).__name__}"
        if self.settings.broker_url:
            try:
                await self.jobs.ping()
                checks["broker"] = "ok"
            except Exception as exc:
                checks["broker"] = f"error: {type(exc).__name__}"
        return checks

    async def close(self) -> None:
        """Release every connection."""
        await self.hub.close()  # sockets are told to close before pub/sub goes away
        await self.pubsub.close()
        await self.jobs.stop()
        self.cpu.close()
        await self.cache.close()
        await self.db.close()
        if self.redis is not None:
            await self.redis.aclose()


async def start(settings: Settings) -> Runtime:
    """Build the adapters the settings ask for."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = db_mod.create_engine(settings.effective_database_url, pool_size=settings.db_pool_size)
    database = db_mod.Database(engine)
    redis: aioredis.Redis | None = None
    breaker: CircuitBreaker | None = None
    cache: cache_mod.Cache
    timelines: timelines_mod.TimelineStore
    trays: trays_mod.TrayStore
    fresh_for = dt.timedelta(days=settings.feed_active_days)
    if settings.redis_url:
        redis = redis_client.connect(settings.redis_url)
        # One breaker for this process's view of Redis: cache and timelines fail over together.
        breaker = CircuitBreaker("redis", reset_after=settings.redis_retry_seconds)
        cache = cache_mod.RedisCache(redis, prefix=settings.redis_prefix, breaker=breaker)
        timelines = timelines_mod.RedisTimelineStore(
            redis,
            prefix=settings.redis_prefix,
            fresh_for=fresh_for,
            breaker=breaker,
            cap=settings.feed_timeline_cap,
        )
        trays = trays_mod.RedisTrayStore(
            redis, prefix=settings.redis_prefix, fresh_for=fresh_for, breaker=breaker
        )
        limiter = ratelimit_mod.redis_rate_limiter(
            settings.redis_url, prefix=settings.redis_prefix, enabled=settings.rate_limits_enabled
        )
    else:
        cache = cache_mod.MemoryCache()
        timelines = timelines_mod.SqlTimelineStore(
            database, fresh_for=fresh_for, cap=settings.feed_timeline_cap
        )
        trays = trays_mod.SqlTrayStore(database, fresh_for=fresh_for)
        limiter = ratelimit_mod.memory_rate_limiter(enabled=settings.rate_limits_enabled)
    # SQLite is one machine's: the process ID tells its processes apart. PostgreSQL may serve
    # many machines: its sequence numbers every process, durably.
    allocator: ids_mod.ShardAllocator = (
        ids_mod.ProcessShardAllocator()
        if database.is_sqlite
        else ids_mod.SequenceShardAllocator(database)
    )
    try:
        shard = await allocator.allocate()
    except (SQLAlchemyError, OSError):
        # A database down at start must not keep the process down (/readyz says what is
        # wrong); a process-derived shard is unique on this machine, and a clash with another
        # machine needs the same millisecond and sequence too.
        log.warning("shard_allocation_fell_back", reason="database unreachable")
        shard = await ids_mod.ProcessShardAllocator().allocate()
    ids = ids_mod.IdGenerator(shard)
    jobs: queue_workers.TableJobQueue | queue_workers.RabbitJobQueue
    if settings.broker_url:
        jobs = queue_workers.RabbitJobQueue(ids=ids, settings=settings)
    else:
        jobs = queue_workers.TableJobQueue(ids=ids, concurrency=settings.job_concurrency)
    # Evictions reach other processes over Redis pub/sub, or embedded through the data folder;
    # PostgreSQL without Redis has neither across machines, so nothing is cached there.
    session_cache: SessionCache[Any] = SessionCache(
        ttl_seconds=settings.auth_cache_seconds if redis or database.is_sqlite else 0.0,
        stamp=None if redis else settings.data_dir / "sessions.stamp",
    )
    # With Redis, nothing is served from it until the hub has joined the control channel.
    session_cache.listening = redis is None
    pubsub, eventlog, hub = _real_time(settings, database, ids, redis, breaker, session_cache)
    runtime = Runtime(
        settings=settings,
        db=database,
        cache=cache,
        limiter=limiter,
        ids=ids,
        cpu=CpuPool(workers=settings.job_concurrency),
        storage=open_object_store(settings.storage_url, data_dir=settings.data_dir),
        jobs=jobs,
        timelines=timelines,
        trays=trays,
        generations=timelines_mod.Generations(database),
        pubsub=pubsub,
        eventlog=eventlog,
        hub=hub,
        session_cache=session_cache,
        mailer=mail_mod.open_mailer(settings),
        redis=redis,
    )
    jobs.bind(runtime)
    return runtime


def _real_time(
    settings: Settings,
    database: db_mod.Database,
    ids: ids_mod.IdGenerator,
    redis: aioredis.Redis | None,
    breaker: CircuitBreaker | None,
    session_cache: SessionCache[Any],
) -> tuple[pubsub_mod.PubSub, eventlog_mod.EventLog, hub_mod.Hub]:
    """Pub/sub, the stream event log and the connection hub: Redis when configured."""
    window, cap = settings.stream_window_seconds, settings.stream_window_events
    pubsub: pubsub_mod.PubSub
    eventlog: eventlog_mod.EventLog
    poll: float | None = None
    if redis is not None:
        pubsub = pubsub_mod.RedisPubSub(
            redis, url=settings.redis_url, prefix=settings.redis_prefix, breaker=breaker
        )
        eventlog = eventlog_mod.RedisEventLog(
            redis, prefix=settings.redis_prefix, window=window, cap=cap, breaker=breaker
        )
    else:
        pubsub = pubsub_mod.MemoryPubSub()
        eventlog = eventlog_mod.SqlEventLog(database, ids=ids, window=window, cap=cap)
        # In-process pub/sub does not reach sibling processes: look at the log as well.
        poll = settings.stream_poll_seconds
    hub = hub_mod.Hub(
        pubsub,
        eventlog=eventlog,
        queue_size=settings.stream_queue_size,
        poll_seconds=poll,
        session_cache=session_cache,
    )
    return pubsub, eventlog, hub
