"""Keeping home timelines: fan-out on publish, merges and removals on graph changes, rebuilds.

Timelines are a cache of what the database already says; every write here is an optimisation
that the read path does not depend on for correctness (it filters by the live graph). A write
lost to a timeline-store outage bumps the generation, so every timeline is rebuilt lazily.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User, active_accounts
from glint.discovery.models import HashtagFollow, HashtagPost
from glint.infra import db as db_mod
from glint.infra.db import utcnow
from glint.infra.logging import get_logger
from glint.infra.runtime import Runtime
from glint.infra.timelines import TimelineUnavailable
from glint.media.lifecycle import MediaStatus
from glint.posts.models import Post, PostLike, Save, published_only
from glint.social import queries as social_queries
from glint.social.models import Follow, Mute

log = get_logger(__name__)


async def _lost_write(runtime: Runtime, what: str, exc: Exception) -> None:
    log.warning("timeline_write_lost", what=what, error=str(exc))
    await runtime.generations.bump()


def is_pulled(runtime: Runtime, *, follower_count: int) -> bool:
    """Whether an author is above the fan-out threshold (their posts are pulled at read time)."""
    return follower_count >= runtime.settings.fanout_threshold


async def recent_post_ids(
    session: AsyncSession, *, author_ids: Sequence[int], before_id: int | None, limit: int
) -> list[int]:
    """Published posts of these authors, newest first: one short walk of each author's
    (author, id) index on PostgreSQL, where a plain IN let the planner walk the whole post-ID
    index backwards (1-1.5 s at 10M posts for two pulled authors)."""
    if not author_ids:
        return []
    return await db_mod.newest_ids_by_key(
        session,
        id_column=Post.id,
        key_column=Post.author_id,
        keys=sa.select(User.id).where(db_mod.among(session, User.id, author_ids)),
        where=[published_only()],
        before_id=before_id,
        limit=limit,
    )


def _pulled_posts(dialect: str) -> sa.Select[int]:
    """SQL: the newest posts of the accounts `:user_id` follows whose posts are not pushed
    (at least `:threshold` followers): the list and one short walk per account, one query."""
    pulled = (
        sa.select(Follow.followee_id)
        .join(User, User.id == Follow.followee_id)
        .where(
            Follow.follower_id == sa.bindparam("user_id", type_=sa.BigInteger),
            User.follower_count >= sa.bindparam("threshold", type_=sa.Integer),
        )
    )
    return db_mod.newest_ids_by_key_statement(
        dialect,
        id_column=Post.id,
        key_column=Post.author_id,
        keys=pulled,
        where=[published_only()],
    )


def _followed_tag_posts(dialect: str) -> sa.Select[int]:
    """SQL: the newest posts carrying a hashtag `:user_id` follows (one short walk per tag)."""
    return db_mod.newest_ids_by_key_statement(
        dialect,
        id_column=HashtagPost.post_id,
        key_column=HashtagPost.tag,
        keys=sa.select(HashtagFollow.tag).where(
            HashtagFollow.user_id == sa.bindparam("user_id", type_=sa.BigInteger)
        ),
        where=[],
    )


def _extra_candidates(dialect: str) -> sa.Select[int]:
    """SQL: what a timeline does not hold, in one round trip: the newest posts of followed
    accounts above the fan-out threshold, and of followed hashtags."""
    pulled = _pulled_posts(dialect).subquery("pulled")
    tagged = _followed_tag_posts(dialect).subquery("tagged")
    both = sa.union(sa.select(pulled.c[0].label("id")), sa.select(tagged.c[0])).subquery("both")
    limit = sa.bindparam("limit", type_=sa.Integer)
    return sa.select(both.c.id).order_by(both.c.id.desc()).limit(limit)


async def pulled_post_ids(
    session: AsyncSession, *, runtime: Runtime, user_id: int, before_id: int | None, limit: int
) -> list[int]:
    """Newest posts the timeline does not hold: of followed accounts above the fan-out
    threshold, and of followed hashtags (both pulled at read time)."""
    return await db_mod.newest_ids(
        session,
        db_mod.prebuilt(session, _extra_candidates),
        before_id=before_id,
        limit=limit,
        user_id=user_id,
        threshold=runtime.settings.fanout_threshold,
    )


@dataclass(frozen=True)
class HomeChecks:
    """What the live graph says of one page's candidates, for one viewer."""

    authors: set[int]  # the authors whose posts belong in the viewer's home feed right now
    liked: set[int]
    saved: set[int]


def _home_checks(dialect: str) -> sa.CompoundSelect[str, int]:
    """SQL: ("a", author) for the `:authors` visible to `:viewer_id` in a home feed, ("l", post)
    and ("s", post) for the `:posts` they liked and saved."""
    viewer = sa.bindparam("viewer_id", type_=sa.BigInteger)
    followed = sa.exists().where(Follow.follower_id == viewer, Follow.followee_id == User.id)
    muted = sa.exists().where(Mute.muter_id == viewer, Mute.muted_id == User.id)
    authors = sa.select(sa.literal("a").label("kind"), User.id.label("id")).where(
        db_mod.among_param(dialect, User.id, "authors"),
        active_accounts(),
        sa.or_(User.id == viewer, sa.and_(followed, ~muted)),
    )
    liked = sa.select(sa.literal("l"), PostLike.post_id).where(
        PostLike.user_id == viewer, db_mod.among_param(dialect, PostLike.post_id, "liked_posts")
    )
    saved = sa.select(sa.literal("s"), Save.post_id).where(
        Save.user_id == viewer, db_mod.among_param(dialect, Save.post_id, "saved_posts")
    )
    return sa.union_all(authors, liked, saved)


