"""Keeping the text index and the hashtag tables in step with posts and profiles.

Every function here is idempotent and converges on what the database says now (the event that
triggered it may be old, retried, or overtaken by a later one): a post is indexed while it is
published, a person while their account is active. Reads never depend on the index being
current for privacy: searches join the live graph, so a deleted post or a banned account
vanishes from results before its de-indexing job has run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User, active_accounts
from glint.discovery import trends
from glint.discovery.models import Hashtag, HashtagPost
from glint.infra import db as db_mod
from glint.infra import search
from glint.infra.db import Database, UTCDateTime, utcnow
from glint.media.lifecycle import MediaStatus
from glint.posts.models import Post, PostHashtag, published_only

SECONDS_PER_HOUR = 3600


def index_of(session: AsyncSession) -> search.SearchIndex:
    """The text index of the session's database."""
    return search.index_for(db_mod.dialect_of(session))


async def sync_person(session: AsyncSession, *, user_id: int) -> None:
    """Index an account as it is now, or forget it when it is gone, banned or deleted."""
    index = index_of(session)
    user = await session.get(User, user_id)
    if user is None or not user.is_active_account:
        await index.remove_people(session, [user_id])
        return
    await index.put_people(session, [search.PersonDoc(user.id, user.username, user.display_name)])


async def sync_post(session: AsyncSession, *, post_id: int) -> list[str]:
    """Index a post as it is now (its caption and hashtags while published, nothing otherwise);
    the hashtags it newly joined."""
    index = index_of(session)
    post = await session.get(Post, post_id)
    if post is None or post.status != MediaStatus.PUBLISHED:
        await index.remove_posts(session, [post_id])
        await _set_post_tags(session, post_id=post_id, author_id=0, tags=[])
        return []
    await index.put_posts(session, [search.TextDoc(post.id, post.caption)])
    tags = list(
        await session.scalars(sa.select(PostHashtag.tag).where(PostHashtag.post_id == post_id))
    )
    return await _set_post_tags(session, post_id=post_id, author_id=post.author_id, tags=tags)


async def _set_post_tags(
    session: AsyncSession, *, post_id: int, author_id: int, tags: Sequence[str]
) -> list[str]:
    """Make the post's indexed hashtags these, moving each hashtag's count with its rows (a
    retried job finds its rows in place and moves nothing); the hashtags added."""
    held = set(
        await session.scalars(sa.select(HashtagPost.tag).where(HashtagPost.post_id == post_id))
    )
    wanted = set(tags)
    gone, added = held - wanted, [tag for tag in tags if tag not in held]
    if gone:
        await session.execute(
            sa.delete(HashtagPost).where(HashtagPost.post_id == post_id, HashtagPost.tag.in_(gone))
        )
        await _count(session, tags=gone, by=-1)
    for tag in added:
        await db_mod.insert_ignore(
            session, HashtagPost, {"tag": tag, "post_id": post_id, "author_id": author_id}
        )
        await db_mod.insert_ignore(
            session, Hashtag, {"tag": tag, "post_count": 0, "created_at": utcnow()}
        )
    await _count(session, tags=added, by=1)
    return added


async def _count(session: AsyncSession, *, tags: Sequence[str] | set[str], by: int) -> None:
    if tags:
        await session.execute(
            sa.update(Hashtag)
            .where(Hashtag.tag.in_(list(tags)))
            .values(post_count=Hashtag.post_count + by)
        )


async def post_published(
    session: AsyncSession, *, post_id: int, author_id: int, now: dt.datetime
) -> None:
    """A post went public: index it and count its hashtags' uses (at `now`) for trends."""
    added = await sync_post(session, post_id=post_id)
    hour = int(now.timestamp()) // SECONDS_PER_HOUR
    await trends.record_uses(session, tags=added, author_id=author_id, hour=hour)


async def rebuild_people(session: AsyncSession, *, after_id: int, batch: int) -> int | None:
    """Index the next batch of active accounts after `after_id`; the last ID done, or None at
    the end (a rebuild calls this until then, committing between batches)."""
    users = list(
        (
            await session.execute(
                sa.select(User.id, User.username, User.display_name)
                .where(User.id > after_id, active_accounts())
                .order_by(User.id)
                .limit(batch)
            )
        ).all()
    )
    if not users:
        return None
    await index_of(session).put_people(
        session, [search.PersonDoc(user_id, name, display) for user_id, name, display in users]
    )
    return users[-1][0]


async def rebuild_posts(session: AsyncSession, *, after_id: int, batch: int) -> int | None:
    """Index the next batch of published posts after `after_id`, captions and hashtags; the
    last ID done, or None at the end."""
    posts = list(
        (
            await session.execute(
                sa.select(Post.id, Post.author_id, Post.caption)
                .where(Post.id > after_id, published_only())
                .order_by(Post.id)
                .limit(batch)
            )
        ).all()
    )
    if not posts:
        return None
    ids = [post_id for post_id, _, _ in posts]
    await index_of(session).put_posts(
        session, [search.TextDoc(post_id, caption) for post_id, _, caption in posts]
    )
    authors = {post_id: author_id for post_id, author_id, _ in posts}
    tagged = await session.execute(
        sa.select(PostHashtag.post_id, PostHashtag.tag).where(
            db_mod.among(session, PostHashtag.post_id, ids)
        )
    )
    rows = [
        {"tag": tag, "post_id": post_id, "author_id": authors[post_id]} for post_id, tag in tagged
    ]
    if rows:
        await session.execute(sa.insert(HashtagPost), rows)
    return ids[-1]


async def clear(session: AsyncSession) -> None:
    """Start a rebuild: an empty text index and no indexed hashtags."""
    await index_of(session).clear(session)
    await session.execute(sa.delete(HashtagPost))


async def recount_hashtags(session: AsyncSession) -> None:
    """End a rebuild: every hashtag's count from its indexed posts (one statement), unused
    ones at zero."""
    await session.execute(sa.update(Hashtag).values(post_count=0))
    counts = (
        sa.select(HashtagPost.tag, sa.func.count(), sa.literal(utcnow(), UTCDateTime()))
        .where(sa.true())  # SQLite reads INSERT … SELECT … ON CONFLICT only with a WHERE
        .group_by(HashtagPost.tag)
    )
    insert: Any = (
        pg_insert(Hashtag) if db_mod.dialect_of(session) == "postgresql" else sqlite_insert(Hashtag)
    )
    statement = insert.from_select(["tag", "post_count", "created_at"], counts)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["tag"], set_={"post_count": statement.excluded.post_count}
        )
    )


async def rebuild_all(
    db: Database, *, batch: int, on_progress: Callable[[str, int, int], None]
) -> None:
    """Rebuild the text index and the hashtag tables from the database, a batch per
    transaction; `on_progress(what, done, total)` after each. Searches meanwhile find what
    is indexed so far."""
    async with db.session() as session:
        people = await session.scalar(sa.select(sa.func.count()).where(active_accounts()))
        posts = await session.scalar(sa.select(sa.func.count()).where(published_only()))
        await clear(session)
        await session.commit()
    steps = (("people", rebuild_people, people or 0), ("posts", rebuild_posts, posts or 0))
    for what, step, total in steps:
        after, done = 0, 0
        while True:
            async with db.session() as session:
                last = await step(session, after_id=after, batch=batch)
                await session.commit()
            if last is None:
                break
            after, done = last, min(done + batch, total)
            on_progress(what, done, total)
    async with db.session() as session:
        await recount_hashtags(session)
        await session.commit()
