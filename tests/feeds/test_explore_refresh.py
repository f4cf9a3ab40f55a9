"""The explore refresh is safe to run twice at once (several processes may start it together)."""

from __future__ import annotations

import asyncio

import httpx
import sqlalchemy as sa

from glint.feeds import jobs as feeds_jobs
from glint.feeds.models import ExploreCandidate
from glint.infra.runtime import Runtime
from tests.factories.accounts import register
from tests.factories.posts import published_post


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
