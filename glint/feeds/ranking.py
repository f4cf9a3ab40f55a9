"""The ranked feed's order: the home candidates of the last days, scored by engagement and age."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User
from glint.config import Settings
from glint.feeds import timeline
from glint.infra import ids as ids_mod
from glint.infra.db import utcnow
from glint.infra.runtime import Runtime
from glint.posts.models import Post, published_only

# Enough candidates for many pages; more would only rank posts nobody scrolls to.
MAX_CANDIDATES = 1000


def score(
    settings: Settings, *, likes: int, comments: int, created_at: dt.datetime, now: dt.datetime
) -> float:
    """w_likes·likes + w_comments·comments + w_recency/(hours_old + 1)."""
    hours = max((now - created_at).total_seconds() / 3600, 0.0)
    return (
        settings.ranked_like_weight * likes
        + settings.ranked_comment_weight * comments
        + settings.ranked_recency_weight / (hours + 1)
    )


async def rank_home(session: AsyncSession, *, runtime: Runtime, viewer: User) -> list[int]:
    """Post IDs of the viewer's home candidates in the window, best first."""
    now = utcnow()
    oldest_id = ids_mod.min_id_at(now - dt.timedelta(days=runtime.settings.ranked_window_days))
    ids = [
        pid
        for pid in await timeline.candidate_ids(
            session, runtime=runtime, user_id=viewer.id, before_id=None, limit=MAX_CANDIDATES
        )
        if pid >= oldest_id
    ]
    if not ids:
        return []
    rows = await session.execute(
        sa.select(Post.id, Post.author_id, Post.like_count, Post.comment_count).where(
            Post.id.in_(ids), published_only()
        )
    )
    candidates = list(rows)
    allowed = await timeline.visible_home_authors(
        session, viewer_id=viewer.id, author_ids=[row.author_id for row in candidates]
    )
    scored = [
        (
            score(
                runtime.settings,
                likes=row.like_count,
                comments=row.comment_count,
                created_at=ids_mod.created_at(row.id),
                now=now,
            ),
            row.id,
        )
        for row in candidates
        if row.author_id in allowed
    ]
    scored.sort(reverse=True)
    return [post_id for _, post_id in scored]
