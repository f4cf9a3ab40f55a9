"""Background work of feeds: fan-out on publish, retraction on delete, explore, trimming."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User, active_accounts
from glint.feeds import timeline
from glint.feeds.models import ExploreCandidate
from glint.infra import db as db_mod
from glint.infra import ids as ids_mod
from glint.infra.db import utcnow
from glint.infra.events import Event
from glint.infra.logging import get_logger
from glint.infra.queue import JobContext
from glint.infra.runtime import Runtime
from glint.posts import events as posts_events
from glint.posts.models import Post, published_only
from glint.social import events as social_events

log = get_logger(__name__)

EXPLORE_POOL = 5000
EXPLORE_KEEP = 1000


async def timelines_behind(ctx: JobContext, event: Event, error: str) -> None:
    """Out of retries (the store stayed down): rebuild everyone's timeline lazily instead."""
    await ctx.runtime.generations.bump()


async def fan_out(ctx: JobContext, event: posts_events.PostPublished) -> None:
    """Push a published post to timelines (idempotent: a timeline is a set)."""
    pushed = await timeline.fan_out(ctx.runtime, post_id=event.post_id)
    log.info("fanned_out", post_id=event.post_id, timelines=pushed)


async def retract(ctx: JobContext, event: posts_events.PostDeleted) -> None:
    """Take a deleted post out of timelines (reads already skip it; this frees the space)."""
    await timeline.retract(ctx.runtime, post_id=event.post_id, author_id=event.author_id)


async def merge_followed(ctx: JobContext, event: social_events.FollowCreated) -> None:
    """A new follow: the followed account's recent posts join the follower's timeline."""
    await timeline.merge_author(ctx.runtime, user_id=event.follower_id, author_id=event.followee_id)


async def _belongs(ctx: JobContext, *, user_id: int, author_id: int) -> bool:
    """Whether the author's posts belong in the user's home feed now (the graph may have moved
    on since the event: a drop retried after a re-follow must not remove posts for good)."""
    async with ctx.runtime.db.session() as session:
        shown = await timeline.visible_home_authors(
            session, viewer_id=user_id, author_ids=[author_id]
        )
    return author_id in shown


async def _drop_unless_back(ctx: JobContext, *, user_id: int, author_id: int) -> None:
    if not await _belongs(ctx, user_id=user_id, author_id=author_id):
        await timeline.drop_author(ctx.runtime, user_id=user_id, author_id=author_id)


async def drop_unfollowed(ctx: JobContext, event: social_events.FollowRemoved) -> None:
    """A follow ended: the account's posts leave the (former) follower's timeline."""
    await _drop_unless_back(ctx, user_id=event.follower_id, author_id=event.followee_id)


async def drop_blocked(ctx: JobContext, event: social_events.BlockCreated) -> None:
    """A block: neither sees the other's posts."""
    await _drop_unless_back(ctx, user_id=event.blocker_id, author_id=event.blocked_id)
    await _drop_unless_back(ctx, user_id=event.blocked_id, author_id=event.blocker_id)


async def drop_muted(ctx: JobContext, event: social_events.MuteCreated) -> None:
    """A mute: the muted account's posts leave the muter's timeline."""
    await _drop_unless_back(ctx, user_id=event.muter_id, author_id=event.muted_id)


async def merge_unmuted(ctx: JobContext, event: social_events.MuteRemoved) -> None:
    """An unmute: a followed account's posts come back (if still followed and unmuted)."""
    if await _belongs(ctx, user_id=event.muter_id, author_id=event.muted_id):
        await timeline.merge_author(ctx.runtime, user_id=event.muter_id, author_id=event.muted_id)


def explore_score(*, likes: int, comments: int, age_hours: float) -> float:
    """Engagement with time decay: (likes + 2·comments + 1) / (hours + 2)^1.5."""
    return float((likes + 2 * comments + 1) / (age_hours + 2) ** 1.5)


