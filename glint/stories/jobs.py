"""Background work of stories: the pipeline (processing → published | failed), fan-out into
trays, merges when the graph grows, reply notifications, and the hourly
clean-up of expired stories no highlight keeps.

Each handler is a subscriber of one event (or a periodic task); `glint.wiring` says which.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa

from glint.feeds import timeline as feeds_timeline
from glint.infra.events import bus, event_id
from glint.infra.logging import get_logger
from glint.infra.queue import JobContext
from glint.infra.storage import ObjectNotFound
from glint.infra.trays import TrayUnavailable
from glint.media import imaging, lifecycle
from glint.media import service as media_service
from glint.media.lifecycle import IllegalTransition, MediaStatus
from glint.notifications import service as notifications_service
from glint.social import events as social_events
from glint.stories import events
from glint.stories import service as stories_service
from glint.stories import tray as stories_tray
from glint.stories.models import LIFETIME, Audience, CloseFriend, Story, in_a_highlight

if TYPE_CHECKING:
    from glint.infra.runtime import Runtime

log = get_logger(__name__)
CLEANUP_BATCH = 200


async def _mark_failed(runtime: Runtime, *, story_id: int, author_id: int, reason: str) -> None:
    """Processing -> failed, once; a story published meanwhile stays published."""
    async with runtime.db.session() as session:
        try:
            failed = await lifecycle.move(
                session, Story, row_id=story_id, to=MediaStatus.FAILED, failure_reason=reason
            )
        except IllegalTransition:
            return
        if failed:
            await bus.emit(
                session, ids=runtime.ids, event=events.StoryFailed(story_id, author_id, reason)
            )
        await runtime.commit(session)
    log.warning("story_failed", story_id=story_id, reason=reason)


async def story_not_processed(ctx: JobContext, event: events.StoryCreated, error: str) -> None:
    """The pipeline ran out of tries: the story fails, with the reason."""
    reason = f"Processing failed after retries: {error}"[:500]
    await _mark_failed(
        ctx.runtime, story_id=event.story_id, author_id=event.author_id, reason=reason
    )


async def process_story(ctx: JobContext, event: events.StoryCreated) -> None:
    """Render the story's portrait sizes, then publish it for 24 hours. Safe to run twice."""
    runtime = ctx.runtime
    async with runtime.db.session() as session:
        story = await session.get(Story, event.story_id)
        if story is None or story.status == MediaStatus.PUBLISHED:
            return
        if story.status == MediaStatus.FAILED:  # an admin retried its dead job
            await lifecycle.move(session, Story, row_id=story.id, to=MediaStatus.PROCESSING)
            await session.commit()
        original_key, base_key = story.original_key, story.base_key
    try:
        result = await media_service.render_original(
            runtime.storage,
            runtime.cpu,
            original_key=original_key,
            base_key=base_key,
            filter_name="none",
            tallest=imaging.STORY_TALLEST,
        )
    except ObjectNotFound:
        reason = "The uploaded original is missing."
        await _mark_failed(
            runtime, story_id=event.story_id, author_id=event.author_id, reason=reason
        )
        return
    except imaging.ImageRejected as exc:  # a broken file does not mend on retry
        await _mark_failed(
            runtime, story_id=event.story_id, author_id=event.author_id, reason=exc.message
        )
        return
    now = runtime.clock.now()
    async with runtime.db.session() as session:
        published = await lifecycle.move(
            session,
            Story,
            row_id=event.story_id,
            to=MediaStatus.PUBLISHED,
            width=result.width,
            height=result.height,
            blurhash=result.blurhash,
            published_at=now,
            expires_at=now + LIFETIME,
            failure_reason=None,
        )
        if published:
            await bus.emit(
                session,
                ids=runtime.ids,
                event=events.StoryPublished(event.story_id, event.author_id),
            )
        await runtime.commit(session)


async def _lost_write(runtime: Runtime, what: str, exc: Exception) -> None:
    # Every tray (and timeline) is rebuilt from the database at its next read.
    log.warning("tray_write_lost", what=what, error=str(exc))
    await runtime.generations.bump()


