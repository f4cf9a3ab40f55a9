"""The explore refresh is safe to run twice at once (several processes may start it together),
and new public posts join explore as they are published, between full refreshes."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import sqlalchemy as sa

from glint.feeds import jobs as feeds_jobs
from glint.feeds.models import ExploreCandidate
from glint.infra.db import utcnow
from glint.infra.runtime import Runtime
from tests.conftest import wait_for_jobs
from tests.factories.accounts import register
from tests.factories.posts import published_post
from tests.feeds.helpers import feed_ids


async def test_two_refreshes_at_once_both_succeed_and_agree(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    author = await register(client)
    posts = {int((await published_post(client, author))["id"]) for _ in range(3)}
    kept = await asyncio.gather(*(feeds_jobs.refresh_explore(clean_runtime) for _ in range(3)))
    assert kept == [3, 3, 3]
    async with clean_runtime.db.session() as session:
        stored = list(await session.scalars(sa.select(ExploreCandidate.post_id)))
    assert sorted(stored) == sorted(posts)  # one copy of each, whoever ran last


async def _computed_at(runtime: Runtime) -> dict[str, dt.datetime]:
    async with runtime.db.session() as session:
        rows = await session.execute(
            sa.select(ExploreCandidate.post_id, ExploreCandidate.computed_at)
        )
    return {str(post_id): at for post_id, at in rows}


async def test_a_new_public_post_shows_in_explore_before_the_next_full_refresh(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    viewer, author, hidden = [await register(client, name) for name in ("vic", "amy", "hid")]
    await client.patch("/users/me", json={"is_private": True}, headers=hidden.auth)
    first = (await published_post(client, author))["id"]
    await wait_for_jobs(clean_runtime)
    await feeds_jobs.refresh_explore(clean_runtime)
    refreshed = await _computed_at(clean_runtime)
    assert await feed_ids(client, viewer, "/explore") == [first]
    new = (await published_post(client, author, caption="just now"))["id"]
    private = (await published_post(client, hidden))["id"]
    await wait_for_jobs(clean_runtime)
    shown = await feed_ids(client, viewer, "/explore")
    assert sorted(shown) == sorted([first, new]) and private not in shown
    # No full refresh brought it: the refreshed row is as it was, and none is due.
    assert (await _computed_at(clean_runtime))[first] == refreshed[first]
    assert not await feeds_jobs.explore_is_stale(clean_runtime)


async def test_posts_added_one_by_one_do_not_put_off_the_full_refresh(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    author = await register(client)
    await published_post(client, author)
    await wait_for_jobs(clean_runtime)
    await feeds_jobs.refresh_explore(clean_runtime)
    interval = dt.timedelta(seconds=clean_runtime.settings.explore_refresh_seconds)
    async with clean_runtime.db.session() as session:  # the last full refresh, long ago
        await session.execute(
            sa.update(ExploreCandidate).values(computed_at=utcnow() - 2 * interval)
        )
        await session.commit()
    new = (await published_post(client, author))["id"]
    await wait_for_jobs(clean_runtime)
    assert new in await _computed_at(clean_runtime)  # added with a fresh score
    assert await feeds_jobs.explore_is_stale(clean_runtime)  # the reordering is still due
    assert await feeds_jobs.refresh_explore(clean_runtime) == 2
    assert not await feeds_jobs.explore_is_stale(clean_runtime)
