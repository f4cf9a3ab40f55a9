"""Publishing stream events: stored ones (kept for reconnects) and ephemeral ones (typing).

A stream event is stored as a reference (`{"type", "refs"}`), never as its presented data: what a
viewer receives is shaped, and checked against privacy, when it is delivered
(`glint.realtime.presenter`), so a block or an unsend takes effect even for events already queued.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User
from glint.infra.eventlog import EventLog
from glint.infra.hub import Hub
from glint.messaging import service as messaging_service

TYPING_SECONDS = 5
STORED_TYPES = frozenset(
    {
        "message.created",
        "message.deleted",
        "message.reaction",
        "message.failed",
        "conversation.read",
        "conversation.updated",
        "notification.created",
        "post.published",
        "post.failed",
        "story.published",
        "story.failed",
    }
)
EPHEMERAL_TYPES = frozenset({"typing"})


def encode(kind: str, refs: dict[str, Any]) -> bytes:
    """The stored form of a stream event."""
    return orjson.dumps({"type": kind, "refs": refs})


def decode(payload: bytes) -> tuple[str, dict[str, Any]] | None:
    """(type, refs) of a stored or ephemeral event; None for anything malformed."""
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    kind, refs = value.get("type"), value.get("refs")
    if kind not in STORED_TYPES | EPHEMERAL_TYPES or not isinstance(refs, dict):
        return None
    return kind, refs


async def publish(
    *, log: EventLog, hub: Hub, user_ids: Iterable[int], kind: str, refs: dict[str, Any]
) -> None:
    """Keep an event in each recipient's window, then wake their connections everywhere."""
    if kind not in STORED_TYPES:
        raise ValueError(f"{kind!r} is not a stored stream event")
    recipients = sorted(set(user_ids))
    if not recipients:
        return
    payload = encode(kind, refs)
    await log.append_many(recipients, payload)
    await hub.wake(recipients)


async def typing(session: AsyncSession, *, hub: Hub, user: User, conversation_id: int) -> None:
    """Tell a conversation's other members that the user is typing (never stored)."""
    await messaging_service.membership(session, user=user, conversation_id=conversation_id)
    members = await messaging_service.member_ids(session, conversation_id=conversation_id)
    others = [member for member in members if member != user.id]
    if others:
        await hub.signal(
            others,
            encode("typing", {"conversation_id": conversation_id, "user_id": user.id}),
        )
