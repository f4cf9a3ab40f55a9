"""The rules of messages: sending (idempotent by client_id), photos, pages, unsend, reactions."""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts.models import User
from glint.errors import Forbidden, NotFound, Unavailable, ValidationFailed
from glint.infra.db import utcnow
from glint.infra.events import bus
from glint.infra.ids import IdGenerator
from glint.infra.storage import ObjectStore, StorageUnavailable
from glint.media import service as media_service
from glint.media.lifecycle import MediaStatus
from glint.messaging import events
from glint.messaging import service as conversations
from glint.messaging.models import (
    Conversation,
    ConversationMember,
    MemberState,
    Message,
    move_member,
)
from glint.messaging.schemas import MAX_TEXT
from glint.messaging.store import StoredMessage, store_for
from glint.posts import service as posts_service
from glint.social import service as social_service

NO_SUCH_MESSAGE = "No such message."


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What a sender asks to send: a kind and what that kind carries."""

    kind: str
    text: str | None = None
    post_id: int | None = None
    story_id: int | None = None
    photo: bytes | None = None
    client_id: str | None = None


def _check(outgoing: Outgoing) -> str | None:
    """The message's text as stored, or ValidationFailed for a body its kind does not take."""
    text = (outgoing.text or "").strip() or None
    if text is not None and len(text) > MAX_TEXT:
        raise ValidationFailed(f"At most {MAX_TEXT} characters.", fields={"text": "too long"})
    if outgoing.kind in ("text", "story_reply") and text is None:
        raise ValidationFailed("A message needs text.", fields={"text": "1 to 1000 characters"})
    if outgoing.kind == "heart" and text is not None:
        raise ValidationFailed("A heart carries no text.", fields={"text": "not with a heart"})
    if outgoing.kind == "post_share" and outgoing.post_id is None:
        raise ValidationFailed("Say which post to share.", fields={"post_id": "required"})
    if outgoing.kind != "post_share" and outgoing.post_id is not None:
        raise ValidationFailed("Only a post share names a post.", fields={"post_id": "not here"})
    if outgoing.kind == "image" and outgoing.photo is None:
        raise ValidationFailed("A photo message needs a photo.", fields={"image": "required"})
    return text


async def send(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    storage: ObjectStore,
    sender: User,
    conversation_id: int,
    outgoing: Outgoing,
) -> tuple[StoredMessage, bool]:
    """Send a message (flushed): (it, True), or (the earlier one, False) for a used client_id."""
    found = await conversations.membership(session, user=sender, conversation_id=conversation_id)
    text = _check(outgoing)
    store = store_for(session)
    if outgoing.client_id is not None:
        earlier = await store.by_client_id(
            found.conversation.id, sender_id=sender.id, client_id=outgoing.client_id
        )
        if earlier is not None:
            return earlier, False
    if outgoing.post_id is not None:
        await posts_service.get_post(session, viewer=sender, post_id=outgoing.post_id)
    message = StoredMessage(
        conversation_id=conversation_id,
        id=ids.next_id(),
        sender_id=sender.id,
        kind=outgoing.kind,
        created_at=utcnow(),
        text=text,
        post_id=outgoing.post_id,
        story_id=outgoing.story_id,
        client_id=outgoing.client_id,
        status=MediaStatus.PROCESSING if outgoing.photo is not None else MediaStatus.PUBLISHED,
    )
    if outgoing.photo is not None:
        message = await _with_stored_photo(storage, message, outgoing.photo)
    try:
        saved, created = await store.insert(message)
    except BaseException:
        await _forget_original(storage, message)
        raise
    if not created:  # a concurrent duplicate won the race: its message is the one
        await _forget_original(storage, message)
        return saved, False
    if saved.status == MediaStatus.PROCESSING:
        await bus.emit(
            session,
            ids=ids,
            event=events.MessagePhotoReceived(conversation_id, saved.id, sender.id),
        )
    else:
        await deliver(session, ids=ids, message=saved)
    await session.flush()
    return saved, True


