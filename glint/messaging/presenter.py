"""Turns conversations and messages into API shapes, a fixed number of queries per page."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from glint.accounts import service as accounts_service
from glint.accounts.models import User
from glint.accounts.schemas import UserSummary
from glint.errors import NotFound
from glint.infra.ids import created_at
from glint.media.lifecycle import MediaStatus
from glint.media.urls import MediaUrls
from glint.messaging import service as conversations
from glint.messaging.models import MemberState
from glint.messaging.schemas import ConversationOut, MessageOut, ReactionOut, ReadState
from glint.messaging.store import StoredMessage, store_for
from glint.posts import presenter as posts_presenter
from glint.posts import service as posts_service
from glint.posts.schemas import PostOut


async def _shared_posts(
    session: AsyncSession, *, viewer: User, urls: MediaUrls, post_ids: set[int]
) -> dict[int, PostOut]:
    """The shared posts this viewer may see; the others are simply absent (unavailable)."""
    visible = []
    for post_id in post_ids:
        try:
            visible.append(await posts_service.get_post(session, viewer=viewer, post_id=post_id))
        except NotFound:
            continue
    shaped = await posts_presenter.posts_out(session, posts=visible, viewer=viewer, urls=urls)
    return {post.id: post for post in shaped}


async def messages_out(
    session: AsyncSession, *, viewer: User, urls: MediaUrls, messages: Sequence[StoredMessage]
) -> list[MessageOut]:
    """Messages with senders, photos, reactions and shared posts as this viewer may see them."""
    if not messages:
        return []
    senders = await accounts_service.get_many(
        session, user_ids=[message.sender_id for message in messages]
    )
    reactions = await store_for(session).reactions(
        [message.id for message in messages], viewer_id=viewer.id
    )
    posts = await _shared_posts(
        session,
        viewer=viewer,
        urls=urls,
        post_ids={m.post_id for m in messages if m.post_id is not None},
    )
    result = []
    for message in messages:
        post = posts.get(message.post_id) if message.post_id is not None else None
        media = None
        if message.base_key and message.status == MediaStatus.PUBLISHED:
            media = posts_presenter.photo_out(
                urls,
                base_key=message.base_key,
                width=message.width,
                height=message.height,
                blurhash=message.blurhash,
                alt_text=None,
            )
        result.append(
            MessageOut(
                id=message.id,
                conversation_id=message.conversation_id,
                sender=UserSummary.of(senders[message.sender_id], urls=urls),
                kind=message.kind,
                text=message.text,
                media=media,
                story_id=message.story_id,
                post_id=message.post_id,
                post=post,
                post_unavailable=message.post_id is not None and post is None,
                client_id=message.client_id if message.sender_id == viewer.id else None,
                status=MediaStatus(message.status),
                reactions=[
                    ReactionOut(emoji=r.emoji, count=r.count, me=r.me)
                    for r in reactions.get(message.id, [])
                ],
                created_at=message.created_at,
            )
        )
    return result


async def conversations_out(
    session: AsyncSession,
    *,
    viewer: User,
    urls: MediaUrls,
    rows: Sequence[conversations.Membership],
) -> list[ConversationOut]:
    """Conversations with participants, last messages and read states."""
    ids = [row.conversation.id for row in rows]
    people = await conversations.active_people(session, conversation_ids=ids)
    states = await conversations.read_states(session, conversation_ids=ids)
    last = await store_for(session).get_many(
        [
            (row.conversation.id, row.conversation.last_message_id)
            for row in rows
            if row.conversation.last_message_id is not None
        ]
    )
    # A banned or deleted sender's last message is no preview for anyone else.
    gone = await conversations.gone_among(
        session, user_ids={m.sender_id for m in last.values() if m.sender_id != viewer.id}
    )
    last = {key: message for key, message in last.items() if message.sender_id not in gone}
    shaped = {
        message.id: message
        for message in await messages_out(
            session, viewer=viewer, urls=urls, messages=list(last.values())
        )
    }
    return [
        ConversationOut(
            id=row.conversation.id,
            participants=[
                UserSummary.of(person, urls=urls) for person in people[row.conversation.id]
            ],
            is_group=row.conversation.is_group,
            title=row.conversation.title,
            last_message=shaped.get(row.conversation.last_message_id or 0),
            unread_count=row.member.unread_count,
            muted=row.member.muted,
            is_request=row.member.state == MemberState.REQUEST,
            updated_at=created_at(row.member.activity_id),
            read_states=[
                ReadState(user_id=user_id, last_read_message_id=last_read)
                for user_id, last_read in states[row.conversation.id]
            ],
        )
        for row in rows
    ]
