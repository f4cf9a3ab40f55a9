"""Stream subscribers: each turns one domain event into a stream event for the people it concerns.

They run promptly (in the process that committed the event, right after its commit), so a
message reaches the other devices as the sender's request returns; a worker takes over if
that process dies. Who may finally see what is decided at delivery (`presenter`).
"""

from __future__ import annotations

from typing import Any

from glint.accounts import events as accounts_events
from glint.infra.queue import JobContext
from glint.messaging import events as messaging_events
from glint.messaging import service as messaging_service
from glint.notifications import events as notifications_events
from glint.posts import events as posts_events
from glint.realtime import service as realtime_service
from glint.stories import events as stories_events


async def _to_users(ctx: JobContext, user_ids: list[int], kind: str, refs: dict[str, Any]) -> None:
    runtime = ctx.runtime
    await realtime_service.publish(
        log=runtime.eventlog, hub=runtime.hub, user_ids=user_ids, kind=kind, refs=refs
    )


async def _to_members(
    ctx: JobContext, conversation_id: int, kind: str, refs: dict[str, Any]
) -> None:
    async with ctx.runtime.db.session() as session:
        members = await messaging_service.member_ids(session, conversation_id=conversation_id)
    await _to_users(ctx, members, kind, {"conversation_id": conversation_id, **refs})


async def message_sent(ctx: JobContext, event: messaging_events.MessageSent) -> None:
    """Every device of every member (the sender's other devices too) gets the message."""
    await _to_members(
        ctx,
        event.conversation_id,
        "message.created",
        {"message_id": event.message_id, "sender_id": event.sender_id},
    )


async def message_failed(ctx: JobContext, event: messaging_events.MessageFailed) -> None:
    """The sender's devices learn their photo could not be sent."""
    refs = {"conversation_id": event.conversation_id, "message_id": event.message_id}
    await _to_users(ctx, [event.sender_id], "message.failed", refs)


async def message_unsent(ctx: JobContext, event: messaging_events.MessageUnsent) -> None:
    """The message disappears from every open thread."""
    await _to_members(
        ctx, event.conversation_id, "message.deleted", {"message_id": event.message_id}
    )


async def message_reacted(ctx: JobContext, event: messaging_events.MessageReacted) -> None:
    """Reactions change on every open thread."""
    await _to_members(
        ctx,
        event.conversation_id,
        "message.reaction",
        {"message_id": event.message_id, "user_id": event.user_id},
    )


async def conversation_read(ctx: JobContext, event: messaging_events.ConversationRead) -> None:
    """ "Seen" moves on every open thread (and the reader's other devices clear their badge)."""
    await _to_members(
        ctx,
        event.conversation_id,
        "conversation.read",
        {"message_id": event.message_id, "user_id": event.user_id},
    )


async def members_changed(ctx: JobContext, event: messaging_events.MembersChanged) -> None:
    """Whoever is in the group now sees its new shape."""
    await _to_members(ctx, event.conversation_id, "conversation.updated", {})


async def notification_recorded(
    ctx: JobContext, event: notifications_events.NotificationRecorded
) -> None:
    """The recipient's devices show the notification (and their badge) at once."""
    refs = {"notification_id": event.notification_id}
    await _to_users(ctx, [event.user_id], "notification.created", refs)


async def post_published(ctx: JobContext, event: posts_events.PostPublished) -> None:
    """The author's "processing" post turns into the published one, without polling."""
    await _to_users(ctx, [event.author_id], "post.published", {"post_id": event.post_id})


async def post_failed(ctx: JobContext, event: posts_events.PostFailed) -> None:
    """The author learns their post could not be processed, and why."""
    await _to_users(ctx, [event.author_id], "post.failed", {"post_id": event.post_id})


async def story_published(ctx: JobContext, event: stories_events.StoryPublished) -> None:
    """The author's story is live: their devices show it without polling."""
    await _to_users(ctx, [event.author_id], "story.published", {"story_id": event.story_id})


async def story_failed(ctx: JobContext, event: stories_events.StoryFailed) -> None:
    """The author learns their story could not be processed, and why."""
    await _to_users(ctx, [event.author_id], "story.failed", {"story_id": event.story_id})


async def sessions_revoked(ctx: JobContext, event: accounts_events.SessionsRevoked) -> None:
    """A signed-out device's sockets close at once, on whichever server holds them."""
    await ctx.runtime.hub.close_sessions(event.session_ids)
