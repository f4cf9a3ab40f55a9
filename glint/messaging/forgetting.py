"""An account that is going away leaves direct messages: every message it sent goes for
everyone (as its unsend would: photos leave storage, counts and inboxes follow), and it leaves
every conversation. The others keep their conversations and their own messages; one that
nobody else is in any more goes with its photos."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from glint.infra.events import bus
from glint.infra.ids import IdGenerator
from glint.infra.storage import ObjectStore
from glint.media import service as media_service
from glint.messaging import events
from glint.messaging import messages as messages_service
from glint.messaging.models import Conversation, ConversationMember, Message
from glint.messaging.store import store_for


async def unsend_all_of(
    session: AsyncSession, *, ids: IdGenerator, sender_id: int, limit: int
) -> bool:
    """Remove a batch of the messages the account sent; True when more may remain."""
    message_ids = list(
        await session.scalars(
            sa.select(Message.id).where(Message.sender_id == sender_id).limit(limit)
        )
    )
    store = store_for(session)
    for message_id in message_ids:
        message = await store.find(message_id)
        if message is not None:
            await messages_service.remove_message(session, ids=ids, message=message)
    await session.flush()
    return len(message_ids) == limit


def conversation_prefixes(conversation_id: int) -> list[str]:
    """Every folder a conversation's photos live in: renditions and originals."""
    kind = media_service.KIND_MESSAGE
    return [f"{kind}/{conversation_id}/", f"originals/{kind}/{conversation_id}/"]


async def leave_conversations(
    session: AsyncSession, *, ids: IdGenerator, storage: ObjectStore, user_id: int
) -> None:
    """The account leaves every conversation; those it started pass to someone still in them
    (their creator's row would otherwise take them along), and empty ones are removed."""
    joined = (
        await session.execute(
            sa.select(Conversation.id, Conversation.is_group)
            .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
            .where(ConversationMember.user_id == user_id)
        )
    ).all()
    groups = [conversation_id for conversation_id, is_group in joined if is_group]
    # A 1:1's key names both people; the one who stays keeps the conversation, not the key.
    await session.execute(
        sa.update(Conversation)
        .where(Conversation.id.in_([cid for cid, is_group in joined if not is_group]))
        .values(direct_key=None)
    )
    started = list(
        await session.scalars(sa.select(Conversation.id).where(Conversation.created_by == user_id))
    )
    for conversation_id in started:
        heir = await session.scalar(
            sa.select(ConversationMember.user_id)
            .where(
                ConversationMember.conversation_id == conversation_id,
                ConversationMember.user_id != user_id,
            )
            .order_by(ConversationMember.state, ConversationMember.user_id)
            .limit(1)
        )
        if heir is None:
            await session.execute(sa.delete(Conversation).where(Conversation.id == conversation_id))
            await media_service.delete_objects(
                storage, keys=[], prefixes=conversation_prefixes(conversation_id)
            )
            continue
        await session.execute(
            sa.update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(created_by=heir)
        )
    await session.execute(
        sa.delete(ConversationMember).where(ConversationMember.user_id == user_id)
    )
    for conversation_id in groups:
        await bus.emit(session, ids=ids, event=events.MembersChanged(conversation_id, user_id))
    await session.flush()
