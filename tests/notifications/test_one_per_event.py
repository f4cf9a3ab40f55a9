"""One event, one notification per person: a reply or comment that also mentions whom it
already tells is only the reply or comment; an approved follow request turns into "started
following you" instead of leaving a stale request. Both run modes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from glint.accounts.models import User
from glint.infra import queue
from glint.infra.queue import Job
from glint.infra.runtime import Runtime
from glint.notifications.models import Notification
from glint.social import service as social_service
from tests.conftest import wait_for_jobs
from tests.factories.accounts import TestUser, register
from tests.factories.posts import published_post


async def _inbox(client: httpx.AsyncClient, runtime: Runtime, user: TestUser) -> list[Any]:
    await wait_for_jobs(runtime)
    response = await client.get("/notifications", headers=user.auth)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _kinds(items: list[Any]) -> list[tuple[str, list[str]]]:
    return [(n["kind"], [a["username"] for a in n["actors"]]) for n in items]


async def _comment(
    client: httpx.AsyncClient, user: TestUser, post_id: str, text: str, parent: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"text": text}
    if parent is not None:
        body["parent_id"] = parent
    response = await client.post(f"/posts/{post_id}/comments", json=body, headers=user.auth)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_reply_that_mentions_whom_it_answers_is_one_reply(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    author, opener, replier, friend = [
        await register(client, name) for name in ("author", "opener", "replier", "friend")
    ]
    post = await published_post(client, author)
    top = await _comment(client, opener, post["id"], "first!")
    # The reply box is pre-filled with "@opener "; the replier also tags a friend.
    await _comment(client, replier, post["id"], "@opener agreed, @friend look", top["id"])

    assert _kinds(await _inbox(client, clean_runtime, opener)) == [("comment_reply", ["replier"])]
    assert _kinds(await _inbox(client, clean_runtime, friend)) == [("mention", ["replier"])]
    assert _kinds(await _inbox(client, clean_runtime, author)) == [
        ("comment", ["replier"]),
        ("comment", ["opener"]),
    ]


async def test_a_reply_to_the_authors_own_comment_that_mentions_them_is_one_comment(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    author, fan = await register(client, "author"), await register(client, "fan")
    post = await published_post(client, author)
    top = await _comment(client, author, post["id"], "thanks for coming")
    await _comment(client, fan, post["id"], "@author any time", top["id"])
    assert _kinds(await _inbox(client, clean_runtime, author)) == [("comment", ["fan"])]


async def test_a_comment_that_mentions_the_posts_author_is_one_comment(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    author, fan, friend = [await register(client, name) for name in ("author", "fan", "friend")]
    post = await published_post(client, author)
    await _comment(client, fan, post["id"], "@author great shot, right @friend?")
    inbox = await _inbox(client, clean_runtime, author)
    assert _kinds(inbox) == [("comment", ["fan"])]
    assert inbox[0]["text"] == "@author great shot, right @friend?"
    assert _kinds(await _inbox(client, clean_runtime, friend)) == [("mention", ["fan"])]
    # A mention of the author in a caption of someone else's post still tells them.
    other = await published_post(client, fan, caption="shot by @author")
    assert _kinds(await _inbox(client, clean_runtime, author)) == [
        ("mention", ["fan"]),
        ("comment", ["fan"]),
    ]
    assert (await _inbox(client, clean_runtime, author))[0]["post_id"] == other["id"]


async def test_an_approved_request_becomes_started_following_you(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    owner, asker = await register(client, "owner"), await register(client, "asker")
    await client.patch("/users/me", json={"is_private": True}, headers=owner.auth)
    await client.post("/users/owner/follow", headers=asker.auth)
    (request,) = await _inbox(client, clean_runtime, owner)
    assert (request["kind"], request["actors"][0]["username"]) == ("follow_request", "asker")
    await client.post("/notifications/read", headers=owner.auth)

    approved = await client.post("/follow-requests/asker/approve", headers=owner.auth)
    assert approved.status_code == 204
    (now,) = await _inbox(client, clean_runtime, owner)
    # The same notification, now saying "started following you": the shape of any follow.
    assert now["id"] == request["id"] and now["created_at"] == request["created_at"]
    assert _kinds([now]) == [("follow", ["asker"])]
    assert now["read"] is True  # already seen as a request; approving it is not news
    assert _kinds(await _inbox(client, clean_runtime, asker)) == [("follow_accepted", ["owner"])]
    unread = (await client.get("/notifications", headers=owner.auth)).json()["unread_count"]
    assert unread == 0
    # Unfollowing takes it away like any follow notification.
    await client.delete("/users/owner/follow", headers=asker.auth)
    assert await _inbox(client, clean_runtime, owner) == []


async def test_going_public_turns_every_request_into_a_follow(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    owner = await register(client, "owner")
    await client.patch("/users/me", json={"is_private": True}, headers=owner.auth)
    askers = [await register(client, f"asker{i}") for i in range(2)]
    for asker in askers:
        await client.post("/users/owner/follow", headers=asker.auth)
    assert [k for k, _ in _kinds(await _inbox(client, clean_runtime, owner))] == [
        "follow_request"
    ] * 2
    await client.patch("/users/me", json={"is_private": False}, headers=owner.auth)
    assert _kinds(await _inbox(client, clean_runtime, owner)) == [
        ("follow", ["asker1"]),
        ("follow", ["asker0"]),
    ]


@pytest.fixture
async def paused(clean_runtime: Runtime) -> AsyncIterator[Runtime]:
    """The runtime with its in-process worker stopped: the test decides what runs when."""
    await clean_runtime.jobs.stop()
    yield clean_runtime
    await clean_runtime.jobs.start()


async def _run(rt: Runtime, name: str) -> None:
    async with rt.db.session() as session:
        job_id = await session.scalar(sa.select(Job.id).where(Job.name == name))
    assert job_id is not None, name
    job = await queue.claim(rt.db, lease_seconds=30, job_id=job_id, early=True)
    assert job is not None
    assert await queue.run_claimed(rt, job) == "done"


@pytest.mark.parametrize("first", ["follow.created", "follow.requested"])
async def test_no_stale_request_whichever_job_runs_first(
    client: httpx.AsyncClient, paused: Runtime, first: str
) -> None:
    owner, asker = await register(client, "owner"), await register(client, "asker")
    async with paused.db.session() as session:
        target = await session.get(User, int(owner.id))
        requester = await session.get(User, int(asker.id))
        assert target is not None and requester is not None
        target.is_private = True
        await session.commit()
        await social_service.follow(session, ids=paused.ids, viewer=requester, target=target)
        await session.commit()  # no delivery: the jobs wait for the test
        await social_service.approve_request(
            session, ids=paused.ids, viewer=target, requester=requester
        )
        await session.commit()
    second = "follow.requested" if first == "follow.created" else "follow.created"
    await _run(paused, f"{first}:notifications")  # a late retry may run in either order
    await _run(paused, f"{second}:notifications")
    async with paused.db.session() as session:
        rows = (
            await session.execute(
                sa.select(Notification.kind).where(Notification.user_id == int(owner.id))
            )
        ).all()
    assert [kind for (kind,) in rows] == ["follow"]