async def refresh_explore(runtime: Runtime) -> int:
    """Recompute the explore candidates from recent public posts; how many were kept."""
    now = utcnow()
    oldest = ids_mod.min_id_at(now - dt.timedelta(days=runtime.settings.explore_window_days))
    async with runtime.db.session() as session:
        # Safe to run twice at once: the second waits, then replaces what the first wrote.
        await db_mod.lock_transaction(session, "feeds.refresh_explore")
        await session.execute(sa.delete(ExploreCandidate))  # first statement: a write (SQLite)
        # The pool: the most engaged recent posts of public, active accounts; the decay then
        # reorders it. One bounded scan, never per request.
        pool = list(
            await session.execute(
                sa.select(Post.id, Post.author_id, Post.like_count, Post.comment_count)
                .join(User, User.id == Post.author_id)
                .where(
                    Post.id >= oldest,
                    published_only(),
                    User.is_private.is_(False),
                    active_accounts(),
                )
                .order_by((Post.like_count + 2 * Post.comment_count).desc(), Post.id.desc())
                .limit(EXPLORE_POOL)
            )
        )
        scored = sorted(
            (
                (
                    explore_score(
                        likes=likes,
                        comments=comments,
                        age_hours=(now - ids_mod.created_at(post_id)).total_seconds() / 3600,
                    ),
                    post_id,
                    author_id,
                )
                for post_id, author_id, likes, comments in pool
            ),
            reverse=True,
        )[:EXPLORE_KEEP]
        await _put_candidates(
            session,
            [
                {"post_id": pid, "author_id": aid, "score": score, "computed_at": now}
                for score, pid, aid in scored
            ],
        )
        await session.commit()
    return len(scored)


async def _put_candidates(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert explore candidates, replacing the score of any already there (a post published
    while a refresh runs may be added by both)."""
    if not rows:
        return
    insert: Any = (
        pg_insert(ExploreCandidate)
        if db_mod.dialect_of(session) == "postgresql"
        else sqlite_insert(ExploreCandidate)
    )
    statement = insert.values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["post_id"],
            set_={
                "author_id": statement.excluded.author_id,
                "score": statement.excluded.score,
                "computed_at": statement.excluded.computed_at,
            },
        )
    )


async def add_to_explore(ctx: JobContext, event: posts_events.PostPublished) -> None:
    """A post went public: it joins explore now, scored as fresh, if its author is public.

    Explore would otherwise show a new post only after the next full refresh (every
    `explore_refresh_seconds`, minutes). Scoring one post is one indexed read and one upsert per
    publish, where recomputing the pool per post would rescan thousands; the periodic refresh
    still reorders everything by engagement and trims the table back to EXPLORE_KEEP. Converges
    on what the database says now: a post no longer published, or whose author is private,
    banned or deleted by the time this runs, leaves explore instead.
    """
    now = utcnow()
    async with ctx.runtime.db.session() as session:
        row = (
            await session.execute(
                sa.select(Post.author_id, Post.like_count, Post.comment_count)
                .join(User, User.id == Post.author_id)
                .where(
                    Post.id == event.post_id,
                    published_only(),
                    User.is_private.is_(False),
                    active_accounts(),
                )
            )
        ).first()
        if row is None:
            await session.execute(
                sa.delete(ExploreCandidate).where(ExploreCandidate.post_id == event.post_id)
            )
        else:
            author_id, likes, comments = row
            age = (now - ids_mod.created_at(event.post_id)).total_seconds() / 3600
            score = explore_score(likes=likes, comments=comments, age_hours=max(age, 0.0))
            await _put_candidates(
                session,
                [
                    {
                        "post_id": event.post_id,
                        "author_id": author_id,
                        "score": score,
                        "computed_at": now,
                    }
                ],
            )
        await session.commit()


async def explore_is_stale(runtime: Runtime) -> bool:
    """Whether the candidates are missing or the last full refresh is older than its interval.

    The oldest score tells (a refresh rewrites every row; posts added since, one at a time by
    `add_to_explore`, are newer): the newest would be refreshed by every publish.
    """
    async with runtime.db.session() as session:
        oldest = await session.scalar(sa.select(sa.func.min(ExploreCandidate.computed_at)))
    if oldest is None:
        return True
    age = (utcnow() - oldest).total_seconds()
    return bool(age >= runtime.settings.explore_refresh_seconds)


async def refresh_explore_when_stale(runtime: Runtime) -> None:
    """Checked often, recomputed only when stale: the interval is a setting, the schedule not."""
    if await explore_is_stale(runtime):
        await refresh_explore(runtime)


async def trim_timelines(runtime: Runtime) -> None:
    """Cut every stored timeline back to its cap."""
    await runtime.timelines.trim()
