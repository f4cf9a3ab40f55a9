"""The admin dashboard's figures: counts read in a few aggregate queries, and posts per day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import AuthSession, User
from glint.infra import queue
from glint.infra.db import utcnow
from glint.media.lifecycle import MediaStatus
from glint.moderation.models import Report, ReportStatus
from glint.posts.models import Post

PLOT_DAYS = 30


@dataclass(frozen=True, slots=True)
class Stats:
    """What the dashboard shows (storage comes from the object store, counted apart)."""

    users: int
    posts: int
    posts_24h: int
    active_sessions: int
    queue_depth: int
    failed_jobs: int
    open_reports: int
    banned_users: int
    posts_per_day: list[tuple[dt.date, int]]


async def _count(session: AsyncSession, query: sa.Select[int]) -> int:
    return int(await session.scalar(query) or 0)


async def posts_per_day(
    session: AsyncSession, *, days: int = PLOT_DAYS
) -> list[tuple[dt.date, int]]:
    """Published posts on each of the last `days` days (UTC), zero days included, oldest first."""
    today = utcnow().date()
    first = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    day = sa.func.date(Post.published_at)
    rows = await session.execute(
        sa.select(day, sa.func.count())
        .where(Post.status == MediaStatus.PUBLISHED, Post.published_at >= since)
        .group_by(day)
    )
    # SQLite answers 'YYYY-MM-DD' text, PostgreSQL a date: one key for both.
    counts = {str(value): int(count) for value, count in rows}
    return [
        (first + dt.timedelta(days=n), counts.get(str(first + dt.timedelta(days=n)), 0))
        for n in range(days)
    ]


async def gather(session: AsyncSession) -> Stats:
    """The dashboard's counts, as of now."""
    now = utcnow()
    jobs = await queue.counts_by_status(session)
    count = sa.select(sa.func.count())
    return Stats(
        users=await _count(session, count.select_from(User).where(User.deleted_at.is_(None))),
        posts=await _count(
            session, count.select_from(Post).where(Post.status == MediaStatus.PUBLISHED)
        ),
        posts_24h=await _count(
            session,
            count.select_from(Post).where(
                Post.status == MediaStatus.PUBLISHED,
                Post.published_at >= now - dt.timedelta(days=1),
            ),
        ),
        active_sessions=await _count(
            session, count.select_from(AuthSession).where(AuthSession.expires_at > now)
        ),
        queue_depth=jobs["queued"] + jobs["running"],
        failed_jobs=jobs["dead"],
        open_reports=await _count(
            session, count.select_from(Report).where(Report.status == ReportStatus.OPEN)
        ),
        banned_users=await _count(
            session, count.select_from(User).where(User.banned_at.is_not(None))
        ),
        posts_per_day=await posts_per_day(session),
    )
