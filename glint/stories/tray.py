"""The story tray: whose live stories a viewer sees, kept like the home timeline.

Each viewer has a tray in the tray store (per-viewer sorted set of authors with live stories,
scored by when their newest story expires): written by fan-out when a story is published and
by merges when the graph grows, expired entries drop out by score. It is a cache of
candidates only: every read checks the live graph, the audience and expiry in the database,
and with the store down (or a tray not fresh) the candidates come from the database itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts import service as accounts_service
from glint.accounts.models import User
from glint.feeds import timeline as feeds_timeline
from glint.infra.timelines import Generations
from glint.infra.trays import TrayStore, TrayUnavailable
from glint.stories import service as stories_service
from glint.stories.models import Story, live
from glint.stories.schemas import TRAY_LIMIT


@dataclass(slots=True)
class TrayEntry:
    """One account in a viewer's tray: its live stories (oldest first) and what is unseen."""

    author: User
    stories: list[Story] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)

    @property
    def has_unseen(self) -> bool:
        """Whether one of the stories is not yet seen by the viewer."""
        return any(story.id not in self.seen for story in self.stories)

    @property
    def latest_at(self) -> dt.datetime:
        """When the newest story was published."""
        return max(story.published_at or story.created_at for story in self.stories)


def epoch_ms(moment: dt.datetime) -> int:
    """A time as the tray store scores it (milliseconds since the Unix epoch)."""
    return int(moment.timestamp() * 1000)


async def live_authors(
    session: AsyncSession, *, viewer_id: int, now: dt.datetime, author_ids: Sequence[int] | None
) -> list[tuple[int, int]]:
    """(author, newest expiry in ms) of followed, unmuted accounts (and the viewer) with live
    stories for the viewer, straight from the database; `author_ids` narrows it."""
    authors: sa.CompoundSelect[tuple[int]] | Sequence[int] = (
        feeds_timeline.home_authors(viewer_id) if author_ids is None else author_ids
    )
    rows = await session.execute(
        sa.select(Story.author_id, sa.func.max(Story.expires_at))
        .where(Story.author_id.in_(authors), live(now), stories_service.shown_to(viewer_id))
        .group_by(Story.author_id)
    )
    return [(author, epoch_ms(expires)) for author, expires in rows if expires]


async def _candidates(
    session: AsyncSession,
    *,
    trays: TrayStore,
    generations: Generations,
    viewer_id: int,
    now: dt.datetime,
) -> set[int]:
    """Authors who may have live stories for the viewer: from the tray, rebuilt when stale."""
    # The embedded tray store uses connections of its own: hand this one back first.
    await feeds_timeline.end_read(session)
    try:
        generation = await generations.current()
        entries = await trays.read(viewer_id, now_ms=epoch_ms(now), generation=generation)
        if entries is None:
            entries = await live_authors(session, viewer_id=viewer_id, now=now, author_ids=None)
            await feeds_timeline.end_read(session)
            await trays.rebuild(viewer_id, entries, generation=generation)
    except TrayUnavailable:
        entries = await live_authors(session, viewer_id=viewer_id, now=now, author_ids=None)
    return {author for author, _ in entries} | {viewer_id}


async def read_tray(
    session: AsyncSession,
    *,
    trays: TrayStore,
    generations: Generations,
    viewer: User,
    now: dt.datetime,
    limit: int = TRAY_LIMIT,
) -> list[TrayEntry]:
    """The viewer's tray: own entry first, then accounts with unseen stories, then the rest,
    each group by most recent story; muted, blocked and unfollowed accounts never."""
    candidates = await _candidates(
        session, trays=trays, generations=generations, viewer_id=viewer.id, now=now
    )
    allowed = await feeds_timeline.visible_home_authors(
        session, viewer_id=viewer.id, author_ids=list(candidates)
    )
    if not allowed:
        return []
    stories = list(
        await session.scalars(
            sa.select(Story)
            .where(Story.author_id.in_(allowed), live(now), stories_service.shown_to(viewer.id))
            .order_by(Story.id)
        )
    )
    seen = await stories_service.seen_ids(
        session, viewer_id=viewer.id, story_ids=[story.id for story in stories]
    )
    authors = await accounts_service.get_many(
        session, user_ids=list({story.author_id for story in stories})
    )
    entries: dict[int, TrayEntry] = {}
    for story in stories:
        entry = entries.setdefault(story.author_id, TrayEntry(author=authors[story.author_id]))
        entry.stories.append(story)
        if story.id in seen:
            entry.seen.add(story.id)
    ordered = sorted(
        entries.values(),
        key=lambda e: (e.author.id != viewer.id, not e.has_unseen, -e.latest_at.timestamp()),
    )
    return ordered[:limit]
