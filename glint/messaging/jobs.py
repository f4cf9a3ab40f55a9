"""Background work of messages: processing a photo message (unsent photos go by `media.jobs`).

Each handler is a subscriber of one message event; `glint.wiring` says which.
"""

from __future__ import annotations

from glint.infra.logging import get_logger
from glint.infra.queue import JobContext
from glint.infra.storage import ObjectNotFound
from glint.media import imaging
from glint.media import service as media_service
from glint.media.lifecycle import MediaStatus
from glint.messaging import events
from glint.messaging import messages as messages_service
from glint.messaging.store import store_for

log = get_logger(__name__)


async def _fail(ctx: JobContext, event: events.MessagePhotoReceived, reason: str) -> None:
    async with ctx.runtime.db.session() as session:
        await messages_service.photo_failed(
            session,
            ids=ctx.runtime.ids,
            conversation_id=event.conversation_id,
            message_id=event.message_id,
            reason=reason,
        )
        await ctx.runtime.commit(session)
    log.warning("message_photo_failed", message_id=event.message_id, reason=reason)


async def process_photo(ctx: JobContext, event: events.MessagePhotoReceived) -> None:
    """Render a photo message's renditions, then send it. Safe to run twice."""
    runtime = ctx.runtime
    async with runtime.db.session() as session:
        message = await store_for(session).get(event.conversation_id, event.message_id)
    if message is None or message.status != MediaStatus.PROCESSING:
        return  # unsent meanwhile, or finished by an earlier run
    if message.original_key is None or message.base_key is None:
        await _fail(ctx, event, "The message has no photo.")
        return
    try:
        result = await media_service.render_original(
            runtime.storage,
            runtime.cpu,
            original_key=message.original_key,
            base_key=message.base_key,
            filter_name="none",
        )
    except ObjectNotFound:
        await _fail(ctx, event, "The uploaded original is missing.")
        return
    except imaging.ImageRejected as exc:
        await _fail(ctx, event, exc.message)
        return
    async with runtime.db.session() as session:
        await messages_service.photo_processed(
            session,
            ids=runtime.ids,
            conversation_id=event.conversation_id,
            message_id=event.message_id,
            width=result.width,
            height=result.height,
            blurhash=result.blurhash,
        )
        await runtime.commit(session)


async def photo_not_processed(
    ctx: JobContext, event: events.MessagePhotoReceived, error: str
) -> None:
    """The pipeline ran out of tries: the message fails, with the reason."""
    await _fail(ctx, event, f"Processing failed after retries: {error}")