async def home_checks(
    session: AsyncSession, *, viewer_id: int, author_ids: Collection[int], post_ids: Collection[int]
) -> HomeChecks:
    """Visible authors and the viewer's liked and saved posts among a page's candidates, in one
    round trip (each would otherwise be a query of its own on every page)."""
    if not author_ids:
        return HomeChecks(set(), set(), set())
    connection = await session.connection()
    posts = list(post_ids)
    rows = await connection.execute(
        db_mod.prebuilt(session, _home_checks),
        {
            "viewer_id": viewer_id,
            "authors": list(author_ids),
            "liked_posts": posts,
            "saved_posts": posts,
        },
    )
    found: dict[str, set[int]] = {"a": set(), "l": set(), "s": set()}
    for kind, row_id in rows:
        found[kind].add(row_id)
    return HomeChecks(authors=found["a"], liked=found["l"], saved=found["s"])


async def followed_tag_reasons(
    session: AsyncSession, *, viewer_id: int, post_ids: Collection[int]
) -> dict[int, str]:
    """Among these posts of accounts outside the viewer's home, the ones a followed hashtag
    brings in (the viewer may see the author, has not muted them) and the hashtag."""
    if not post_ids:
        return {}
    rows = await session.execute(
        sa.select(HashtagPost.post_id, sa.func.min(HashtagPost.tag))
        .join(
            HashtagFollow,
            sa.and_(HashtagFollow.tag == HashtagPost.tag, HashtagFollow.user_id == viewer_id),
        )
        .join(User, User.id == HashtagPost.author_id)
        .where(
            db_mod.among(session, HashtagPost.post_id, post_ids),
            social_queries.posts_visible_to(viewer_id),
            ~sa.exists().where(Mute.muter_id == viewer_id, Mute.muted_id == User.id),
        )
        .group_by(HashtagPost.post_id)
    )
    return {post_id: str(tag) for post_id, tag in rows}


async def visible_home_authors(
    session: AsyncSession, *, viewer_id: int, author_ids: Sequence[int]
) -> set[int]:
    """Among these authors, the ones whose posts belong in the viewer's home feed right now."""
    checks = await home_checks(session, viewer_id=viewer_id, author_ids=author_ids, post_ids=())
    return checks.authors


def home_authors(user_id: int) -> sa.CompoundSelect[tuple[int]]:
    """SQL: the user and every account they follow and have not muted."""
    followed = sa.select(Follow.followee_id).where(
        Follow.follower_id == user_id,
        ~sa.exists().where(Mute.muter_id == user_id, Mute.muted_id == Follow.followee_id),
    )
    return sa.union_all(followed, sa.select(sa.literal(user_id, sa.BigInteger)))


async def newest_home_ids(
    session: AsyncSession, *, user_id: int, before_id: int | None, limit: int
) -> list[int]:
    """The newest home candidates straight from the database (rebuilds, degraded reads)."""
    return await db_mod.newest_ids_by_key(
        session,
        id_column=Post.id,
        key_column=Post.author_id,
        keys=home_authors(user_id),
        where=[published_only()],
        before_id=before_id,
        limit=limit,
    )


async def rebuild(
    session: AsyncSession, *, runtime: Runtime, user_id: int, generation: int
) -> list[int]:
    """Rebuild a timeline from the database; its IDs, newest first."""
    cap = runtime.timelines.cap
    ids = await newest_home_ids(session, user_id=user_id, before_id=None, limit=cap)
    await end_read(session)
    await runtime.timelines.rebuild(user_id, ids, generation=generation)
    return ids


async def end_read(session: AsyncSession) -> None:
    """End the session's read-only transaction, handing its connection back to the pool.

    The timeline store and the generation use connections of their own (embedded, the same
    database): a request must not hold one connection while it waits for another, or a full
    pool deadlocks. Nothing was written, so there is nothing to commit: closing ends the
    transaction and keeps what was loaded readable (the session opens a new one if used again).
    """
    assert not session.new and not session.dirty and not session.deleted, "a read only"
    await session.close()


async def candidate_ids(
    session: AsyncSession, *, runtime: Runtime, user_id: int, before_id: int | None, limit: int
) -> list[int]:
    """Candidate IDs below before_id, newest first: the timeline merged with pulled authors."""
    await end_read(session)
    try:
        generation = await runtime.generations.current()
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
        ids = await newest_home_ids(session, user_id=user_id, before_id=before_id, limit=limit)
    pulled = await pulled_post_ids(
        session, runtime=runtime, user_id=user_id, before_id=before_id, limit=limit
    )
    if pulled:
        ids = sorted(set(ids) | set(pulled), reverse=True)[:limit]
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
    if row is None or row.status != MediaStatus.PUBLISHED:
        return 0  # deleted (or not published) before its fan-out ran
    await runtime.timelines.push(post_id, [row.author_id])
    if is_pulled(runtime, follower_count=row.follower_count):
        return 1
    batch = runtime.settings.feed_fanout_batch

    async def followers_after(edge: int) -> list[tuple[int, int]]:
        async with runtime.db.session() as session:
            return await active_followers(
                session, runtime=runtime, author_id=row.author_id, after_edge=edge, limit=batch
            )

    # The next batch is read from the database while this one is written to the store.
    pushed = 1
    upcoming = asyncio.create_task(followers_after(0))
    try:
        while edges := await upcoming:
            upcoming = asyncio.create_task(followers_after(edges[-1][0]))
            await runtime.timelines.push(post_id, [follower for _, follower in edges])
            pushed += len(edges)
    finally:
        upcoming.cancel()  # only still running when the push failed
        await asyncio.gather(upcoming, return_exceptions=True)
    return pushed


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