async def _with_stored_photo(
    storage: ObjectStore, message: StoredMessage, data: bytes
) -> StoredMessage:
    """The message with its photo judged by content and its original stored privately."""
    info = media_service.probe_upload(data)
    key = media_service.original_key(media_service.KIND_MESSAGE, message.conversation_id, 0)
    try:
        await storage.put(key, data, content_type=info.mime)
    except StorageUnavailable as exc:
        raise Unavailable(
            "Media storage is unavailable; try again shortly.", headers={"Retry-After": "10"}
        ) from exc
    return dataclasses.replace(
        message,
        original_key=key,
        base_key=media_service.new_base_key(media_service.KIND_MESSAGE, message.conversation_id),
        width=info.width,
        height=info.height,
    )


async def _forget_original(storage: ObjectStore, message: StoredMessage) -> None:
    if message.original_key:
        with contextlib.suppress(StorageUnavailable):
            await storage.delete_many([message.original_key])


async def deliver(session: AsyncSession, *, ids: IdGenerator, message: StoredMessage) -> None:
    """A message becomes everyone's: the inbox order, unread counts, and its event.

    The sender has read their own message, and answering a request accepts it.
    """
    await session.execute(
        sa.update(Conversation)
        .where(Conversation.id == message.conversation_id)
        .values(
            last_message_id=sa.case(
                (Conversation.last_message_id > message.id, Conversation.last_message_id),
                else_=message.id,
            )
        )
    )
    members = sa.and_(
        ConversationMember.conversation_id == message.conversation_id,
        ConversationMember.state != MemberState.LEFT,
    )
    await session.execute(
        sa.update(ConversationMember)
        .where(members, ConversationMember.activity_id < message.id)
        .values(activity_id=message.id)
    )
    await session.execute(
        sa.update(ConversationMember)
        .where(
            members,
            ConversationMember.user_id != message.sender_id,
            ConversationMember.joined_after_id < message.id,
        )
        .values(unread_count=ConversationMember.unread_count + 1)
    )
    await session.execute(
        sa.update(ConversationMember)
        .where(members, ConversationMember.user_id == message.sender_id)
        .values(
            last_read_message_id=sa.func.coalesce(
                sa.case(
                    (
                        ConversationMember.last_read_message_id > message.id,
                        ConversationMember.last_read_message_id,
                    ),
                    else_=message.id,
                ),
                message.id,
            )
        )
    )
    await move_member(
        session,
        conversation_id=message.conversation_id,
        user_id=message.sender_id,
        to=MemberState.ACTIVE,
    )
    await bus.emit(
        session,
        ids=ids,
        event=events.MessageSent(message.conversation_id, message.id, message.sender_id),
    )


async def page(
    session: AsyncSession, *, viewer: User, conversation_id: int, before_id: int | None, limit: int
) -> list[StoredMessage]:
    """A page of a conversation, newest first (limit+1 rows so the caller can page).

    Messages sent before the viewer joined, and those of people blocked either way or banned
    or deleted, are left out; a photo still processing shows only to its sender.
    """
    found = await conversations.membership(session, user=viewer, conversation_id=conversation_id)
    members = await conversations.member_ids(session, conversation_id=conversation_id)
    others = [m for m in members if m != viewer.id]
    hidden = await social_service.blocked_either_way_among(
        session, user_id=viewer.id, others=others
    ) | await conversations.gone_among(session, user_ids=others)
    return await store_for(session).page(
        conversation_id,
        viewer_id=viewer.id,
        after_id=found.member.joined_after_id,
        before_id=before_id,
        limit=limit + 1,
        hidden_senders=hidden,
    )


async def visible_message(session: AsyncSession, *, viewer: User, message_id: int) -> StoredMessage:
    """A message the viewer may see in a conversation they are in; NotFound otherwise."""
    message = await store_for(session).find(message_id)
    if message is None:
        raise NotFound(NO_SUCH_MESSAGE)
    found = await conversations.membership(
        session, user=viewer, conversation_id=message.conversation_id
    )
    hidden = message.sender_id != viewer.id and (
        not message.is_published
        or message.id <= found.member.joined_after_id
        or await social_service.is_blocked_either_way(session, a=viewer.id, b=message.sender_id)
        or bool(await conversations.gone_among(session, user_ids=[message.sender_id]))
    )
    if hidden:
        raise NotFound(NO_SUCH_MESSAGE)
    return message


