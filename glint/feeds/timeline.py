"""Keeping home timelines: fan-out on publish, merges and removals on graph changes, rebuilds.

Timelines are a cache of what the database already says; every write here is an optimisation
that the read path does not depend on for correctness (it filters by the live graph). A write
lost to a timeline-store outage bumps the generation, so every timeline is rebuilt lazily.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User
from glint.feeds.models import FeedGeneration
from glint.infra.db import utcnow
from glint.infra.logging import get_logger
from glint.infra.runtime import Runtime
from glint.infra.timelines import TimelineUnavailable
from glint.posts.models import Post
from glint.social.models import Follow, Mute

log = get_logger(__name__)

# Each process re-reads the generation this often: a bump reaches every reader within it.
GENERATION_REFRESH_SECONDS = 2.0
_generations: dict[int, tuple[int, float]] = {}


async def current_generation(runtime: Runtime) -> int:
    """The generation fresh timelines carry (read from the database at most every 2 s)."""
    key = id(runtime)
    known = _generations.get(key)
    now = time.monotonic()
    if known is not None and now - known[1] < GENERATION_REFRESH_SECONDS:
        return known[0]
    async with runtime.db.session() as session:
        value = await session.scalar(
            sa.select(FeedGeneration.generation).where(FeedGeneration.id == 1)
        )
    generation = int(value or 0)
    _generations[key] = (generation, now)
    return generation


async def bump_generation(runtime: Runtime) -> None:
    """Make every stored timeline stale (a timeline write was lost)."""
    async with runtime.db.session() as session:
        updated = await session.execute(
            sa.update(FeedGeneration)
            .where(FeedGeneration.id == 1)
            .values(generation=FeedGeneration.generation + 1, bumped_at=utcnow())
        )
        if not getattr(updated, "rowcount", 0):
            session.add(FeedGeneration(id=1, generation=1, bumped_at=utcnow()))
        await session.commit()
    _generations.pop(id(runtime), None)


async def _lost_write(runtime: Runtime, what: str, exc: Exception) -> None:
    log.warning("timeline_write_lost", what=what, error=str(exc))
    await bump_generation(runtime)


def is_pulled(runtime: Runtime, *, follower_count: int) -> bool:
    """Whether an author is above the fan-out threshold (their posts are pulled at read time)."""
    return follower_count >= runtime.settings.fanout_threshold


async def recent_post_ids(
    session: AsyncSession, *, author_ids: Sequence[int], before_id: int | None, limit: int
) -> list[int]:
    """Published posts of these authors, newest first."""
    if not author_ids:
        return []
    query = sa.select(Post.id).where(Post.author_id.in_(author_ids), Post.status == "published")
    if before_id is not None:
        query = query.where(Post.id < before_id)
    return list(await session.scalars(query.order_by(Post.id.desc()).limit(limit)))


async def pulled_followees(session: AsyncSession, *, runtime: Runtime, user_id: int) -> list[int]:
    """Accounts the user follows whose posts are not pushed (above the threshold)."""
    rows = await session.scalars(
        sa.select(Follow.followee_id)
        .join(User, User.id == Follow.followee_id)
        .where(
            Follow.follower_id == user_id,
            User.follower_count >= runtime.settings.fanout_threshold,
        )
    )
    return list(rows)


async def visible_home_authors(
    session: AsyncSession, *, viewer_id: int, author_ids: Sequence[int]
) -> set[int]:
    """Among these authors, the ones whose posts belong in the viewer's home feed right now."""
    if not author_ids:
        return set()
    followed = sa.exists().where(Follow.follower_id == viewer_id, Follow.followee_id == User.id)
    muted = sa.exists().where(Mute.muter_id == viewer_id, Mute.muted_id == User.id)
    rows = await session.scalars(
        sa.select(User.id).where(
            User.id.in_(set(author_ids)),
            User.banned_at.is_(None),
            User.deleted_at.is_(None),
            sa.or_(User.id == viewer_id, sa.and_(followed, ~muted)),
        )
    )
    return set(rows)


def home_candidates(user_id: int) -> sa.Select[int]:
    """SQL: IDs of every published post of the user and the unmuted accounts they follow."""
    followed = sa.select(Follow.followee_id).where(
        Follow.follower_id == user_id,
        ~sa.exists().where(Mute.muter_id == user_id, Mute.muted_id == Follow.followee_id),
    )
    return sa.select(Post.id).where(
        sa.or_(Post.author_id == user_id, Post.author_id.in_(followed)),
        Post.status == "published",
    )


