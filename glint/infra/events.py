"""Domain events through a transactional outbox: the mechanism, knowing no domain.

A domain says what happened by emitting an event inside the transaction that made it happen.
Emitting writes one job row per subscriber into that same transaction, so a change and every
consequence of it commit together or not at all, and each subscriber then runs on its own with
its own retries and dead-letter: one failing subscriber never blocks or repeats another.

Who subscribes to what is declared in one place, at the top (`glint.wiring`); this module only
keeps the table of subscriptions. Subscribers marked `prompt` are run by the committing process
right after the commit (their effect shows in the response that caused them, e.g. a new follow's
posts in the next feed load); their rows are due a few seconds later, so a worker takes them
over if that process dies first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Self, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from glint.infra import queue
from glint.infra.ids import IdGenerator

# Jobs of prompt subscribers wait this long before any worker may take them from the committer.
PROMPT_GRACE_SECONDS = 10.0
SESSION_JOBS_KEY = "glint.outbox.jobs"
SESSION_PROMPT_KEY = "glint.outbox.prompt"


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every domain event: a frozen dataclass of JSON-able fields with a unique name."""

    name: ClassVar[str]

    def to_payload(self) -> dict[str, Any]:
        """The event's fields, as stored in its subscribers' job rows."""
        return dataclasses.asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Self:
        """The event back from a job row (unknown keys, like the event ID, are ignored)."""
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in payload.items() if key in names})


E = TypeVar("E", bound=Event)
Subscriber = Callable[[queue.JobContext, E], Awaitable[None]]
DeadSubscriber = Callable[[queue.JobContext, E, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Subscription(Generic[E]):
    """One subscriber of one event type, run as the job named `job_name`."""

    event_type: type[E]
    job_name: str
    prompt: bool


class EventBus:
    """The table of subscriptions, and emitting events into the outbox."""

    def __init__(self, jobs: queue.JobRegistry) -> None:
        self._jobs = jobs
        self.subscriptions: dict[str, list[Subscription[Any]]] = {}
        self.event_types: dict[str, type[Event]] = {}
        self.wired = False

    def subscribe(
        self,
        event_type: type[E],
        subscriber: Subscriber[E],
        *,
        name: str,
        max_attempts: int = 5,
        on_dead: DeadSubscriber[E] | None = None,
        prompt: bool = False,
    ) -> None:
        """Run `subscriber` as its own durable job each time an event of this type commits."""
        known = self.event_types.setdefault(event_type.name, event_type)
        if known is not event_type:
            raise ValueError(f"two event types are named {event_type.name!r}")
        job_name = f"{event_type.name}:{name}"

        async def handle(ctx: queue.JobContext) -> None:
            await subscriber(ctx, event_type.from_payload(ctx.payload))

        dead_hook: queue.DeadHook | None = None
        if on_dead is not None:
            hook = on_dead

            async def dead(ctx: queue.JobContext, error: str) -> None:
                await hook(ctx, event_type.from_payload(ctx.payload), error)

            dead_hook = dead
        if job_name in self._jobs.jobs:
            raise ValueError(f"{job_name!r} is subscribed twice: give the subscriber another name")
        self._jobs.job(job_name, max_attempts=max_attempts, on_dead=dead_hook)(handle)
        self.subscriptions.setdefault(event_type.name, []).append(
            Subscription(event_type, job_name, prompt)
        )

    async def emit(self, session: AsyncSession, *, ids: IdGenerator, event: Event) -> int:
        """Write the event's subscriber jobs into the caller's transaction; the event's ID."""
        if not self.wired:
            # Emitting before the subscriptions are declared would drop consequences silently.
            raise RuntimeError("events emitted before glint.wiring.install() declared subscribers")
        event_id = ids.next_id()
        payload = {"event_id": event_id, **event.to_payload()}
        for subscription in self.subscriptions.get(event.name, []):
            delay = PROMPT_GRACE_SECONDS if subscription.prompt else 0.0
            job_id = await queue.add_job(
                session, ids=ids, name=subscription.job_name, payload=payload, delay=delay
            )
            key = SESSION_PROMPT_KEY if subscription.prompt else SESSION_JOBS_KEY
            session.info.setdefault(key, []).append(job_id)
        return event_id


def take_pending(session: AsyncSession) -> tuple[list[int], list[int]]:
    """(jobs to dispatch, jobs to run promptly) written by this session since it last asked."""
    return session.info.pop(SESSION_JOBS_KEY, []), session.info.pop(SESSION_PROMPT_KEY, [])


bus = EventBus(queue.registry)


def event_id(ctx: queue.JobContext) -> int:
    """The ID of the event a subscriber's job was written for (time-ordered, like every ID)."""
    return int(ctx.payload["event_id"])