async def unsend(session: AsyncSession, *, ids: IdGenerator, user: User, message_id: int) -> None:
    """The sender removes a message for everyone; counts and the inbox follow."""
    message = await visible_message(session, viewer=user, message_id=message_id)
    if message.sender_id != user.id:
        raise Forbidden("Only its sender can unsend a message.")
    await remove_message(session, ids=ids, message=message)


async def remove_message(
    session: AsyncSession, *, ids: IdGenerator, message: StoredMessage
) -> None:
    """A message goes for everyone (its sender unsent it, or a moderator took it down)."""
    store = store_for(session)
    if await store.delete(message.conversation_id, message.id) is None:
        return
    await _recount(session, conversation_id=message.conversation_id)
    await bus.emit(
        session,
        ids=ids,
        event=events.MessageUnsent(
            message.conversation_id,
            message.id,
            message.sender_id,
            [message.original_key] if message.original_key else [],
            [message.base_key + "/"] if message.base_key else [],
        ),
    )
    await session.flush()


async def _recount(session: AsyncSession, *, conversation_id: int) -> None:
    """After a message went away: the newest message and each member's unread count anew."""
    store = store_for(session)
    newest = await store.newest_published_id(conversation_id)
    await session.execute(
        sa.update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(last_message_id=newest)
    )
    rows = await session.execute(
        sa.select(
            ConversationMember.user_id,
            ConversationMember.last_read_message_id,
            ConversationMember.joined_after_id,
        ).where(ConversationMember.conversation_id == conversation_id)
    )
    for user_id, last_read, joined_after in rows.all():
        unread = await store.count_unread(
            conversation_id, reader_id=user_id, after_id=max(last_read or 0, joined_after)
        )
        await session.execute(
            sa.update(ConversationMember)
            .where(
                ConversationMember.conversation_id == conversation_id,
                ConversationMember.user_id == user_id,
            )
            .values(unread_count=unread)
        )


async def react(
    session: AsyncSession, *, ids: IdGenerator, user: User, message_id: int, emoji: str | None
) -> StoredMessage:
    """Set, replace or (with None) remove the user's reaction to a message."""
    message = await visible_message(session, viewer=user, message_id=message_id)
    if not message.is_published:
        raise NotFound(NO_SUCH_MESSAGE)
    await store_for(session).react(message, user_id=user.id, emoji=emoji)
    await bus.emit(
        session,
        ids=ids,
        event=events.MessageReacted(message.conversation_id, message.id, user.id),
    )
    await session.flush()
    return message


async def photo_processed(
    session: AsyncSession,
    *,
    ids: IdGenerator,
    conversation_id: int,
    message_id: int,
    width: int,
    height: int,
    blurhash: str,
) -> bool:
    """A photo message's renditions exist: it is sent (once; False when gone or done)."""
    store = store_for(session)
    moved = await store.update(
        conversation_id,
        message_id,
        expect_status=MediaStatus.PROCESSING,
        status=MediaStatus.PUBLISHED,
        width=width,
        height=height,
        blurhash=blurhash,
        failure_reason=None,
    )
    message = await store.get(conversation_id, message_id) if moved else None
    if message is None:
        return False
    await deliver(session, ids=ids, message=message)
    return True


async def photo_failed(
    session: AsyncSession, *, ids: IdGenerator, conversation_id: int, message_id: int, reason: str
) -> None:
    """A photo message could not be processed: it stays, failed, for its sender alone."""
    store = store_for(session)
    moved = await store.update(
        conversation_id,
        message_id,
        expect_status=MediaStatus.PROCESSING,
        status=MediaStatus.FAILED,
        failure_reason=reason[:500],
    )
    message = await store.get(conversation_id, message_id) if moved else None
    if message is not None:
        await bus.emit(
            session,
            ids=ids,
            event=events.MessageFailed(conversation_id, message_id, message.sender_id),
        )


async def check_photo_access(session: AsyncSession, *, viewer: User | None, base_key: str) -> None:
    """NotFound unless the viewer may see the message this photo belongs to."""
    message_id = await session.scalar(sa.select(Message.id).where(Message.base_key == base_key))
    if viewer is None or message_id is None:
        raise NotFound()
    await visible_message(session, viewer=viewer, message_id=message_id)