async def fan_out(ctx: JobContext, event: events.StoryPublished) -> None:
    """Put the author into their own tray and each active follower's (close friends only, for
    a close-friends story), in batches."""
    runtime = ctx.runtime
    async with runtime.db.session() as session:
        story = await session.get(Story, event.story_id)
    if story is None or story.expires_at is None:
        return
    score = stories_tray.epoch_ms(story.expires_at)
    try:
        await runtime.trays.push(story.author_id, score, [story.author_id])
        after = 0
        while True:
            async with runtime.db.session() as session:
                edges = await feeds_timeline.active_followers(
                    session,
                    runtime=runtime,
                    author_id=story.author_id,
                    after_edge=after,
                    limit=runtime.settings.feed_fanout_batch,
                )
                followers = [follower for _, follower in edges]
                if story.audience == Audience.CLOSE_FRIENDS and followers:
                    followers = list(
                        await session.scalars(
                            sa.select(CloseFriend.friend_id).where(
                                CloseFriend.owner_id == story.author_id,
                                CloseFriend.friend_id.in_(followers),
                            )
                        )
                    )
            if not edges:
                return
            await runtime.trays.push(story.author_id, score, followers)
            after = edges[-1][0]
    except TrayUnavailable as exc:
        await _lost_write(runtime, "fan_out", exc)


async def merge_author(runtime: Runtime, *, user_id: int, author_id: int) -> None:
    """The user may now see the author's stories (a follow, an unmute, a close-friends place):
    their live ones join the user's tray."""
    try:
        async with runtime.db.session() as session:
            entries = await stories_tray.live_authors(
                session, viewer_id=user_id, now=runtime.clock.now(), author_ids=[author_id]
            )
        for author, score in entries:
            await runtime.trays.push(author, score, [user_id])
    except TrayUnavailable as exc:
        await _lost_write(runtime, "merge", exc)


async def merge_followed(ctx: JobContext, event: social_events.FollowCreated) -> None:
    """A new follow: the followee's live stories join the follower's tray."""
    await merge_author(ctx.runtime, user_id=event.follower_id, author_id=event.followee_id)


async def merge_unmuted(ctx: JobContext, event: social_events.MuteRemoved) -> None:
    """An unmute: the account's live stories come back to the tray."""
    await merge_author(ctx.runtime, user_id=event.muter_id, author_id=event.muted_id)


async def merge_close_friend(ctx: JobContext, event: events.CloseFriendAdded) -> None:
    """A new close friend sees the owner's live close-friends stories in their tray."""
    await merge_author(ctx.runtime, user_id=event.friend_id, author_id=event.owner_id)


async def notify_reply(ctx: JobContext, event: events.StoryReplied) -> None:
    """The story's author hears of the reply (unless it waits as a message request)."""
    if event.to_request:
        return
    runtime = ctx.runtime
    async with runtime.db.session() as session:
        text = await stories_service.reply_text(session, message_id=event.message_id)
        if text is None:
            return  # unsent before this ran
        await notifications_service.record(
            session,
            ids=runtime.ids,
            kind="story_reply",
            actor_id=event.replier_id,
            recipient_id=event.author_id,
            post_id=None,
            comment_id=None,
            text=text,
            activity_id=event_id(ctx),
            group=f"story_reply:{event.message_id}",
        )
        await runtime.commit(session)


def _expired(now: dt.datetime) -> sa.ColumnElement[bool]:
    """SQL: no one can see the story any more (its 24 hours are over and no highlight keeps
    it), or it failed a day ago."""
    return sa.or_(
        sa.and_(Story.expires_at <= now, ~in_a_highlight()),
        sa.and_(Story.status == MediaStatus.FAILED, Story.created_at <= now - LIFETIME),
    )


async def clean_up_expired(runtime: Runtime) -> int:
    """Remove every story no one can see any more, with its media; how many."""
    now = runtime.clock.now()
    removed = 0
    while True:
        async with runtime.db.session() as session:
            stories = list(
                await session.scalars(
                    sa.select(Story).where(_expired(now)).order_by(Story.id).limit(CLEANUP_BATCH)
                )
            )
            for story in stories:
                await stories_service.remove(session, ids=runtime.ids, story=story)
            await runtime.commit(session)
        removed += len(stories)
        if len(stories) < CLEANUP_BATCH:
            return removed
