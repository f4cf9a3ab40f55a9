"""What one viewer receives for a stream event: checked against privacy, shaped, at delivery.

Events are stored as references; each is looked up again here, as the viewer may see it now.
A viewer who left the conversation, was blocked, or whose message was unsent meanwhile gets
nothing (None): a block closes the door for events already on their way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User
from glint.accounts.schemas import UserSummary
from glint.errors import NotFound
from glint.infra.db import utcnow
from glint.media.urls import MediaUrls
from glint.messaging import messages as messages_service
from glint.messaging import presenter as messaging_presenter
from glint.messaging import service as messaging_service
from glint.messaging.models import MemberState
from glint.notifications import presenter as notifications_presenter
from glint.notifications import service as notifications_service
from glint.posts import presenter as posts_presenter
from glint.posts import service as posts_service
from glint.realtime import service as realtime_service
from glint.social import service as social_service
from glint.stories import presenter as stories_presenter
from glint.stories import service as stories_service

Data = dict[str, Any]
Presenter = Callable[[AsyncSession, User, MediaUrls, dict[str, Any]], Awaitable[Data | None]]


def _int(refs: dict[str, Any], key: str) -> int:
    value = refs.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise NotFound()
    return value


async def _message(session: AsyncSession, viewer: User, urls: MediaUrls, refs: Data) -> Data | None:
    message = await messages_service.visible_message(
        session, viewer=viewer, message_id=_int(refs, "message_id")
    )
    (shaped,) = await messaging_presenter.messages_out(
        session, viewer=viewer, urls=urls, messages=[message]
    )
    return shaped.model_dump(mode="json")


async def _message_created(
    session: AsyncSession, viewer: User, urls: MediaUrls, refs: Data
) -> Data | None:
    data = await _message(session, viewer, urls, refs)
    if data is None:
        return None
    found = await messaging_service.membership(
        session, user=viewer, conversation_id=_int(refs, "conversation_id")
    )
    # Muted conversations and message requests still count unread, but make no noise.
    data["notify"] = (
        _int(refs, "sender_id") != viewer.id
        and not found.member.muted
        and found.member.state == MemberState.ACTIVE
    )
    return data


async def _in_conversation(
    session: AsyncSession, viewer: User, urls: MediaUrls, refs: Data
) -> Data | None:
    """Events about a conversation (unsend, read, typing) for someone present in it."""
    conversation_id = _int(refs, "conversation_id")
    await messaging_service.membership(session, user=viewer, conversation_id=conversation_id)
    data: Data = {"conversation_id": str(conversation_id)}
    if "message_id" in refs:
        data["message_id"] = str(_int(refs, "message_id"))
    if "user_id" in refs:
        actor_id = _int(refs, "user_id")
        if actor_id != viewer.id and await social_service.is_blocked_either_way(
            session, a=viewer.id, b=actor_id
        ):
            return None
        data["user_id"] = str(actor_id)
    return data


async def _typing(session: AsyncSession, viewer: User, urls: MediaUrls, refs: Data) -> Data | None:
    data = await _in_conversation(session, viewer, urls, refs)
    user = await session.get(User, _int(refs, "user_id"))
    if data is None or user is None or not user.is_active_account or user.id == viewer.id:
        return None
    data["user"] = UserSummary.of(user, urls=urls).model_dump(mode="json")
    data["expires_in"] = realtime_service.TYPING_SECONDS
    return data


async def _conversation(
    session: AsyncSession, viewer: User, urls: MediaUrls, refs: Data
) -> Data | None:
    found = await messaging_service.membership(
        session, user=viewer, conversation_id=_int(refs, "conversation_id")
    )
    (shaped,) = await messaging_presenter.conversations_out(
        session, viewer=viewer, urls=urls, rows=[found]
    )
    return shaped.model_dump(mode="json")


async def _notification(
    session: AsyncSession, viewer: User, urls: MediaUrls, refs: Data
) -> Data | None:
    shown = await notifications_service.get_one(
        session, user=viewer, notification_id=_int(refs, "notification_id")
    )
    if shown is None:
        return None
    return notifications_presenter.notification_out(shown, urls=urls).model_dump(mode="json")


async def _own_post(
    session: AsyncSession, viewer: User, urls: MediaUrls, refs: Data
) -> Data | None:
    post = await posts_service.get_post(session, viewer=viewer, post_id=_int(refs, "post_id"))
    if post.author_id != viewer.id:
        return None
    (shaped,) = await posts_presenter.posts_out(session, posts=[post], viewer=viewer, urls=urls)
    return shaped.model_dump(mode="json")


async def _own_story(
    session: AsyncSession, viewer: User, urls: MediaUrls, refs: Data
) -> Data | None:
    story, _ = await stories_service.visible_story(
        session, viewer=viewer, story_id=_int(refs, "story_id"), now=utcnow()
    )
    if story.author_id != viewer.id:
        return None
    (shaped,) = await stories_presenter.stories_out(
        session, stories=[story], viewer=viewer, urls=urls
    )
    return shaped.model_dump(mode="json")


PRESENTERS: dict[str, Presenter] = {
    "message.created": _message_created,
    "message.reaction": _message,
    "message.failed": _message,
    "message.deleted": _in_conversation,
    "conversation.read": _in_conversation,
    "conversation.updated": _conversation,
    "typing": _typing,
    "notification.created": _notification,
    "post.published": _own_post,
    "post.failed": _own_post,
    "story.published": _own_story,
    "story.failed": _own_story,
}


async def present(
    session: AsyncSession, *, viewer: User, urls: MediaUrls, payload: bytes
) -> tuple[str, dict[str, Any]] | None:
    """(type, data) of one stream event as this viewer may see it; None when they may not."""
    decoded = realtime_service.decode(payload)
    if decoded is None:
        return None
    kind, refs = decoded
    shape = PRESENTERS.get(kind)
    if shape is None:
        return None
    try:
        data = await shape(session, viewer, urls, refs)
    except NotFound:
        return None
    return (kind, data) if data is not None else None
