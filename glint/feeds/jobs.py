"""Background work of feeds: fan-out on publish, retraction on delete, explore, trimming."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User
from glint.feeds import timeline
from glint.feeds.models import ExploreCandidate
from glint.infra import ids as ids_mod
from glint.infra.db import utcnow
from glint.infra.logging import get_logger
from glint.infra.queue import JobContext, registry
from glint.infra.runtime import Runtime
from glint.posts.models import Post

log = get_logger(__name__)

FANOUT_JOB = "feeds.fanout"
RETRACT_JOB = "feeds.retract"
EXPLORE_POOL = 5000
EXPLORE_KEEP = 1000


async def enqueue_fanout(session: AsyncSession, *, runtime: Runtime, post_id: int) -> int:
    """Queue the fan-out of a just-published post in the caller's transaction; the job ID."""
    return await runtime.jobs.enqueue(session, name=FANOUT_JOB, payload={"post_id": post_id})


async def enqueue_retract(
    session: AsyncSession, *, runtime: Runtime, post_id: int, author_id: int
) -> int:
    """Queue the removal of a deleted post from timelines, in the caller's transaction."""
    return await runtime.jobs.enqueue(
        session, name=RETRACT_JOB, payload={"post_id": post_id, "author_id": author_id}
    )


async def _timelines_behind(ctx: JobContext, error: str) -> None:
    # Out of retries (the store stayed down): rebuild everyone's timeline lazily instead.
    await timeline.bump_generation(ctx.runtime)


@registry.job(FANOUT_JOB, max_attempts=6, on_dead=_timelines_behind)
async def fan_out(ctx: JobContext) -> None:
    """Push a published post to timelines (idempotent: a timeline is a set)."""
    pushed = await timeline.fan_out(ctx.runtime, post_id=int(ctx.payload["post_id"]))
    log.info("fanned_out", post_id=ctx.payload["post_id"], timelines=pushed)


@registry.job(RETRACT_JOB, max_attempts=6, on_dead=_timelines_behind)
async def retract(ctx: JobContext) -> None:
    """Take a deleted post out of timelines (reads already skip it; this frees the space)."""
    await timeline.retract(
        ctx.runtime, post_id=int(ctx.payload["post_id"]), author_id=int(ctx.payload["author_id"])
    )


def explore_score(*, likes: int, comments: int, age_hours: float) -> float:
    """Engagement with time decay: (likes + 2·comments + 1) / (hours + 2)^1.5."""
    return float((likes + 2 * comments + 1) / (age_hours + 2) ** 1.5)


async def refresh_explore(runtime: Runtime) -> int:
    """Recompute the explore candidates from recent public posts; how many were kept."""
    now = utcnow()
    oldest = ids_mod.min_id_at(now - dt.timedelta(days=runtime.settings.explore_window_days))
    async with runtime.db.session() as session:
        # The pool: the most engaged recent posts of public, active accounts; the decay then
        # reorders it. One bounded scan, never per request.
        pool = list(
            await session.execute(
                sa.select(Post.id, Post.author_id, Post.like_count, Post.comment_count)
                .join(User, User.id == Post.author_id)
                .where(
                    Post.id >= oldest,
                    Post.status == "published",
                    User.is_private.is_(False),
                    User.banned_at.is_(None),
                    User.deleted_at.is_(None),
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
        await session.execute(sa.delete(ExploreCandidate))
        if scored:
            await session.execute(
                sa.insert(ExploreCandidate),
                [
                    {"post_id": pid, "author_id": aid, "score": score, "computed_at": now}
                    for score, pid, aid in scored
                ],
            )
        await session.commit()
    return len(scored)


async def explore_is_stale(runtime: Runtime) -> bool:
    """Whether the candidates are missing or older than the refresh interval."""
    async with runtime.db.session() as session:
        newest = await session.scalar(sa.select(sa.func.max(ExploreCandidate.computed_at)))
    if newest is None:
        return True
    age = (utcnow() - newest).total_seconds()
    return bool(age >= runtime.settings.explore_refresh_seconds)


@registry.periodic("feeds.refresh_explore", every_seconds=30.0)
async def _refresh_explore(runtime: Runtime) -> None:
    # Checked often, recomputed only when stale: the interval is a setting, the task table static.
    if await explore_is_stale(runtime):
        await refresh_explore(runtime)


@registry.periodic("feeds.trim_timelines", every_seconds=3600.0)
async def _trim(runtime: Runtime) -> None:
    await runtime.timelines.trim()
