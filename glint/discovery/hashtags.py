"""Hashtag pages and followed hashtags.

A hashtag's posts are the published posts indexed under it (`HashtagPost`), shown to a viewer
only where the viewer may see their author. Following a hashtag brings its posts into the
home feed (glint.feeds reads `HashtagFollow`).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User
from glint.discovery.models import TAG_LENGTH, Hashtag, HashtagFollow, HashtagPost
from glint.discovery.schemas import HashtagSort
from glint.errors import BadRequest, NotFound, ValidationFailed
from glint.infra import cache as cache_mod
from glint.infra import db as db_mod
from glint.infra.cache import Cache
from glint.infra.db import utcnow
from glint.infra.ids import IdGenerator
from glint.paging import cursor_int, decode_cursor, encode_cursor
from glint.posts.models import Post, published_only
from glint.social import queries as social_queries

TAG = re.compile(rf"\w{{1,{TAG_LENGTH}}}")
MAX_FOLLOWED = 500
# "Top" ranks this many of a hashtag's newest visible posts by engagement, once per browse.
TOP_POOL = 1000
TOP_KEEP = 300
TOP_SNAPSHOT_SECONDS = 900.0


def tag_of(name: str) -> str:
    """A hashtag as stored (lower-cased, without '#'); 404 for what cannot be one."""
    tag = name.removeprefix("#").lower()
    if not TAG.fullmatch(tag):
        raise NotFound("No such hashtag.")
    return tag


@dataclass(frozen=True, slots=True)
class HashtagInfo:
    """A hashtag page's head: its name, count, and whether the viewer follows it."""

    tag: str
    post_count: int
    following: bool | None


async def get_hashtag(session: AsyncSession, *, name: str, viewer_id: int | None) -> HashtagInfo:
    """A hashtag that has been used; 404 for one never used."""
    tag = tag_of(name)
    row = await session.get(Hashtag, tag)
    if row is None:
        raise NotFound("No such hashtag.")
    following = None
    if viewer_id is not None:
        following = await session.get(HashtagFollow, (viewer_id, tag)) is not None
    return HashtagInfo(tag, row.post_count, following)


def _visible_tagged(tag: str, viewer_id: int | None) -> sa.Select[Any]:
    """SQL: IDs of the hashtag's published posts whose author the viewer may see."""
    return (
        sa.select(HashtagPost.post_id)
        .join(Post, Post.id == HashtagPost.post_id)
        .join(User, User.id == Post.author_id)
        .where(
            HashtagPost.tag == tag,
            published_only(),
            social_queries.posts_visible_to(viewer_id),
        )
    )


async def recent_posts(
    session: AsyncSession, *, name: str, viewer_id: int | None, cursor: str | None, limit: int
) -> tuple[list[int], str | None]:
    """A page of the hashtag's posts, newest first (keyset by post ID)."""
    info = await get_hashtag(session, name=name, viewer_id=None)
    statement = _visible_tagged(info.tag, viewer_id)
    if cursor is not None:
        statement = statement.where(HashtagPost.post_id < cursor_int(decode_cursor(cursor), "id"))
    ids: list[int] = list(
        await session.scalars(statement.order_by(HashtagPost.post_id.desc()).limit(limit + 1))
    )
    more = len(ids) > limit
    page = ids[:limit]
    return page, encode_cursor({"id": page[-1]}) if more else None


async def top_posts(
    session: AsyncSession,
    *,
    cache: Cache,
    name: str,
    viewer_id: int | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[int], str | None]:
    """A page of the hashtag's most engaging recent posts. The order is fixed when the first
    page is asked for (likes arriving while someone browses must not repeat or skip posts)."""
    info = await get_hashtag(session, name=name, viewer_id=None)
    snapshot: list[int] | None = None
    offset = 0
    if cursor is not None:
        position = decode_cursor(cursor)
        key = position.get("s")
        if not isinstance(key, str) or len(key) > 40:
            raise BadRequest("The cursor is not one this server gave out.", code="invalid_cursor")
        offset = cursor_int(position, "o")
        snapshot = await _load(cache, info.tag, viewer_id, key)
    if snapshot is None:
        key = secrets.token_urlsafe(9)
        snapshot = await _rank_top(session, tag=info.tag, viewer_id=viewer_id)
        await cache_mod.store_json(
            cache, _snapshot_key(info.tag, viewer_id, key), snapshot, ttl=TOP_SNAPSHOT_SECONDS
        )
    page = snapshot[offset : offset + limit]
    end = offset + len(page)
    return page, encode_cursor({"s": key, "o": end}) if end < len(snapshot) else None


async def _rank_top(session: AsyncSession, *, tag: str, viewer_id: int | None) -> list[int]:
    pool = _visible_tagged(tag, viewer_id).order_by(HashtagPost.post_id.desc()).limit(TOP_POOL)
    pool_ids = pool.subquery()
    engagement = Post.like_count + 2 * Post.comment_count
    ranked = (
        sa.select(Post.id)
        .join(pool_ids, pool_ids.c.post_id == Post.id)
        .order_by(engagement.desc(), Post.id.desc())
        .limit(TOP_KEEP)
    )
    return list(await session.scalars(ranked))


def _snapshot_key(tag: str, viewer_id: int | None, key: str) -> str:
    return f"tagtop:{viewer_id or 0}:{key}:{tag}"


async def _load(cache: Cache, tag: str, viewer_id: int | None, key: str) -> list[int] | None:
    value = await cache_mod.load_json(cache, _snapshot_key(tag, viewer_id, key))
    return None if not isinstance(value, list) else [int(item) for item in value]


async def posts_page(
    session: AsyncSession,
    *,
    cache: Cache,
    name: str,
    sort: HashtagSort,
    viewer_id: int | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[int], str | None]:
    """A page of the hashtag's posts in the order asked for."""
    if sort == "top":
        return await top_posts(
            session, cache=cache, name=name, viewer_id=viewer_id, cursor=cursor, limit=limit
        )
    return await recent_posts(session, name=name, viewer_id=viewer_id, cursor=cursor, limit=limit)


async def follow(session: AsyncSession, *, ids: IdGenerator, viewer: User, name: str) -> None:
    """Follow a hashtag that has been used (idempotent)."""
    info = await get_hashtag(session, name=name, viewer_id=viewer.id)
    if info.following:
        return
    count = await session.scalar(
        sa.select(sa.func.count()).where(HashtagFollow.user_id == viewer.id)
    )
    if (count or 0) >= MAX_FOLLOWED:
        raise ValidationFailed(f"You can follow at most {MAX_FOLLOWED} hashtags.")
    await db_mod.insert_ignore(
        session,
        HashtagFollow,
        {"user_id": viewer.id, "tag": info.tag, "id": ids.next_id(), "created_at": utcnow()},
    )


async def unfollow(session: AsyncSession, *, viewer: User, name: str) -> None:
    """Stop following a hashtag (idempotent)."""
    info = await get_hashtag(session, name=name, viewer_id=None)
    await session.execute(
        sa.delete(HashtagFollow).where(
            HashtagFollow.user_id == viewer.id, HashtagFollow.tag == info.tag
        )
    )


async def followed_tags(session: AsyncSession, *, user_id: int) -> list[str]:
    """The hashtags a user follows, most recently followed first."""
    return list(
        await session.scalars(
            sa.select(HashtagFollow.tag)
            .where(HashtagFollow.user_id == user_id)
            .order_by(HashtagFollow.id.desc())
        )
    )