async def newest_home_ids(
    session: AsyncSession, *, user_id: int, before_id: int | None, limit: int
) -> list[int]:
    """The newest home candidates straight from the database (rebuilds, degraded reads)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # Per author, walk their (author_id, id) index for the newest posts, then merge: one
        # bounded index scan per followed account instead of scanning every post by ID.
        followed = sa.select(Follow.followee_id.label("author_id")).where(
            Follow.follower_id == user_id,
            ~sa.exists().where(Mute.muter_id == user_id, Mute.muted_id == Follow.followee_id),
        )
        authors = sa.union_all(
            followed, sa.select(sa.literal(user_id, sa.BigInteger).label("author_id"))
        ).subquery("authors")
        recent = sa.select(Post.id).where(
            Post.author_id == authors.c.author_id, Post.status == "published"
        )
        if before_id is not None:
            recent = recent.where(Post.id < before_id)
        lateral = recent.order_by(Post.id.desc()).limit(limit).lateral("recent")
        query = (
            sa.select(lateral.c.id)
            .select_from(authors.join(lateral, sa.true()))
            .order_by(lateral.c.id.desc())
            .limit(limit)
        )
        return list(await session.scalars(query))
    query = home_candidates(user_id)
    if before_id is not None:
        query = query.where(Post.id < before_id)
    return list(await session.scalars(query.order_by(Post.id.desc()).limit(limit)))


async def rebuild(
    session: AsyncSession, *, runtime: Runtime, user_id: int, generation: int
) -> list[int]:
    """Rebuild a timeline from the database; its IDs, newest first."""
    cap = runtime.timelines.cap
    ids = await newest_home_ids(session, user_id=user_id, before_id=None, limit=cap)
    await release(session)
    await runtime.timelines.rebuild(user_id, ids, generation=generation)
    return ids


async def release(session: AsyncSession) -> None:
    """End the session's read transaction, handing its connection back to the pool.

    The timeline store and the generation use connections of their own (embedded, the same
    database): a request must not hold one connection while it waits for another, or a full
    pool deadlocks. Loaded objects stay usable (sessions do not expire on commit).
    """
    await session.commit()


async def candidate_ids(
    session: AsyncSession, *, runtime: Runtime, user_id: int, before_id: int | None, limit: int
) -> list[int]:
    """Candidate IDs below before_id, newest first: the timeline merged with pulled authors."""
    await release(session)
    try:
        generation = await current_generation(runtime)
        ids = await runtime.timelines.read(
            user_id, before_id=before_id, limit=limit, generation=generation
        )
        if ids is None:
            rebuilt = await rebuild(
                session, runtime=runtime, user_id=user_id, generation=generation
            )
            ids = [pid for pid in rebuilt if before_id is None or pid < before_id][:limit]
    except TimelineUnavailable:
        # Degraded: the whole feed from the database (slower, still right).
        return await newest_home_ids(session, user_id=user_id, before_id=before_id, limit=limit)
    pulled = await pulled_followees(session, runtime=runtime, user_id=user_id)
    if pulled:
        ids = sorted(
            set(ids)
            | set(
                await recent_post_ids(session, author_ids=pulled, before_id=before_id, limit=limit)
            ),
            reverse=True,
        )[:limit]
    return ids


async def active_followers(
    session: AsyncSession, *, runtime: Runtime, author_id: int, after_edge: int, limit: int
) -> list[tuple[int, int]]:
    """(edge id, follower id) of followers signed in lately, in edge order, from after_edge."""
    cutoff = utcnow() - dt.timedelta(days=runtime.settings.feed_active_days)
    rows = await session.execute(
        sa.select(Follow.id, Follow.follower_id)
        .join(User, User.id == Follow.follower_id)
        .where(
            Follow.followee_id == author_id, Follow.id > after_edge, User.last_active_at >= cutoff
        )
        .order_by(Follow.id)
        .limit(limit)
    )
    return [(edge, follower) for edge, follower in rows]


async def fan_out(runtime: Runtime, *, post_id: int) -> int:
    """Push a published post to its author's and active followers' timelines; how many."""
    async with runtime.db.session() as session:
        row = (
            await session.execute(
                sa.select(Post.author_id, Post.status, User.follower_count)
                .join(User, User.id == Post.author_id)
                .where(Post.id == post_id)
            )
        ).first()
    if row is None or row.status != "published":
        return 0  # deleted (or not published) before its fan-out ran
    await runtime.timelines.push(post_id, [row.author_id])
    if is_pulled(runtime, follower_count=row.follower_count):
        return 1
    pushed, after = 1, 0
    batch = runtime.settings.feed_fanout_batch
    while True:
        async with runtime.db.session() as session:
            edges = await active_followers(
                session, runtime=runtime, author_id=row.author_id, after_edge=after, limit=batch
            )
        if not edges:
            return pushed
        await runtime.timelines.push(post_id, [follower for _, follower in edges])
        pushed += len(edges)
        after = edges[-1][0]


async def retract(runtime: Runtime, *, post_id: int, author_id: int) -> None:
    """Take a deleted post out of every timeline that may hold it."""
    await runtime.timelines.retract(post_id, [author_id])
    after = 0
    while True:
        async with runtime.db.session() as session:
            edges = list(
                await session.execute(
                    sa.select(Follow.id, Follow.follower_id)
                    .where(Follow.followee_id == author_id, Follow.id > after)
                    .order_by(Follow.id)
                    .limit(runtime.settings.feed_fanout_batch)
                )
            )
        if not edges:
            return
        await runtime.timelines.retract(post_id, [follower for _, follower in edges])
        after = edges[-1][0]


async def merge_author(runtime: Runtime, *, user_id: int, author_id: int) -> None:
    """A new follow (or unmute): the author's recent posts join the user's timeline."""
    try:
        async with runtime.db.session() as session:
            ids = await recent_post_ids(
                session, author_ids=[author_id], before_id=None, limit=runtime.timelines.cap
            )
        await runtime.timelines.add(user_id, ids)
    except TimelineUnavailable as exc:
        await _lost_write(runtime, "merge", exc)


async def drop_author(runtime: Runtime, *, user_id: int, author_id: int) -> None:
    """An unfollow, mute or block: the author's posts leave the user's timeline."""
    try:
        async with runtime.db.session() as session:
            ids = await recent_post_ids(
                session, author_ids=[author_id], before_id=None, limit=runtime.timelines.cap * 4
            )
        await runtime.timelines.remove(user_id, ids)
    except TimelineUnavailable as exc:
        await _lost_write(runtime, "drop", exc)


async def drop_authors_both_ways(runtime: Runtime, *, a: int, b: int) -> None:
    """A block: neither sees the other's posts."""
    await drop_author(runtime, user_id=a, author_id=b)
    await drop_author(runtime, user_id=b, author_id=a)
