"""Announcements check their cause: a like taken back before its notification job ran (a retry
runs late) is never announced, whatever order the two jobs run in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa

from glint.accounts.models import User
from glint.infra import queue
from glint.infra.queue import Job
from glint.infra.runtime import Runtime
from glint.notifications.models import Notification
from glint.posts import engagement
from tests.factories.accounts import register
from tests.factories.posts import published_post


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


async def test_an_unlike_that_overtakes_its_like_leaves_no_notification(
    client: httpx.AsyncClient, paused: Runtime
) -> None:
    author, fan = await register(client), await register(client)
    await paused.jobs.start()
    post_id = int((await published_post(client, author))["id"])
    await paused.jobs.stop()
    async with paused.db.session() as session:
        viewer = await session.get(User, int(fan.id))
        assert viewer is not None
        await engagement.like_post(session, ids=paused.ids, viewer=viewer, post_id=post_id)
        await session.commit()  # no delivery: the jobs wait for the test
        await engagement.unlike_post(session, ids=paused.ids, viewer=viewer, post_id=post_id)
        await session.commit()
    await _run(paused, "like.removed:notifications")  # the unlike's job runs first …
    await _run(paused, "like.created:notifications")  # … and the like's (a late retry) after
    async with paused.db.session() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


async def test_a_late_unlike_does_not_withdraw_a_like_given_again(
    client: httpx.AsyncClient, paused: Runtime
) -> None:
    author, fan = await register(client), await register(client)
    await paused.jobs.start()
    post_id = int((await published_post(client, author))["id"])
    await paused.jobs.stop()
    async with paused.db.session() as session:
        viewer = await session.get(User, int(fan.id))
        assert viewer is not None
        for change in (engagement.like_post, engagement.unlike_post, engagement.like_post):
            await change(session, ids=paused.ids, viewer=viewer, post_id=post_id)
            await session.commit()  # no delivery: the jobs wait for the test
        likes = list(
            await session.scalars(
                sa.select(Job.id).where(Job.name == "like.created:notifications").order_by(Job.id)
            )
        )
    for job_id in likes:  # both likes are announced first …
        job = await queue.claim(paused.db, lease_seconds=30, job_id=job_id, early=True)
        assert job is not None
        assert await queue.run_claimed(paused, job) == "done"
    await _run(paused, "like.removed:notifications")  # … then the unlike between them runs late
    async with paused.db.session() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 1
