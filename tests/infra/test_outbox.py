"""The transactional outbox, in both run modes: a crash between a change and its consequence
loses nothing (notifications included), a rolled-back change has no consequence, and a failing
subscriber is retried on its own.

A process "dies right after its commit" here by committing with a plain `session.commit()`:
`Runtime.commit` never runs, so no worker is woken and no prompt subscriber runs inline, and
the embedded in-process worker is stopped with it. Recovery is what a deployment does next: the
prompt rows' grace period passes, `glint serve` starts again (embedded) and the scheduler's sweep
delivers every due job (to the in-process worker, or over RabbitMQ to the real `glint worker`
process of the scale-out fixtures).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User
from glint.infra import events, queue
from glint.infra.db import utcnow
from glint.infra.events import Event, bus
from glint.infra.queue import Job, JobContext
from glint.infra.queue_workers import TableJobQueue, sweep_jobs
from glint.infra.runtime import Runtime
from glint.posts import engagement
from glint.social import service as social_service
from tests.conftest import wait_for_jobs
from tests.factories.accounts import TestUser, register
from tests.factories.posts import published_post

BACKGROUND = Counter(
    ["like.created:notifications", "comment.created:notifications", "follow.created:notifications"]
)
PROMPT = Counter(
    [
        "like.created:posts.uncache",
        "comment.created:posts.uncache",
        "follow.created:feeds.timeline",
        "follow.created:stories.tray",
    ]
)


# --- a test-only event with three subscribers: steady, flaky (fails once), broken (always) -----


@dataclass(frozen=True, slots=True)
class ProbeHappened(Event):
    """Something happened that three test subscribers follow."""

    name = "test.outbox_probe"
    token: str


PROBE_RUNS: list[tuple[str, int, str]] = []  # (subscriber, attempt, token)
PROBE_DEAD: list[tuple[str, str]] = []  # (token, error)


async def _steady(ctx: JobContext, event: ProbeHappened) -> None:
    PROBE_RUNS.append(("steady", ctx.attempt, event.token))


async def _flaky(ctx: JobContext, event: ProbeHappened) -> None:
    PROBE_RUNS.append(("flaky", ctx.attempt, event.token))
    if ctx.attempt == 1:
        raise RuntimeError("the first try fails")


async def _broken(ctx: JobContext, event: ProbeHappened) -> None:
    PROBE_RUNS.append(("broken", ctx.attempt, event.token))
    raise ValueError("never works")


async def _broken_dead(ctx: JobContext, event: ProbeHappened, error: str) -> None:
    PROBE_DEAD.append((event.token, error))


# Only this process knows these subscribers (a scale-out `glint worker` does not): their jobs are
# never dispatched, and the tests play the worker themselves.
bus.subscribe(ProbeHappened, _broken, name="broken", max_attempts=2, on_dead=_broken_dead)
bus.subscribe(ProbeHappened, _flaky, name="flaky", max_attempts=3)
bus.subscribe(ProbeHappened, _steady, name="steady")


# --- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
async def rt(clean_runtime: Runtime) -> AsyncIterator[Runtime]:
    """The runtime; afterwards its worker works again and no probe job is left behind."""
    PROBE_RUNS.clear()
    PROBE_DEAD.clear()
    yield clean_runtime
    async with clean_runtime.db.session() as session:
        await session.execute(sa.delete(Job).where(Job.name.like(f"{ProbeHappened.name}:%")))
        await session.commit()
    await clean_runtime.jobs.start()


async def _stop_this_process_worker(rt: Runtime) -> None:
    """The committing process dies, and its in-process worker (embedded) with it.

    At scale a `glint worker` hears of a job only when a committer (or the scheduler's sweep)
    dispatches it, so it stays idle until then.
    """
    if isinstance(rt.jobs, TableJobQueue):
        await rt.jobs.stop()


async def _recover(rt: Runtime, prompt_ids: Iterable[int]) -> None:
    """What follows the crash: the grace passes, serve starts again, the scheduler sweeps."""
    async with rt.db.session() as session:  # the grace period has passed
        await session.execute(
            sa.update(Job).where(Job.id.in_(list(prompt_ids))).values(run_after=utcnow())
        )
        await session.commit()
    await rt.jobs.start()  # embedded: `glint serve` is back with its worker
    await sweep_jobs(rt)  # the periodic sweep delivers every due job


async def _jobs(rt: Runtime, ids: Iterable[int]) -> list[Job]:
    async with rt.db.session() as session:
        return list(await session.scalars(sa.select(Job).where(Job.id.in_(list(ids)))))


async def _all_jobs(rt: Runtime) -> list[Job]:
    async with rt.db.session() as session:
        return list(await session.scalars(sa.select(Job)))


async def _settled(rt: Runtime, ids: list[int], *, within: float = 30.0) -> list[Job]:
    """Poll until every one of these jobs is done or dead (bounded); their rows."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        rows = await _jobs(rt, ids)
        if all(row.status in ("done", "dead") for row in rows):
            return rows
        if asyncio.get_running_loop().time() > deadline:
            states = [(row.name, row.status, row.last_error) for row in rows]
            raise AssertionError(f"jobs not settled within {within}s: {states}")
        await asyncio.sleep(0.05)


async def _kinds(client: httpx.AsyncClient, user: TestUser) -> list[tuple[str, list[str]]]:
    response = await client.get("/notifications", headers=user.auth)
    assert response.status_code == 200, response.text
    return sorted(
        (item["kind"], [actor["username"] for actor in item["actors"]])
        for item in response.json()["items"]
    )


async def _feed(client: httpx.AsyncClient, user: TestUser) -> list[dict[str, Any]]:
    response = await client.get("/feed", headers=user.auth)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def _counts(client: httpx.AsyncClient, user: TestUser, post_id: str) -> tuple[int, int]:
    """(like_count, comment_count) of the post as stored (GET /posts/{id} reads the database)."""
    post = (await client.get(f"/posts/{post_id}", headers=user.auth)).json()
    return post["like_count"], post["comment_count"]


async def _feed_counts(client: httpx.AsyncClient, user: TestUser) -> list[tuple[str, int, int]]:
    """(id, like_count, comment_count) of the user's feed (posts come from the post cache)."""
    return [
        (item["id"], item["like_count"], item["comment_count"])
        for item in await _feed(client, user)
    ]


@dataclass
class Scene:
    """An author with a published post, a fan about to act on it, a friend to be mentioned."""

    author: TestUser
    fan: TestUser
    friend: TestUser
    post_id: str


async def _scene(client: httpx.AsyncClient, rt: Runtime) -> Scene:
    author = await register(client, "author")
    fan = await register(client, "fan")
    friend = await register(client, "friend")
    post = await published_post(client, author)
    await wait_for_jobs(rt)
    # Read paths are warm: the author's feed holds the post in the post cache, and the fan's
    # timeline exists without it. Only the subscribers can change what these show.
    assert await _feed_counts(client, author) == [(post["id"], 0, 0)]
    assert await _feed(client, fan) == []
    return Scene(author, fan, friend, post["id"])


async def _like_comment_follow(session: AsyncSession, rt: Runtime, scene: Scene) -> None:
    """The fan likes the post, comments on it mentioning the friend, and follows the author."""
    fan = await session.get(User, int(scene.fan.id))
    author = await session.get(User, int(scene.author.id))
    assert fan is not None and author is not None
    post_id = int(scene.post_id)
    _, liked = await engagement.like_post(session, ids=rt.ids, viewer=fan, post_id=post_id)
    assert liked
    await engagement.add_comment(
        session,
        ids=rt.ids,
        viewer=fan,
        post_id=post_id,
        text="lovely @friend",
        parent_id=None,
        guard=engagement.CommentGuard.of(rt.settings),
    )
    status, followed = await social_service.follow(session, ids=rt.ids, viewer=fan, target=author)
    assert (status, followed) == ("following", True)


# --- a crash right after the commit ------------------------------------------------------------


async def test_a_crash_right_after_the_commit_loses_no_consequence(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    scene = await _scene(client, rt)
    await _stop_this_process_worker(rt)
    async with rt.db.session() as session:
        await _like_comment_follow(session, rt, scene)
        await session.commit()
        # What Runtime.commit would now deliver; the process dies before it does.
        background, prompt = events.take_pending(session)

    # The job rows committed with the change, one per subscriber, and nothing ran.
    written = await _jobs(rt, background + prompt)
    assert len(written) == len(background) + len(prompt) == 7
    assert Counter(job.name for job in written if job.id in background) == BACKGROUND
    assert Counter(job.name for job in written if job.id in prompt) == PROMPT
    assert all(job.status == "queued" and job.attempts == 0 for job in written)
    now = utcnow()
    assert all(job.run_after > now for job in written if job.id in prompt)  # the grace
    # The change itself is there; none of its consequences are.
    assert await _counts(client, scene.author, scene.post_id) == (1, 1)
    assert await _kinds(client, scene.author) == []
    assert await _kinds(client, scene.friend) == []
    assert await _feed_counts(client, scene.author) == [(scene.post_id, 0, 0)]  # stale copy
    assert await _feed(client, scene.fan) == []

    await _recover(rt, prompt)
    done = await _settled(rt, background + prompt)
    assert [(job.name, job.status, job.attempts) for job in done if job.status != "done"] == []

    assert await _kinds(client, scene.author) == [
        ("comment", ["fan"]),
        ("follow", ["fan"]),
        ("like", ["fan"]),
    ]
    assert await _kinds(client, scene.friend) == [("mention", ["fan"])]
    assert await _kinds(client, scene.fan) == []
    assert await _feed_counts(client, scene.author) == [(scene.post_id, 1, 1)]  # uncached
    assert [item["id"] for item in await _feed(client, scene.fan)] == [scene.post_id]
    await wait_for_jobs(rt)
    assert [job.name for job in await _all_jobs(rt) if job.status != "done"] == []


# --- a rollback after emitting -----------------------------------------------------------------


async def _fail_after_acting(rt: Runtime, scene: Scene) -> None:
    async with rt.db.session() as session:
        await _like_comment_follow(session, rt, scene)
        await session.flush()
        raise RuntimeError("the request failed")  # Database.session() rolls back


async def test_a_rolled_back_change_leaves_no_job_and_no_consequence(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    scene = await _scene(client, rt)
    before = {job.id for job in await _all_jobs(rt)}

    async with rt.db.session() as session:
        await _like_comment_follow(session, rt, scene)
        assert len(session.info[events.SESSION_JOBS_KEY]) == 3  # emitted, not yet committed
        assert len(session.info[events.SESSION_PROMPT_KEY]) == 4  # follow: timeline and tray
        await session.rollback()
    with pytest.raises(RuntimeError, match="the request failed"):
        await _fail_after_acting(rt, scene)

    assert {job.id for job in await _all_jobs(rt)} == before
    await sweep_jobs(rt)  # a worker finds nothing to do
    await wait_for_jobs(rt)
    assert await _counts(client, scene.author, scene.post_id) == (0, 0)
    assert await _kinds(client, scene.author) == []
    assert await _kinds(client, scene.friend) == []
    assert await _feed_counts(client, scene.author) == [(scene.post_id, 0, 0)]
    assert await _feed(client, scene.fan) == []
    relation = (await client.get("/users/author", headers=scene.fan.auth)).json()["relationship"]
    assert relation["following"] is False

    # The session goes on after its rollback and commits a like the normal way: only the like
    # has consequences, not the jobs of the transaction that was rolled back.
    async with rt.db.session() as session:
        await _like_comment_follow(session, rt, scene)
        await session.rollback()
        fan = await session.get(User, int(scene.fan.id))
        assert fan is not None
        await engagement.like_post(session, ids=rt.ids, viewer=fan, post_id=int(scene.post_id))
        await rt.commit(session)
    assert await _feed_counts(client, scene.author) == [(scene.post_id, 1, 0)]  # prompt uncache
    await wait_for_jobs(rt)
    assert await _kinds(client, scene.author) == [("like", ["fan"])]
    assert await _kinds(client, scene.friend) == []
    assert await _feed(client, scene.fan) == []
    new = [job for job in await _all_jobs(rt) if job.id not in before]
    assert sorted((job.name, job.status) for job in new) == [
        ("like.created:notifications", "done"),
        ("like.created:posts.uncache", "done"),
        ("notification.recorded:realtime.stream", "done"),  # the notification, told live
    ]


# --- a failing subscriber is retried on its own ------------------------------------------------


async def _run(rt: Runtime, job_id: int) -> str | None:
    """Play the worker for one job: claim it by ID and run it; None when it is not claimable."""
    job = await queue.claim(rt.db, lease_seconds=30, job_id=job_id)
    if job is None:
        return None
    return await queue.run_claimed(rt, job)


async def _make_due(rt: Runtime, ids: Iterable[int]) -> None:
    """Their retry backoff has passed."""
    async with rt.db.session() as session:
        await session.execute(
            sa.update(Job)
            .where(Job.id.in_(list(ids)), Job.status == "queued")
            .values(run_after=utcnow())
        )
        await session.commit()


async def test_a_failing_subscriber_is_retried_alone(rt: Runtime) -> None:
    await _stop_this_process_worker(rt)  # the test is the only worker of these jobs
    async with rt.db.session() as session:
        event_id = await bus.emit(session, ids=rt.ids, event=ProbeHappened("t1"))
        await session.commit()
        background, prompt = events.take_pending(session)
    assert prompt == []
    rows = await _jobs(rt, background)
    by_name = {job.name.removeprefix(f"{ProbeHappened.name}:"): job.id for job in rows}
    assert sorted(by_name) == ["broken", "flaky", "steady"]  # one durable job per subscriber
    assert {job.payload["event_id"] for job in rows} == {event_id}

    # First round, failures first: they neither stop nor delay the steady subscriber.
    assert await _run(rt, by_name["broken"]) == "retry"
    assert await _run(rt, by_name["flaky"]) == "retry"
    assert await _run(rt, by_name["steady"]) == "done"
    state = {job.name.rsplit(":", 1)[1]: job for job in await _jobs(rt, background)}
    assert (state["steady"].status, state["steady"].attempts) == ("done", 1)
    assert (state["flaky"].status, state["flaky"].attempts) == ("queued", 1)
    assert state["flaky"].last_error == "RuntimeError: the first try fails"
    assert (state["broken"].status, state["broken"].attempts) == ("queued", 1)

    # Second round: only the failed ones run again; the steady one is never repeated.
    await _make_due(rt, background)
    assert await _run(rt, by_name["steady"]) is None
    assert await _run(rt, by_name["flaky"]) == "done"
    assert await _run(rt, by_name["broken"]) == "dead"
    assert await _run(rt, by_name["steady"]) is None

    assert sorted(PROBE_RUNS) == [
        ("broken", 1, "t1"),
        ("broken", 2, "t1"),
        ("flaky", 1, "t1"),
        ("flaky", 2, "t1"),
        ("steady", 1, "t1"),
    ]
    assert PROBE_DEAD == [("t1", "ValueError: never works")]
    final = {job.name.rsplit(":", 1)[1]: job for job in await _jobs(rt, background)}
    assert {name: (job.status, job.attempts) for name, job in final.items()} == {
        "steady": ("done", 1),
        "flaky": ("done", 2),
        "broken": ("dead", 2),
    }
    assert final["flaky"].last_error is None
    assert final["broken"].last_error == "ValueError: never works"
