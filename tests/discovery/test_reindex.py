"""Rebuilding the search index from the database (`glint search reindex`), in both modes."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from glint.discovery import indexing
from glint.discovery.models import Hashtag
from glint.infra.runtime import Runtime
from tests.factories.accounts import make_inactive, register
from tests.factories.discovery import indexed_post


async def _names(client: httpx.AsyncClient, q: str) -> list[str]:
    body = (await client.get("/search", params={"q": q})).json()
    return sorted(user["username"] for user in body["users"])


async def test_a_rebuild_restores_what_events_had_indexed(
    client: httpx.AsyncClient, clean_runtime: Runtime
) -> None:
    author = await register(client, "otto", display_name="Otto Lilienthal")
    await register(client, "ottoline")
    await make_inactive(clean_runtime, "ottoline", "deleted_at")
    await indexed_post(client, clean_runtime, author, caption="gliding #flight #Wings")
    await indexed_post(client, clean_runtime, author, caption="more #flight")
    async with clean_runtime.db.session() as session:  # an index lost (or never built)
        await indexing.clear(session)
        await session.execute(sa.update(Hashtag).values(post_count=0))
        await session.commit()
    assert await _names(client, "lilien") == []
    progress: list[tuple[str, int, int]] = []
    await indexing.rebuild_all(
        clean_runtime.db, batch=1, on_progress=lambda *step: progress.append(step)
    )
    assert await _names(client, "lilien") == ["otto"]
    assert await _names(client, "otto") == ["otto"]  # the deleted account stays out
    posts = (await client.get("/search", params={"q": "glide", "type": "posts"})).json()
    assert len(posts["posts"]) == 1
    tags = (await client.get("/search", params={"q": "fli", "type": "hashtags"})).json()
    assert tags["hashtags"] == [{"name": "flight", "post_count": 2}]
    assert ("people", 1, 1) in progress and ("posts", 2, 2) in progress
