"""A post moves only along its life cycle: move_post refuses an illegal move and changes nothing."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from glint.infra.runtime import Runtime
from glint.media.lifecycle import IllegalTransition, MediaStatus
from glint.posts.models import Post, move_post
from tests.factories.accounts import register
from tests.factories.posts import published_post


async def _status(rt: Runtime, post_id: int) -> str | None:
    async with rt.db.session() as session:
        return await session.scalar(sa.select(Post.status).where(Post.id == post_id))


async def test_a_published_post_cannot_go_back_to_processing(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    author = await register(client)
    post_id = int((await published_post(client, author))["id"])
    async with clean_runtime.db.session() as session:
        with pytest.raises(IllegalTransition):
            await move_post(session, post_id=post_id, to=MediaStatus.PROCESSING)
        with pytest.raises(IllegalTransition):
            await move_post(session, post_id=post_id, to=MediaStatus.FAILED, failure_reason="x")
        # Already there (a job running twice) is no move and no error.
        assert await move_post(session, post_id=post_id, to=MediaStatus.PUBLISHED) is False
        await session.commit()
    assert await _status(clean_runtime, post_id) == "published"


async def test_a_missing_post_does_not_move(clean_runtime: Runtime) -> None:
    async with clean_runtime.db.session() as session:
        assert await move_post(session, post_id=123456789, to=MediaStatus.FAILED) is False


async def test_a_failed_post_may_be_retried_then_published(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    author = await register(client)
    post_id = int((await published_post(client, author))["id"])
    async with clean_runtime.db.session() as session:
        # Put it back to failed by hand (as if processing had failed), then walk the cycle.
        await session.execute(
            sa.update(Post).where(Post.id == post_id).values(status=MediaStatus.FAILED)
        )
        with pytest.raises(IllegalTransition):
            await move_post(session, post_id=post_id, to=MediaStatus.PUBLISHED)
        assert await move_post(session, post_id=post_id, to=MediaStatus.PROCESSING) is True
        assert await move_post(session, post_id=post_id, to=MediaStatus.PUBLISHED) is True
        await session.commit()
    assert await _status(clean_runtime, post_id) == "published"
