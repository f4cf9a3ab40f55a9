"""Background work of accounts: retiring replaced profile photos."""

from __future__ import annotations

from glint.accounts import events
from glint.infra.queue import JobContext
from glint.media import service as media_service


async def remove_old_avatar(ctx: JobContext, event: events.AvatarReplaced) -> None:
    """A replaced profile photo's renditions leave storage."""
    await media_service.delete_objects(ctx.runtime.storage, keys=[], prefixes=[event.old_prefix])
