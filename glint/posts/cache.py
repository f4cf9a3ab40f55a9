"""A cache of shaped, published posts (no viewer flags), so a feed page rarely touches the database.

Entries are dropped by every change that shows in a post (like, comment, edit, delete) and live
a short while in any case, so an author's new avatar or name shows soon.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.infra.cache import Cache, CacheUnavailable
from glint.infra.logging import get_logger
from glint.media.urls import MediaUrls
from glint.posts import presenter
from glint.posts.models import Post, published_only
from glint.posts.schemas import PostOut

log = get_logger(__name__)

TTL_SECONDS = 120.0

# A post as the API sends it (PostOut's JSON), without the viewer's flags.
PostDoc = dict[str, Any]


def _key(post_id: int) -> str:
    return f"post:v1:{post_id}"


async def forget(cache: Cache, post_ids: Sequence[int]) -> None:
    """Drop cached posts after a change that shows in them (after its commit)."""
    try:
        await cache.delete(*(_key(post_id) for post_id in post_ids))
    except CacheUnavailable:
        # The cache is down, so nothing can be served from it either; entries expire anyway.
        log.warning("post_cache_forget_failed", post_ids=list(post_ids))


async def published_post_docs(
    session: AsyncSession, *, cache: Cache, urls: MediaUrls, post_ids: Sequence[int]
) -> dict[int, PostDoc]:
    """Published posts by ID in their wire form: from the cache, the rest from the database in
    one batch. The hot path splices these into responses with no model validation."""
    if not post_ids:
        return {}
    found: dict[int, PostDoc] = {}
    try:
        cached = await cache.get_many([_key(post_id) for post_id in post_ids])
    except CacheUnavailable:
        cached = [None] * len(post_ids)
    missing: list[int] = []
    for post_id, raw in zip(post_ids, cached, strict=True):
        if raw is None:
            missing.append(post_id)
        else:
            found[post_id] = orjson.loads(raw)
    if missing:
        rows = list(
            await session.scalars(sa.select(Post).where(Post.id.in_(missing), published_only()))
        )
        shaped = await presenter.posts_out(session, posts=rows, viewer=None, urls=urls)
        fresh = {post.id: post.model_dump(mode="json") for post in shaped}
        found.update(fresh)
        with contextlib.suppress(CacheUnavailable):
            await cache.set_many(
                {_key(post_id): orjson.dumps(doc) for post_id, doc in fresh.items()},
                ttl=TTL_SECONDS,
            )
    return found


def author_id(doc: PostDoc) -> int:
    """The author of a post in wire form."""
    return int(doc["author"]["id"])


async def published_posts(
    session: AsyncSession, *, cache: Cache, urls: MediaUrls, post_ids: Sequence[int]
) -> dict[int, PostOut]:
    """Published posts by ID as models (pages that render them)."""
    docs = await published_post_docs(session, cache=cache, urls=urls, post_ids=post_ids)
    return {post_id: PostOut.model_validate(doc) for post_id, doc in docs.items()}
