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

from glint import paging
from glint.accounts import service as accounts_service
from glint.accounts.models import User, active_accounts
from glint.errors import BadRequest
from glint.feeds import timeline as feeds_timeline
from glint.infra import db as db_mod
from glint.infra.timelines import Generations
from glint.infra.trays import TrayStore, TrayUnavailable
from glint.social.models import Follow, Mute
from glint.stories import service as stories_service
from glint.stories.models import Story, StoryView, live


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


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
MAX_CURSOR_MICROS = (dt.datetime(9999, 1, 1, tzinfo=dt.UTC) - _EPOCH) // _MICROSECOND


@dataclass(frozen=True, slots=True)
class TrayPosition:
    """Where a tray page ends: rank group (0 own, 1 unseen, 2 seen), newest story, author."""

    group: int
    latest: dt.datetime
    author_id: int

    def to_cursor(self) -> str:
        """The opaque cursor of the next page; time in exact microseconds, so two authors whose
        newest stories share a millisecond still page apart."""
        micros = (self.latest - _EPOCH) // _MICROSECOND
        return paging.encode_cursor({"g": self.group, "t": micros, "a": self.author_id})

    @classmethod
    def from_cursor(cls, cursor: str) -> TrayPosition:
        """The position a cursor names; 400 `invalid_cursor` for one we did not make."""
        position = paging.decode_cursor(cursor)
        micros = paging.cursor_int(position, "t")
        if micros > MAX_CURSOR_MICROS:  # past year 9999: no datetime holds it
            raise BadRequest("The cursor is not one this server gave out.", code="invalid_cursor")
        return cls(
            group=paging.cursor_int(position, "g"),
            latest=_EPOCH + dt.timedelta(microseconds=micros),
            author_id=paging.cursor_int(position, "a"),
        )


def _ranked(
    viewer_id: int, candidates: set[int], now: dt.datetime, session: AsyncSession
) -> sa.Select[tuple[int, int, dt.datetime]]:
    """SQL: the candidates whose live stories the viewer may see in the tray, one row each
    (author, group, newest story), in tray order.

    Stories and seen marks are aggregated per author first; the graph (followed, not muted,
    active) is then checked once per author, not once per story.
    """
    unseen = sa.case((StoryView.story_id.is_(None), 1), else_=0)
    per_author = (
        sa.select(
            Story.author_id.label("author_id"),
            sa.func.max(unseen).label("unseen"),
            sa.func.max(Story.published_at).label("latest"),
        )
        .outerjoin(
            StoryView, sa.and_(StoryView.story_id == Story.id, StoryView.viewer_id == viewer_id)
        )
        .where(
            db_mod.among(session, Story.author_id, candidates),
            live(now),
            stories_service.shown_to(viewer_id),
        )
        .group_by(Story.author_id)
        .subquery("per_author")
    )
    author = per_author.c.author_id
    followed = sa.exists().where(Follow.follower_id == viewer_id, Follow.followee_id == author)
    muted = sa.exists().where(Mute.muter_id == viewer_id, Mute.muted_id == author)
    group = sa.case((author == viewer_id, 0), (per_author.c.unseen == 1, 1), else_=2).label("grp")
    return (
        sa.select(author, group, per_author.c.latest)
        .join(User, User.id == author)
        .where(active_accounts(), sa.or_(author == viewer_id, sa.and_(followed, ~muted)))
        .order_by(group, per_author.c.latest.desc(), author.desc())
    )


async def read_tray_page(
    session: AsyncSession,
    *,
    trays: TrayStore,
    generations: Generations,
    viewer: User,
    now: dt.datetime,
    limit: int,
    after: TrayPosition | None,
) -> tuple[list[TrayEntry], TrayPosition | None]:
    """One page of the viewer's tray: own entry first, then accounts with unseen stories, then
    the rest, each group by most recent story; muted, blocked and unfollowed accounts never.
    Ranked in one aggregate query; only the page's stories are loaded."""
    candidates = await _candidates(
        session, trays=trays, generations=generations, viewer_id=viewer.id, now=now
    )
    ranked = _ranked(viewer.id, candidates, now, session).subquery("ranked")
    query = sa.select(ranked.c.author_id, ranked.c.grp, ranked.c.latest)
    if after is not None:
        query = query.where(
            sa.or_(
                ranked.c.grp > after.group,
                sa.and_(ranked.c.grp == after.group, ranked.c.latest < after.latest),
                sa.and_(
                    ranked.c.grp == after.group,
                    ranked.c.latest == after.latest,
                    ranked.c.author_id < after.author_id,
                ),
            )
        )
    rows = list(
        await session.execute(
            query.order_by(ranked.c.grp, ranked.c.latest.desc(), ranked.c.author_id.desc()).limit(
                limit + 1
            )
        )
    )
    page = rows[:limit]
    last = page[-1] if len(rows) > limit else None
    following = TrayPosition(last.grp, last.latest, last.author_id) if last is not None else None
    return await _entries(
        session, viewer=viewer, now=now, author_ids=[row.author_id for row in page]
    ), following


async def _entries(
    session: AsyncSession, *, viewer: User, now: dt.datetime, author_ids: list[int]
) -> list[TrayEntry]:
    """The tray entries of these authors, in this order, with their live stories."""
    if not author_ids:
        return []
    stories = await session.scalars(
        sa.select(Story)
        .where(
            db_mod.among(session, Story.author_id, author_ids),
            live(now),
            stories_service.shown_to(viewer.id),
        )
        .order_by(Story.id)
    )
    authors = await accounts_service.get_many(session, user_ids=author_ids)
    entries = {author_id: TrayEntry(author=authors[author_id]) for author_id in author_ids}
    for story in stories:
        entries[story.author_id].stories.append(story)
    every = [story.id for entry in entries.values() for story in entry.stories]
    seen = await stories_service.seen_ids(session, viewer_id=viewer.id, story_ids=every)
    for entry in entries.values():
        own = entry.author.id == viewer.id  # an author has seen their own stories
        entry.seen.update(story.id for story in entry.stories if own or story.id in seen)
    return [entry for entry in entries.values() if entry.stories]


async def read_tray(
    session: AsyncSession,
    *,
    trays: TrayStore,
    generations: Generations,
    viewer: User,
    now: dt.datetime,
    limit: int = 100,
) -> list[TrayEntry]:
    """The first page of the viewer's tray (the web's home page shows one)."""
    entries, _ = await read_tray_page(
        session,
        trays=trays,
        generations=generations,
        viewer=viewer,
        now=now,
        limit=limit,
        after=None,
    )
    return entries
